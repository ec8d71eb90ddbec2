#!/usr/bin/env bash
# Static checks outside CI's time budget: clang-tidy (bug patterns, performance,
# thread safety: .clang-tidy) on the library and the CLI, over the release
# build's compile_commands.json. The formatting check (.clang-format) is cheap
# and runs in CI as ctest's lint.format; it is repeated here.
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
log=$(mktemp)
run-clang-tidy-14 -p "$build" -j "$(nproc)" -quiet "$root/(libquant/src|apps)/.*\\.cpp$" >"$log" 2>/dev/null || true
warnings=$(grep -E "^/.*: (warning|error): " "$log" | sort -u || true)
if [ -n "$warnings" ]; then
  echo "$warnings"
  echo "clang-tidy findings by check:"
  echo "$warnings" | sed -E 's/.*\[([a-z0-9.-]+)(,.*)?\]$/\1/' | sort | uniq -c | sort -rn
  status=1
else
  echo "clang-tidy: clean ($(grep -c '"file"' "$build/compile_commands.json") translation units in the database)"
fi
rm -f "$log"
exit $status
