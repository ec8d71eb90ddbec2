#!/usr/bin/env bash
# GPTQ time for one Llama-2-7B-shaped decoder block (random bf16 weights from
# bench/make_synthetic_checkpoint.py --layers 1) on this machine, at two
# calibration sizes of 2048-token sequences; the time is linear in the tokens
# (forward passes, Hessians) plus a fixed part (Cholesky, column sweeps), so
# the two points extrapolate to 128 x 2048 tokens and 32 blocks (the issue's
# goal: under 45 min per 7B model on 2 cores). RTN of the same block is timed
# alongside. Prints peak RSS too.
#   bench/bench_gptq_block.sh [BUILD_DIR] [SAMPLES_A] [SAMPLES_B]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
na=${2:-4}
nb=${3:-8}
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/bench
model=$cache/synthetic-llama2-7b-1layer
python3 "$root/bench/make_synthetic_checkpoint.py" "$model" --layers 1 \
  --tokenizer-from "$root/../shared/models/stories260K"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
bin=$build/apps/llm-quantize/llm-quantize
run() {  # name, extra flags...
  local name=$1; shift
  /usr/bin/time -v "$bin" --format json quantize "$model" gptq -o "$work" -n "$name" "$@" > "$work/$name.json" 2> "$work/$name.time"
  rm -rf "${work:?}/$name"
}
run rtn --rtn
calib=(--calibration-data "$root/../shared/data/calib.txt" --calibration-seq-len 2048 --calibration-batch 2)
run a "${calib[@]}" --calibration-samples "$na"
run b "${calib[@]}" --calibration-samples "$nb"
python3 - "$work" "$(nproc)" <<'PY'
import json, re, sys
from pathlib import Path
w = Path(sys.argv[1])
def get(name):
    r = json.loads((w / f"{name}.json").read_text())
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", (w / f"{name}.time").read_text()).group(1)) / 1024
    return r["duration_seconds"], r.get("calibration_samples", 0), rss
rtn, _, rss_rtn = get("rtn")
ta, na, rss_a = get("a")
tb, nb, rss_b = get("b")
per_sample = (tb - ta) / (nb - na)
fixed = ta - na * per_sample
block128 = fixed + 128 * per_sample
print(f"one Llama-2-7B-shaped block, {sys.argv[2]} cores: RTN {rtn:.1f} s; GPTQ {ta:.1f} s at {na} x 2048 tokens, "
      f"{tb:.1f} s at {nb} x 2048 (peak RSS {rss_a:.0f} / {rss_b:.0f} MiB)")
print(f"  linear fit: {fixed:.1f} s fixed + {per_sample:.2f} s per 2048-token sample")
print(f"  extrapolated to 128 x 2048 tokens: {block128:.0f} s per block, {32 * block128 / 60:.0f} min for 32 blocks "
      f"(goal < 45 min)")
PY
