#!/usr/bin/env bash
# A large synthetic HF checkpoint converted to a GGUF type inside a memory
# limit (a cgroup-v1 memory cgroup; page cache counts against it, as on a
# small machine): wall time, peak RSS, the cgroup's peak usage, and a check
# that the output opens. Default: Qwen3.5-27B-shaped (as published: gated
# DeltaNet + gated attention, MTP block), all 64 layers, bf16, Q4_K_M, 2 GiB.
#   bench/convert_in_memory_limit.sh [SHAPE] [LAYERS] [TYPE] [LIMIT_MIB] [THREADS] [BUILD_DIR]
# Needs root for the cgroup (else runs without the limit and says so). The
# synthetic checkpoint (about 2 bytes per parameter) and the output are deleted
# afterwards; make sure the disk holds both.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shape=${1:-qwen3.5-27b}
layers=${2:-64}
type=${3:-Q4_K_M}
limit_mib=${4:-2048}
threads=${5:-2}
build=${6:-$root/build/release}
ours="$build/apps/llm-quantize/llm-quantize"
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/bench
model=$cache/synthetic-$shape-l$layers
out=$(mktemp -d "$cache/limit.XXXX")
trap 'rm -rf "$out" "$model"' EXIT
start=$(date +%s)
python3 "$root/bench/make_synthetic_checkpoint.py" "$model" --layers "$layers" --shape "$shape" \
  --tokenizer-from "$root/../shared/models/stories260K" >/dev/null
echo "synthetic $shape, $layers layers: $(du -sh "$model" | cut -f1) written in $(( $(date +%s) - start )) s"
sync
echo 3 > /proc/sys/vm/drop_caches 2>/dev/null || true
cg=/sys/fs/cgroup/memory/llm-quantize-bench-$$
if mkdir "$cg" 2>/dev/null; then
  echo $(( limit_mib * 1024 * 1024 )) > "$cg/memory.limit_in_bytes"
  runner=(bash -c 'echo $$ > "$0/cgroup.procs"; shift; exec "$@"' "$cg" --)
  echo "memory limit: $limit_mib MiB (cgroup $cg)"
else
  cg="" runner=()
  echo "no memory cgroup could be made (not root?): running without a limit"
fi
/usr/bin/time -f "%e %M" -o "$out/time" "${runner[@]}" "$ours" --verbosity quiet quantize "$model" gguf -q "$type" \
  -o "$out" -n out.gguf --threads "$threads" --no-checkpoints
read -r secs rss < "$out/time"
peak=""
if [ -n "$cg" ]; then peak=$(( $(cat "$cg/memory.max_usage_in_bytes") / 1048576 )); rmdir "$cg"; fi
"$ours" info "$out/out.gguf" | sed -n '3,5p;/Linear-attention/p;/Bits per Weight/p'
printf '%s -> %s: %.1f s, peak RSS %d MiB%s, output %s\n' "$shape ($layers layers)" "$type" "$secs" $(( rss / 1024 )) \
  "${peak:+, cgroup peak $peak MiB of $limit_mib}" "$(du -h "$out/out.gguf" | cut -f1)"
