#!/usr/bin/env bash
# Importance-matrix throughput, llm-quantize analyze vs llama-imatrix, same
# model, text, context, chunks and threads, timed in one run; prints tokens/s,
# the ratio, and whether the two .dat files are byte-identical.
#   LLAMA_IMATRIX=/path/to/llama-imatrix bench/bench_vs_llama_imatrix.sh MODEL.gguf TEXT [CTX] [CHUNKS] [THREADS]
# llama.cpp is not part of this project: build it yourself and point LLAMA_IMATRIX at it.
set -euo pipefail
model=$1 text=$2 ctx=${3:-256} chunks=${4:-16} threads=${5:-2}
ours=$(realpath "${LLM_QUANTIZE:-$(dirname "$0")/../build/release/apps/llm-quantize/llm-quantize}")
: "${LLAMA_IMATRIX:?set LLAMA_IMATRIX to a llama-imatrix binary}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
textdir=$(cd "$(dirname "$text")" && pwd) name=$(basename "$text")
model=$(realpath "$model")
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null 2>&1; e=$(date +%s.%N); echo "$e - $s" | bc; }
# both run from the text's folder so the stored dataset names agree
cd "$textdir"
tl=$(t "$LLAMA_IMATRIX" -m "$model" -f "$name" -c "$ctx" -b "$ctx" --chunks "$chunks" -t "$threads" -o "$tmp/llama.dat")
tq=$(t "$ours" analyze "$model" --calibration-data "$name" --ctx "$ctx" --chunks "$chunks" --threads "$threads" \
      --no-checkpoints -o "$tmp/ours.dat")
tokens=$((ctx * chunks))
printf 'tokens %d  llama-imatrix %.2f s (%.0f tok/s)  llm-quantize %.2f s (%.0f tok/s)  ratio %.2fx\n' \
  "$tokens" "$tl" "$(echo "$tokens / $tl" | bc -l)" "$tq" "$(echo "$tokens / $tq" | bc -l)" "$(echo "$tl / $tq" | bc -l)"
if cmp -s "$tmp/llama.dat" "$tmp/ours.dat"; then echo "outputs: byte-identical"; else echo "outputs: DIFFER"; fi
