#!/usr/bin/env bash
# Builds llama.cpp's llama-imatrix, llama-perplexity and llama-quantize from the llama-cpp-python
# 0.3.36 sdist (vendor/llama.cpp; PyPI) into the cache, outside the repository,
# and prints the directory holding the binaries. Test oracle only (tests/compat
# compares our importance matrices with llama-imatrix's and MoE quantizations
# with llama-quantize's); nothing of llama.cpp
# is compiled into or shipped with libquant. Reused while the binaries exist.
set -euo pipefail
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}
out=$cache/llama-tools-0.3.36
stamp=$out/.built-$(sha256sum "$0" | cut -c1-16)  # rebuilt when this script changes
if [ -f "$stamp" ]; then echo "$out/bin"; exit 0; fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sdist=$cache/sdist/llama_cpp_python-0.3.36.tar.gz
if [ ! -s "$sdist" ]; then
  mkdir -p "$cache/sdist"
  python3 -m pip download -q --no-deps --no-binary :all: --disable-pip-version-check -d "$cache/sdist" \
    llama-cpp-python==0.3.36 >&2
fi
tar -xzf "$sdist" -C "$tmp" llama_cpp_python-0.3.36/vendor/llama.cpp
src=$tmp/llama_cpp_python-0.3.36/vendor/llama.cpp
# AVX2 kernels (every machine of this project has them), not -march=native:
# a native build enables AMX where the CPU reports it, and llama.cpp's AMX
# path crashes in VMs that do not grant the tile state. No network, no server,
# no examples.
cmake -S "$src" -B "$tmp/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF -DGGML_NATIVE=OFF \
  -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DBUILD_SHARED_LIBS=OFF >&2
cmake --build "$tmp/build" --target llama-imatrix llama-perplexity llama-quantize -j "$(nproc)" >&2
mkdir -p "$out.part/bin"
cp "$tmp/build/bin/llama-imatrix" "$tmp/build/bin/llama-perplexity" "$tmp/build/bin/llama-quantize" "$out.part/bin/"
touch "$out.part/$(basename "$stamp")"
rm -rf "$out" && mv "$out.part" "$out"
echo "$out/bin"
