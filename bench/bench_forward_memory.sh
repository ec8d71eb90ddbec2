#!/usr/bin/env bash
# Peak RSS of the layer-streaming forward on a synthetic checkpoint (made by
# bench/make_synthetic_checkpoint.py into the cache): Llama-2-7B-shaped (13.5 GB
# of bf16 weights, goal < 2 GiB) or Gemma-2-9B-shaped (18.5 GB, 256k vocabulary,
# sandwich norms, local layers, soft-caps; goal < 1.5 GB): one 512-token chunk
# through `quality perplexity`. The 9B checkpoint is deleted afterwards unless
# KEEP=1 (disk).
#   bench/bench_forward_memory.sh [BUILD_DIR] [llama2-7b|gemma2-9b]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
shape=${2:-llama2-7b}
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/bench
model=$cache/synthetic-$shape
python3 "$root/bench/make_synthetic_checkpoint.py" "$model" --shape "$shape" \
  --tokenizer-from "$root/../shared/models/stories260K"
out=$(mktemp)
trap 'rm -f "$out" "$out.time"; [ "$shape" = llama2-7b ] || [ "${KEEP:-0}" = 1 ] || rm -rf "$model"' EXIT
/usr/bin/time -v "$build/apps/llm-quantize/llm-quantize" --format json quality perplexity "$model" \
  --data "$root/../shared/data/eval-tinystories.txt" --ctx 512 --chunks 1 > "$out" 2> "$out.time"
rss=$(grep "Maximum resident set size" "$out.time" | awk '{print $NF}')
python3 - "$out" "$rss" "$shape" "$model" <<'PY'
import json, sys
from pathlib import Path
r = json.load(open(sys.argv[1])); rss = int(sys.argv[2]) / 1024
disk = sum(p.stat().st_size for p in Path(sys.argv[4]).glob("*.safetensors")) / 1e9
goal = "< 2048 MiB" if sys.argv[3] == "llama2-7b" else "< 1500 MB"
print(f"{sys.argv[3]}-shaped model, 1 x 512 tokens, streaming: {r['duration_seconds']:.1f} s, peak RSS {rss:.0f} MiB "
      f"= {rss * 1.048576:.0f} MB (weights on disk {disk:.1f} GB; goal {goal})")
PY
