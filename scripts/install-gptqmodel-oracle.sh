#!/usr/bin/env bash
# Installs GPTQModel (scripts/requirements-gptqmodel.txt, every version pinned)
# into its own venv in the model cache, layered over the torch oracle venv
# (install-torch-oracle.sh) through a .pth file. GPTQModel ships an sdist
# only: it is built without CUDA kernels and without build isolation (its
# pyproject needs setuptools >= 77, installed first). Rebuilt when the pin
# list changes; prints the venv's python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
pins=$here/requirements-gptqmodel.txt
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
torch_python=$(bash "$here/install-torch-oracle.sh")
venv=$cache/venv-gptqmodel
stamp=$venv/.installed-$(sha256sum "$pins" | cut -c1-16)
if [ ! -f "$stamp" ]; then
  rm -rf "$venv"
  python3 -m venv "$venv"
  site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
  "$torch_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/venv-torch.pth"
  pip=("$venv/bin/python" -m pip install -q --disable-pip-version-check --no-deps)
  "${pip[@]}" setuptools==84.2.1 wheel==0.48.0
  grep -v '^gptqmodel' "$pins" > "$venv/requirements-deps.txt"
  "${pip[@]}" -r "$venv/requirements-deps.txt"
  BUILD_CUDA_EXT=0 "${pip[@]}" --no-build-isolation --no-binary gptqmodel "$(grep '^gptqmodel' "$pins")"
  "$venv/bin/python" -c 'import gptqmodel, optimum' >&2
  touch "$stamp"
fi
echo "$venv/bin/python"
