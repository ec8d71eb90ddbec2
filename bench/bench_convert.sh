#!/usr/bin/env bash
# HF -> GGUF conversion throughput and peak RSS on a synthetic Llama-2-7B-shaped
# bf16 checkpoint (made on first use into the cache; ~13.5 GB, plus the output).
#   bench/bench_convert.sh [BUILD_DIR] [LAYERS] [LEVEL]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
layers=${2:-32}
level=${3:-F16}
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/bench
model=$cache/synthetic-7b-l$layers
python3 "$root/bench/make_synthetic_checkpoint.py" "$model" --layers "$layers" \
  --tokenizer-from "$root/../shared/models/stories260K"
out=$(mktemp -d "$cache/out.XXXX")
trap 'rm -rf "$out"' EXIT
in_bytes=$(du -cb "$model"/*.safetensors | tail -1 | cut -f1)
sync
/usr/bin/time -v "$build/apps/llm-quantize/llm-quantize" --format json quantize "$model" gguf -q "$level" \
  -o "$out" -n out.gguf > "$out/result.json" 2> "$out/time.txt"
python3 - "$out/result.json" "$out/time.txt" "$in_bytes" "$level" <<'PY'
import json, re, sys
res = json.load(open(sys.argv[1])); t = open(sys.argv[2]).read(); in_bytes = int(sys.argv[3])
rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", t).group(1))
wall = res["duration_seconds"]
print(f"level {sys.argv[4]}: input {in_bytes/1e9:.2f} GB -> output {res['file_size']/1e9:.2f} GB in {wall:.1f} s")
print(f"throughput {in_bytes/1e9/wall:.2f} GB/s of input, {res['metadata']['parameter_count']/1e6/wall:.0f} Mparam/s")
print(f"peak RSS {rss_kb/1024:.0f} MiB (library-reported {res['peak_memory_bytes']/2**20:.0f} MiB)")
PY
