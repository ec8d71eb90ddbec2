#!/usr/bin/env bash
# The Python package as a user gets it: builds the wheel from this checkout
# (`pip wheel .`: scikit-build-core + nanobind, against the system libraries),
# installs it in a fresh venv and runs tests/python against the installed copy
# (docs/python.md's snippets and examples/torch_fake_quant.py included).
#
#   scripts/test-python-package.sh WORK_DIR SHARED_DIR LLM_QUANTIZE [PYTEST_ARGS...]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$1/python-package
shared=$(realpath "$2")
cli=$(realpath "$3")
shift 3

rm -rf "$work"
mkdir -p "$work"
# The build folder (pyproject.toml's build-dir) persists, so a rerun only rebuilds what changed.
pins=$root/scripts/requirements-python-package.txt
PIP_CONSTRAINT=$pins python3 -m pip wheel "$root" --no-deps --disable-pip-version-check -q -w "$work/wheelhouse"
python3 -m venv "$work/venv"
"$work/venv/bin/python" -m pip install -q --disable-pip-version-check -c "$pins" "$work"/wheelhouse/libquant-*.whl \
  pytest
# torch for the PyTorch example (the cached oracle venv; empty when it cannot be set up).
torch_python=$(bash "$root/scripts/install-torch-oracle.sh" 2>/dev/null | tail -n1 || true)

cd "$work"  # not the checkout: `import libquant` must find the installed package
exec "$work/venv/bin/python" -m pytest -q -p no:cacheprovider --durations=5 "$root/tests/python" \
  --shared="$shared" --llm-quantize="$cli" --torch-python="$torch_python" "$@"
