#!/usr/bin/env bash
# Side by side with llm-compressor 0.14 on the CPU, one run: SmolLM2-135M (the
# fetched Q4_1 GGUF, dequantized to an f32 HF checkpoint for llm-compressor;
# llm-quantize reads the GGUF itself, same weights), W4A16 groups of 64
# (SmolLM2's widths admit no 128), calibration ../shared/data/calib.txt in the
# same N x L token sequences for both, RTN / GPTQ (symmetric) / AWQ
# (asymmetric). Prints wall time and perplexity (wiki.test.raw and
# tinystories_val, 16 x 512 tokens, scored by our engine, which reads both
# tools' checkpoints) and the ratios.
#   bench/vs_llmcompressor.sh [BUILD_DIR] [N] [L]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
n=${2:-16}
l=${3:-512}
bin=$build/apps/llm-quantize/llm-quantize
shared=$root/../shared
gguf=$(bash "$root/scripts/fetch-models.sh" | grep SmolLM2)
lc_python=$(bash "$root/scripts/install-llmcompressor-oracle.sh")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin" convert "$gguf" hf --dtype f32 -o "$work" -n float > /dev/null
python3 - "$bin" "$gguf" "$shared/data/calib.txt" "$n" "$l" "$work/ids.json" <<'PY'
import json, subprocess, sys
bin_, gguf, text, n, l, out = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
ids = json.loads(subprocess.run([bin_, "tokenize", gguf, "--file", text], check=True, capture_output=True, text=True).stdout)["ids"]
chunks = [ids[i * l:(i + 1) * l] for i in range(n)]
for c in chunks:
    c[0] = ids[0]
json.dump(chunks, open(out, "w"))
PY
calib=(--calibration-data "$shared/data/calib.txt" --calibration-samples "$n" --calibration-seq-len "$l")
for m in rtn gptq awq; do
  case $m in
    rtn) ours=(gptq --rtn); sym=1 ;;
    gptq) ours=(gptq "${calib[@]}"); sym=1 ;;
    awq) ours=(awq "${calib[@]}" --awq-search-samples "$n"); sym=0 ;;
  esac
  "$bin" --format json quantize "$gguf" "${ours[@]}" --group-size 64 -o "$work" -n "ours-$m" > "$work/ours-$m.json"
  "$lc_python" "$root/tests/compat/llmcompressor_oracle.py" "$work/float" "$work/ids.json" "$m" 64 "$sym" \
    "$work/theirs-$m" > "$work/theirs-$m.log" 2>&1
done
python3 - "$bin" "$gguf" "$shared" "$work" "$n" "$l" <<'PY'
import json, subprocess, sys
from pathlib import Path
bin_, gguf, shared, work, n, l = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), sys.argv[5], sys.argv[6]
def ppl(model, text):
    out = subprocess.run([bin_, "--format", "json", "quality", "perplexity", model, "--tokenizer", gguf, "--data",
                          shared / "data" / text, "--chunks", "16", "--batch", "4"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)["perplexity"]
print(f"SmolLM2-135M W4A16 g64, calibration {n} x {l} tokens of calib.txt; perplexity over 16 x 512 tokens")
print(f"float: wiki {ppl(gguf, 'wiki.test.raw'):.3f}, tinystories {ppl(gguf, 'tinystories_val.txt'):.3f}")
print(f"{'method':6} {'ours s':>8} {'theirs s':>9} {'time ratio':>10} | {'wiki ours':>9} {'theirs':>8} {'diff':>7} | {'tiny ours':>9} {'theirs':>8} {'diff':>7}")
for m in ["rtn", "gptq", "awq"]:
    t_ours = json.loads((work / f"ours-{m}.json").read_text())["duration_seconds"]
    t_theirs = json.loads((work / f"theirs-{m}/llmcompressor_time.json").read_text())["seconds"]
    w_o, w_t = ppl(work / f"ours-{m}", "wiki.test.raw"), ppl(work / f"theirs-{m}", "wiki.test.raw")
    s_o, s_t = ppl(work / f"ours-{m}", "tinystories_val.txt"), ppl(work / f"theirs-{m}", "tinystories_val.txt")
    print(f"{m:6} {t_ours:8.1f} {t_theirs:9.1f} {t_ours / t_theirs:10.2f} | {w_o:9.3f} {w_t:8.3f} {100 * (w_o / w_t - 1):+6.2f}% | "
          f"{s_o:9.3f} {s_t:8.3f} {100 * (s_o / s_t - 1):+6.2f}%")
PY
