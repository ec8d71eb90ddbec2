#!/usr/bin/env bash
# clang-tidy (.clang-tidy: bug patterns, performance, thread safety) over every
# library and CLI translation unit in BUILD_DIR's compile_commands.json. CI runs
# it as ctest's lint.tidy on the release build: about 4 minutes on 2 cores from
# scratch, seconds when little changed (results are cached per translation unit
# in ~/.cache/llm-quantize/clang-tidy, keyed by everything the unit reads).
# Exit 1 with the findings, and their count per check, when there are any.
#
#   bash scripts/tidy.sh BUILD_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:?usage: tidy.sh BUILD_DIR}" && pwd)
[ -f "$build/compile_commands.json" ] || { echo "no $build/compile_commands.json (configure with CMAKE_EXPORT_COMPILE_COMMANDS=ON)"; exit 1; }
binary=$(command -v clang-tidy-14 || command -v clang-tidy)
exec python3 "$root/scripts/tidy.py" "$root" "$build" "${XDG_CACHE_HOME:-$HOME/.cache}/llm-quantize/clang-tidy" "$binary"
