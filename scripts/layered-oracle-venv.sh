#!/usr/bin/env bash
# Sourced by the install-*-oracle.sh scripts whose oracle runs on the torch
# oracle's packages: layered_oracle_venv NAME PINS INSTALL makes (once per pin
# list) a venv NAME in the model cache that sees venv-torch's packages
# through a .pth file, runs `INSTALL VENV_PYTHON PINS` in it, and prints the
# venv's python.
layered_oracle_venv() {
  local name=$1 pins=$2 install=$3
  local here cache torch_python venv stamp site
  here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
  cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
  torch_python=$(bash "$here/install-torch-oracle.sh")
  venv=$cache/$name
  stamp=$venv/.installed-$(sha256sum "$pins" | cut -c1-16)
  if [ ! -f "$stamp" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
    "$torch_python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' > "$site/venv-torch.pth"
    "$install" "$venv/bin/python" "$pins"
    touch "$stamp"
  fi
  echo "$venv/bin/python"
}
