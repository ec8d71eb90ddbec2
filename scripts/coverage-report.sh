#!/usr/bin/env bash
# Line and branch coverage of libquant/src from the gcov counters that a
# LIBQUANT_COVERAGE build's test runs left behind (CI: the ASan build, after its
# unit, integration, compat and fuzz tests). Prints gcovr's totals and writes the
# per-file table to BUILD_DIR/coverage.txt.
#
#   bash scripts/coverage-report.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: coverage-report.sh BUILD_DIR}" && pwd)
compiler=$(sed -n 's/^CMAKE_CXX_COMPILER:[A-Z]*=//p' "$build/CMakeCache.txt")
gcov=gcov
figures="lines|functions|branches"
case "$(basename "$compiler")" in
  clang*)
    gcov="llvm-cov-$("$compiler" -dumpversion | cut -d. -f1) gcov"  # clang's counters need its own reader
    # clang's gcov counters count every edge of the optimised control flow
    # (unwinding, inlined library code) as a branch: no figure of the code's
    # decisions. scripts/coverage.sh (GCC) gives that one.
    figures="lines|functions" ;;
esac
# Branches the compiler adds for exception unwinding are not decisions of the code: left out.
gcovr --root "$root" --object-directory "$build" --gcov-executable "$gcov" --filter "$root/libquant/src/" \
  --exclude-throw-branches --exclude-unreachable-branches --print-summary --txt "$build/coverage.txt" |
  grep -E "^($figures):" | sed 's/^/coverage of libquant\/src: /'
