#!/usr/bin/env bash
# The LittleBit table of docs/littlebit.md: for each target BPW, compress
# MODEL with Dual-SVID only, with per-weight refinement only, and with the
# defaults (refinement + block-output matching), then perplexity of each
# (eval-tinystories.txt, ctx 256, 8 chunks, as docs/gguf-types.md's table).
# Usage: bench/littlebit_table.sh MODEL OUTDIR [BUILD_BIN] [bpw ...]
set -euo pipefail
model=$1 out=$2 bin=${3:-build/release/apps/llm-quantize/llm-quantize}
shift 3 || shift $#
levels=("$@")
[ ${#levels[@]} -gt 0 ] || levels=(0.1 0.3 0.55 0.7 1.0 1.5 2.0)
shared=$(cd "$(dirname "$0")/../../shared" && pwd)
mkdir -p "$out"
for mode in init refined block; do
  for bpw in "${levels[@]}"; do
    extra=(--calibration-data "$shared/data/calib.txt")
    [ "$mode" = init ] && extra=(--no-refine)  # (no calibration pass: its flags would be exit 2)
    [ "$mode" = refined ] && extra+=(--block-steps 0)
    start=$(date +%s.%N)
    "$bin" --format json littlebit compress "$model" --target-bpw "$bpw" "${extra[@]}" --skip-validation \
      -o "$out" -n "m-$bpw-$mode.littlebit" > "$out/m-$bpw-$mode.json"
    end=$(date +%s.%N)
    "$bin" --format json quality perplexity "$out/m-$bpw-$mode.littlebit" --data "$shared/data/eval-tinystories.txt" \
      --ctx 256 --chunks 8 > "$out/ppl-$bpw-$mode.json"
    echo "$bpw $mode $(echo "$end - $start" | bc) s" >> "$out/times.txt"
  done
done
python3 - "$out" "${levels[@]}" <<'PY'
import json, sys
out, levels = sys.argv[1], sys.argv[2:]
print("| target | achieved bpw (linears) | linear bytes vs fp16 | PPL init only | PPL refined | PPL + block matching |")
print("|---:|---:|---:|---:|---:|---:|")
for b in levels:
    r = json.load(open(f"{out}/m-{b}-refined.json"))
    ppl = {m: json.load(open(f"{out}/ppl-{b}-{m}.json"))["perplexity"] for m in ("init", "refined", "block")}
    print(f"| {b} | {r['achieved_bpw']:.3f} | {r['linear_reduction_vs_fp16']:.1f}x smaller | {ppl['init']:.4g} "
          f"| {ppl['refined']:.2f} | {ppl['block']:.2f} |")
PY
