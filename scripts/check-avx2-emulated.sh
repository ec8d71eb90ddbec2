#!/usr/bin/env bash
# Runs llm-quantize on an emulated AVX2-only CPU (QEMU user mode, -cpu Haswell:
# AVX2, FMA and F16C, no AVX-512) to check the runtime dispatch and the AVX2
# kernels where no such machine is at hand: the llama.cpp-exact importance
# matrix of the synthetic model must equal llama-imatrix's golden file byte for
# byte. Emulation is ~500x slower than the host: about 11 minutes. Not part of
# CI (scripts/test.sh); run it after touching the SIMD dispatch or kernels.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/build/release/apps/llm-quantize/llm-quantize}
shared=$root/../shared
command -v qemu-x86_64 >/dev/null || sudo apt-get install -y -qq qemu-user
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
run() { qemu-x86_64 -cpu Haswell "$bin" "$@" 2> >(grep -v "TCG doesn't support" >&2); }
echo "CPU as the binary sees it: $(run --version)"
cd "$shared/data"
run --verbosity verbose analyze ../golden/synthetic-a/model-f32.gguf --calibration-data tinystories_val.txt \
  --ctx 256 --chunks 20 --no-checkpoints -o "$out/syn.dat" 2>&1 | grep "CPU kernels"
cmp "$out/syn.dat" ../golden/synthetic-a/imatrix.dat
echo "OK: AVX2 kernels on an AVX2-only CPU reproduce llama-imatrix's golden bytes"
