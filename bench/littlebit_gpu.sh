#!/usr/bin/env bash
# Issue 8's GPU figures in one run, CPU and CUDA side by side where both apply:
#  1. LittleBit compression of one Llama-2-7B-shaped layer (init, init+refine)
#     and one 4096 x 11008 truncated SVD, on the CUDA backend, x 32 layers;
#  2. forward throughput: perplexity of MODEL with --device cpu vs cuda;
#  3. packed LittleBit GEMV vs cuBLAS fp16 GEMV at 0.1 BPW (device-resident).
# Needs `cmake --preset cuda -DLIBQUANT_BUILD_BENCH=ON` built into BUILD.
# Usage: bench/littlebit_gpu.sh [BUILD=build/cuda] [MODEL] [--benchmark_filter=...]
set -euo pipefail
build=${1:-build/cuda}
model=${2:-}
shift 2 || shift $#
here=$(cd "$(dirname "$0")" && pwd)
shared=$(cd "$here/../../shared" && pwd)
echo "== LittleBit layer + SVD on CUDA"
LLM_QUANTIZE_DEVICE=cuda "$here/littlebit_layer_time.sh" "$build/bench/bench_littlebit_layer" "$@"
if [ -n "$model" ]; then
  echo "== forward: perplexity of $model (eval-tinystories, ctx 256, 8 chunks)"
  for dev in cpu cuda; do
    start=$(date +%s.%N)
    ppl=$("$build/apps/llm-quantize/llm-quantize" --device "$dev" --format json quality perplexity "$model" \
          --data "$shared/data/eval-tinystories.txt" --ctx 256 --chunks 8 | python3 -c "import json,sys;print(json.load(sys.stdin)['perplexity'])")
    end=$(date +%s.%N)
    echo "$dev: perplexity $ppl, $(echo "2048 / ($end - $start)" | bc -l | cut -c1-8) tokens/s"
  done
fi
echo "== packed LittleBit GEMV vs cuBLAS fp16 GEMV (4096 x 11008, 0.1 BPW = rank 128, 2 paths)"
"$build/libquant_cuda/bench_sign_gemv" 4096 11008 128
