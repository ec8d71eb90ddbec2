#!/usr/bin/env bash
# -q dynamic against llama.cpp's fixed mixes at the same file size: quantizes MODEL with llama-quantize
# (Q4_K_M, Q3_K_M, IQ2_M by default) and with llm-quantize -q dynamic --target-size-bytes <that size>, then
# prints both files' sizes and perplexities (llm-quantize quality perplexity) side by side.
#   LLAMA_QUANTIZE=/path/to/llama-quantize bench/dynamic_vs_llama_mixes.sh MODEL-F32.gguf IMATRIX.dat EVAL.txt \
#       [CHUNKS] [MIXES...]
# Extra -q dynamic options can be passed in DYNAMIC_ARGS (e.g. "--candidates ..." or "--protect-super-weights").
# llama.cpp is not part of this project: build it yourself and point LLAMA_QUANTIZE at it.
set -euo pipefail
model=$1 imatrix=$2 eval=$3 chunks=${4:-16}
shift $(( $# < 4 ? $# : 4 ))
mixes=("$@")
[ ${#mixes[@]} -eq 0 ] && mixes=(Q4_K_M Q3_K_M IQ2_M)
ours=$(realpath "${LLM_QUANTIZE:-$(dirname "$0")/../build/release/apps/llm-quantize/llm-quantize}")
: "${LLAMA_QUANTIZE:?set LLAMA_QUANTIZE to a llama-quantize binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
ppl() { "$ours" quality perplexity "$1" --data "$eval" --chunks "$chunks" 2>&1 | sed -n 's/.*PPL = \([0-9.]*\).*/\1/p'; }
printf '%-8s %14s %10s %14s %10s\n' mix llama_bytes llama_ppl dynamic_bytes dynamic_ppl
for mix in "${mixes[@]}"; do
  "$LLAMA_QUANTIZE" --imatrix "$imatrix" "$model" "$tmp/llama-$mix.gguf" "$mix" 2 >/dev/null 2>&1
  size=$(stat -c %s "$tmp/llama-$mix.gguf")
  # shellcheck disable=SC2086
  "$ours" quantize "$model" gguf -q dynamic --target-size-bytes "$size" --imatrix "$imatrix" -o "$tmp" \
    -n "dyn-$mix.gguf" --no-checkpoints ${DYNAMIC_ARGS:-} >/dev/null 2>&1
  printf '%-8s %14d %10s %14d %10s\n' "$mix" "$size" "$(ppl "$tmp/llama-$mix.gguf")" \
    "$(stat -c %s "$tmp/dyn-$mix.gguf")" "$(ppl "$tmp/dyn-$mix.gguf")"
done
