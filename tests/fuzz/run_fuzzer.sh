#!/usr/bin/env bash
# Runs one fuzz target on seeds taken from ../shared (copied to a scratch
# corpus, never into the repository): a bounded libFuzzer run under clang, a
# replay of the seeds otherwise.
set -euo pipefail
bin=$1 name=$2 shared=$3 compiler=$4
corpus=$(mktemp -d)
trap 'rm -rf "$corpus"' EXIT
case "$name" in
  fuzz_safetensors) cp "$shared/models/stories260K/model.safetensors" "$corpus/seed1" ;;
  fuzz_gguf)
    cp "$shared/golden/stories260K/quantized/stories260K-Q4_0.gguf" "$corpus/seed1"
    head -c 4096 "$shared/models/stories260K.gguf" > "$corpus/seed2" ;;
  fuzz_hf_config) cp "$shared/models/stories260K/config.json" "$corpus/seed1" ;;
esac
if [ "$compiler" = "Clang" ]; then
  "$bin" -runs="${FUZZ_RUNS:-20000}" -max_len=65536 -seed=1 "$corpus"
else
  "$bin" "$corpus"
fi
