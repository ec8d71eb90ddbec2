#!/usr/bin/env bash
# Installs the built tree into a scratch prefix, builds examples/ against it
# with find_package(libquant CONFIG), and runs the programs on the test model.
set -euo pipefail
build_dir=$1 examples_dir=$2 shared=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build_dir" --prefix "$work/prefix" >/dev/null
# The public API only: the umbrella's closure, no internal helpers.
inc=$work/prefix/include/libquant
# (one test per line: set -e does not stop at a failing test inside an && list)
for h in libquant.hpp jobs/analyze.hpp export.hpp c/libquant.h jobs/result_json.hpp core/json_writer.hpp \
         core/linalg_types.hpp; do
  test -f "$inc/$h" || { echo "not installed: $h"; exit 1; }
done
for h in backend/cuda_plugin_abi.h core/thread_pool.hpp eval/decoder_block_grad.hpp; do
  test ! -e "$inc/$h" || { echo "installed but internal: $h"; exit 1; }
done
echo "installed headers: $(find "$inc" -name '*.hpp' -o -name '*.h' | wc -l)"
cmake -S "$examples_dir" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$work/build" -j2 >/dev/null
export LD_LIBRARY_PATH="$work/prefix/lib:$work/prefix/lib64:${LD_LIBRARY_PATH:-}"
out=$("$work/build/inspect_checkpoint" "$shared/models/stories260K")
echo "$out"
grep -q "^parameters 260032$" <<<"$out"
grep -q "^architecture LlamaForCausalLM$" <<<"$out"
"$work/build/convert_to_f16" "$shared/models/stories260K" "$work/out.gguf"
[ "$(head -c 4 "$work/out.gguf")" = "GGUF" ]
out=$("$work/build/quantize_tensor" "$shared/models/stories260K.gguf" blk.0.attn_q.weight Q4_0)
echo "$out"
grep -q "^blk.0.attn_q.weight as Q4_0: 2304 bytes (4.500 bits per weight), relative RMS error 0.0" <<<"$out"
# docs/c-api.md's program as written, in a folder where model.gguf is the test model.
doc=$work/doc
mkdir -p "$doc"
sed -n '/^```c$/,/^```$/p' "$examples_dir/../docs/c-api.md" | sed '1d;$d' >"$doc/doc.c"
cc -std=c11 -Wall -Werror -Wno-unused-parameter "$doc/doc.c" -I"$work/prefix/include" -L"$work/prefix/lib" \
  -L"$work/prefix/lib64" -lquant -o "$doc/doc"
ln -s "$shared/models/stories260K.gguf" "$doc/model.gguf"
(cd "$doc" && ./doc >out.json 2>/dev/null)
grep -q '"quantization_level": "Q4_K_M"' "$doc/out.json"
[ "$(head -c 4 "$doc/model-Q4_K_M.gguf")" = "GGUF" ]
echo "docs/c-api.md program OK"
echo "installed-tree consumer OK"
