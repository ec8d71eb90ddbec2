#!/usr/bin/env bash
# Installs dependencies, builds and runs the whole test suite: the ASan/UBSan
# build (unit, integration and bounded fuzzing; its coverage figure printed
# after it) first, then the optimised
# build with every test (perplexity runs over whole texts need -O2); the last
# lines are CTest's summary.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
jobs=$(nproc)

cmake --preset asan -G Ninja >/dev/null
cmake --build --preset asan -j "$jobs"
# Which kernels this machine runs (the SIMD-dependent tests print theirs too).
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2-) -- $(build/asan/apps/llm-quantize/llm-quantize --version)"
find build/asan -name '*.gcda' -delete  # coverage counters of this run only
ctest --preset asan -j "$jobs"
bash scripts/coverage-report.sh build/asan

cuda_plugin=()
if command -v nvcc >/dev/null 2>&1; then
  # The CUDA plugin must compile wherever nvcc is (sm_80 + sm_90); the release
  # tests then load it (without a GPU: exit 8 naming the reason).
  cmake --preset cuda -G Ninja >/dev/null
  cmake --build build/cuda --target libquant_cuda -j "$jobs"
  cuda_plugin=(-DLIBQUANT_TEST_CUDA_PLUGIN="$root/build/cuda/libquant_cuda/libquant_cuda.so")
fi

cmake --preset release -G Ninja "${cuda_plugin[@]}" >/dev/null
cmake --build --preset release -j "$jobs"
ctest --preset release -j "$jobs"
