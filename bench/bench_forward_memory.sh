#!/usr/bin/env bash
# Peak RSS of the layer-streaming forward on the synthetic Llama-2-7B-shaped
# checkpoint (made by bench/make_synthetic_checkpoint.py into the cache; ~13.5 GB
# of bf16 weights): one 512-token chunk through `quality perplexity`.
#   bench/bench_forward_memory.sh [BUILD_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/bench
model=$cache/synthetic-7b-l32
python3 "$root/bench/make_synthetic_checkpoint.py" "$model" --tokenizer-from "$root/../shared/models/stories260K"
out=$(mktemp)
trap 'rm -f "$out" "$out.time"' EXIT
/usr/bin/time -v "$build/apps/llm-quantize/llm-quantize" --format json quality perplexity "$model" \
  --data "$root/../shared/data/eval-tinystories.txt" --ctx 512 --chunks 1 > "$out" 2> "$out.time"
rss=$(grep "Maximum resident set size" "$out.time" | awk '{print $NF}')
python3 - "$out" "$rss" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); rss = int(sys.argv[2]) / 1024
print(f"7B-shaped model, 1 x 512 tokens, streaming: {r['duration_seconds']:.1f} s, peak RSS {rss:.0f} MiB "
      f"(weights on disk 13.5 GB; goal < 2048 MiB)")
PY
