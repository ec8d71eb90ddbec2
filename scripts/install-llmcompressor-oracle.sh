#!/usr/bin/env bash
# Installs llm-compressor (scripts/requirements-llmcompressor.txt, every version
# pinned) into its own venv in the model cache, layered over the torch oracle
# venv (install-torch-oracle.sh) through a .pth file, so its own packages (the
# compressed-tensors it pins) come first and torch/transformers are shared.
# Rebuilt when the pin list changes; prints the venv's python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pins=$here/requirements-llmcompressor.txt
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
torch_python=$(bash "$here/install-torch-oracle.sh")
venv=$cache/venv-llmcompressor
stamp=$venv/.installed-$(sha256sum "$pins" | cut -c1-16)
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  "$torch_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/venv-torch.pth"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps -r "$pins"
  "$venv/bin/python" -c 'import llmcompressor.modifiers.quantization, llmcompressor.modifiers.awq, datasets' >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
