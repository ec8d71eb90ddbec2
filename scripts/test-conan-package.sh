#!/usr/bin/env bash
# `conan create conan/` with conan 2 from PyPI (a venv in the project cache):
# builds libquant as a conan package from this checkout and runs
# conan/test_package against it. About 1.5 minutes on two cores; not part of
# .ci/run (CI time), run it when the recipe or the install rules change.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
venv=$cache/venv-conan
if [ ! -x "$venv/bin/conan" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install -q --disable-pip-version-check "conan>=2,<3"
fi
export PATH=$venv/bin:$PATH
conan profile detect --exist-ok >/dev/null
# -nr: everything comes from the system (the recipe checks it through apt), nothing from a remote.
conan create "$root/conan" -nr -s compiler.cppstd=gnu20 --build=missing "$@"
