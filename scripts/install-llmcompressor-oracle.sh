#!/usr/bin/env bash
# Installs llm-compressor (scripts/requirements-llmcompressor.txt, every version
# pinned) into its own venv in the model cache, layered over the torch oracle
# venv (install-torch-oracle.sh) through a .pth file, so its own packages (the
# compressed-tensors it pins) come first and torch/transformers are shared.
# Rebuilt when the pin list changes; prints the venv's python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/layered-oracle-venv.sh"

install_llmcompressor() {
  "$1" -m pip install -q --disable-pip-version-check --no-deps -r "$2"
  "$1" -c 'import llmcompressor.modifiers.quantization, llmcompressor.modifiers.awq, datasets' >&2
}
layered_oracle_venv venv-llmcompressor "$here/requirements-llmcompressor.txt" install_llmcompressor
