#!/usr/bin/env bash
# The static checks CI runs as ctest's lint.format and lint.tidy, by hand:
# clang-format (.clang-format) over every C++ file, then clang-tidy (bug
# patterns, performance, thread safety: .clang-tidy) on the library and the CLI
# over the release build's compile_commands.json (scripts/tidy.sh).
#
#   bash scripts/lint.sh [BUILD_DIR]     (default build/release; configured here if missing)
#
# Exit status 1 when clang-tidy or clang-format reports anything; the counts per
# check are printed last.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
cd "$root"
if [ ! -f "$build/compile_commands.json" ]; then
  cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null
  cmake --build "$build" -j "$(nproc)" >/dev/null  # generated headers
fi
status=0
git ls-files '*.cpp' '*.hpp' '*.h' '*.cu' '*.cuh' | xargs clang-format-14 --dry-run --Werror 2>/dev/null || {
  echo "clang-format: files differ from .clang-format (run: git ls-files '*.cpp' '*.hpp' | xargs clang-format-14 -i)"
  status=1
}
bash "$root/scripts/tidy.sh" "$build" || status=1
exit $status
