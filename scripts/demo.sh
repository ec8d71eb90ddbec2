#!/usr/bin/env bash
# Installs dependencies, builds llm-quantize (release) and runs the main job on
# the bundled test model: HF checkpoint -> GGUF F16, then `info` on the result.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
LIBQUANT_SKIP_PYTHON=1 bash scripts/install-deps.sh
cmake --preset release -G Ninja >/dev/null
cmake --build --preset release --target llm-quantize
bin=build/release/apps/llm-quantize/llm-quantize
model=../shared/models/stories260K
out=$(mktemp -d)
"$bin" quantize "$model" gguf -q Q4_K_M -o "$out"
"$bin" info --tensors "$out/stories260K-Q4_K_M.gguf"
echo "demo output kept in $out"
