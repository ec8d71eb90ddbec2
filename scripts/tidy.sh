#!/usr/bin/env bash
# clang-tidy (.clang-tidy: bug patterns, performance, thread safety) over every
# library and CLI translation unit in BUILD_DIR's compile_commands.json. CI runs
# it as ctest's lint.tidy on the release build (about 4 minutes on 2 cores).
# Exit 1 with the findings, and their count per check, when there are any.
#
#   bash scripts/tidy.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: tidy.sh BUILD_DIR}" && pwd)
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)"; exit 1; }
runner=$(command -v run-clang-tidy-14 || command -v run-clang-tidy)
binary=$(command -v clang-tidy-14 || command -v clang-tidy)
log=$(mktemp)
trap 'rm -f "$log"' EXIT
"$runner" -clang-tidy-binary "$binary" -p "$build" -j "$(nproc)" -quiet "$root/(libquant/src|apps)/.*\\.cpp$" \
  >"$log" 2>&1 || true
# Findings (warnings are errors by .clang-tidy) and anything clang could not parse.
findings=$(sed 's/\x1b\[[0-9;]*m//g' "$log" | grep -E "^/.*: (warning|error): " | sort -u || true)
units=$(grep -cE "\"file\": \"$root/(libquant/src|apps)/" "$build/compile_commands.json" || true)
if [ -n "$findings" ]; then
  echo "$findings"
  echo "clang-tidy findings by check:"
  echo "$findings" | sed -E 's/.*\[([a-z0-9.-]+)(,.*)?\]$/\1/' | sort | uniq -c | sort -rn
  exit 1
fi
echo "clang-tidy: clean ($units translation units of libquant/src and apps)"
