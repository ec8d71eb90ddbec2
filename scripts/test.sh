#!/usr/bin/env bash
# Installs dependencies, builds and runs the whole test suite: the ASan/UBSan
# build (unit, integration and bounded fuzzing) first, then the dev build with
# every test; the last lines are CTest's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
jobs=$(nproc)

cmake --preset asan -G Ninja >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"

cmake --preset dev -G Ninja >/dev/null
cmake --build --preset dev -j "$jobs"
ctest --preset dev -j "$jobs"
