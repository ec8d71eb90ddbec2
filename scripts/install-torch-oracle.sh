#!/usr/bin/env bash
# Installs the PyTorch test oracle (torch, transformers, compressed-tensors from
# PyPI, every version pinned in requirements-torch.txt) into its own virtual
# environment in the model cache, which CI reuses between runs. The venv is
# rebuilt when the pin list changes. Only tests/compat uses it, to read our
# W8A8 checkpoints with the reference stack, and to run llama.cpp's
# convert_hf_to_gguf.py (requirements-converter.txt: sentencepiece); the
# library never does.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pins=$here/requirements-torch.txt
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
venv=$cache/venv-torch
extra=$here/requirements-converter.txt
stamp=$venv/.installed-$(sha256sum "$pins" | cut -c1-16)
extra_stamp=$venv/.converter-$(sha256sum "$extra" | cut -c1-16)
if [ ! -f "$stamp" ]; then
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$pins"
  "$venv/bin/python" -m pip check >&2
  touch "$stamp"
fi
# What llama.cpp's converter needs beyond the oracle (added without rebuilding the venv).
if [ ! -f "$extra_stamp" ]; then
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$extra"
  touch "$extra_stamp"
fi
echo "$venv/bin/python"
