#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, builds examples/ against it
# with find_package(libquant CONFIG), and runs the programs on the test model.
set -euo pipefail
build_dir=$1 examples_dir=$2 shared=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
cmake -S "$examples_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j2 >/dev/null
export LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64:${LD_LIBRARY_PATH:-}"
out=$("$work/build/inspect_checkpoint" "$shared/models/stories260K")
echo "$out"
grep -q "^parameters 260032$" <<<"$out"
grep -q "^architecture LlamaForCausalLM$" <<<"$out"
"$work/build/convert_to_f16" "$shared/models/stories260K" "$work/out.gguf"
[ "$(head -c 4 "$work/out.gguf")" = "GGUF" ]
echo "installed-tree consumer OK"
