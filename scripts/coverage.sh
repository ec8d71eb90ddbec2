#!/usr/bin/env bash
# Line and branch coverage of libquant/src by the unit and integration tests
# (gcc --coverage, gcovr), outside CI's time budget: the instrumented build and
# the two suites take about as long as CI itself.
#
#   bash scripts/coverage.sh [CTEST LABEL REGEX]   (default "unit|integration|lint")
#
# Prints gcovr's per-file table and the totals; writes build/coverage/coverage.txt.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build/coverage
labels=${1:-unit|integration|lint}
cd "$root"
# -O1: at -O0 the whole-text perplexity and imatrix tests run past their timeouts.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="--coverage -O1" \
  -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage >/dev/null
cmake --build "$build" -j "$(nproc)"
find "$build" -name '*.gcda' -delete  # counts of this run only
# A failing or timed-out test still leaves the counts of everything that ran: report them anyway.
ctest --test-dir "$build" -L "$labels" -j "$(nproc)" --timeout 3600 --output-on-failure >"$build/ctest.log" 2>&1 ||
  echo "some tests failed (see $build/ctest.log); coverage of what ran:"
tail -n 3 "$build/ctest.log"
bash "$root/scripts/coverage-report.sh" "$build"
