#!/usr/bin/env bash
# The GPU run, for a machine with an NVIDIA GPU (one prepared script, as the
# device tool wants): builds the cuda preset (libquant + the libquant_cuda
# plugin it finds beside itself) and runs the tests that touch the GPU with
# LIBQUANT_REQUIRE_GPU=1, so that a missing plugin or device fails instead of
# being skipped. `--all` runs the whole suite the same way.
# Dependencies must already be installed (scripts/install-deps.sh; the GPU
# machine may have no network).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
jobs=$(nproc)
nvidia-smi -L || { echo "no NVIDIA GPU visible" >&2; exit 1; }
cmake --preset cuda -G Ninja >/dev/null
cmake --build --preset cuda -j "$jobs"
export LIBQUANT_REQUIRE_GPU=1
if [ "${1:-}" = "--all" ]; then
  ctest --preset cuda -j "$jobs"
else
  # The backend conformance tests on both backends, the CUDA-only pass, and the CLI device tests.
  ctest --preset cuda -j "$jobs" -R '^(backend |gpu\.backend$|integration\.device$)'
fi
