#!/usr/bin/env bash
# Installs the PyTorch test oracle (torch, transformers, compressed-tensors from
# PyPI) into its own virtual environment in the model cache, which CI reuses
# between runs. Only tests/compat uses it, to read our W8A8 checkpoints with
# the reference stack; the library never does. Idempotent.
set -euo pipefail
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
venv=$cache/venv-torch
stamp=$venv/.installed-v1
if [ -f "$stamp" ]; then echo "$venv/bin/python"; exit 0; fi
mkdir -p "$cache"
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/python" -m pip install -q --disable-pip-version-check \
  torch transformers compressed-tensors safetensors numpy
touch "$stamp"
echo "$venv/bin/python"
