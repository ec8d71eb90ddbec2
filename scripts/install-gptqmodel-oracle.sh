#!/usr/bin/env bash
# Installs GPTQModel (scripts/requirements-gptqmodel.txt, every version pinned)
# into its own venv in the model cache, layered over the torch oracle venv
# (install-torch-oracle.sh) through a .pth file. GPTQModel ships an sdist
# only: it is built without CUDA kernels and without build isolation (its
# pyproject needs setuptools >= 77, installed first). Rebuilt when the pin
# list changes; prints the venv's python.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/layered-oracle-venv.sh"

install_gptqmodel() {
  local pip=("$1" -m pip install -q --disable-pip-version-check --no-deps)
  "${pip[@]}" setuptools==84.2.1 wheel==0.48.0
  "${pip[@]}" -r <(grep -v '^gptqmodel' "$2")
  BUILD_CUDA_EXT=0 "${pip[@]}" --no-build-isolation --no-binary gptqmodel "$(grep '^gptqmodel' "$2")"
  "$1" -c 'import gptqmodel, optimum' >/dev/null 2>&1
}
layered_oracle_venv venv-gptqmodel "$here/requirements-gptqmodel.txt" install_gptqmodel
