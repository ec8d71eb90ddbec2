#!/usr/bin/env bash
# Installs everything libquant needs to build and test, from Debian packages and
# (for the Python test oracles only) PyPI. Idempotent; safe to run repeatedly.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

debs=(
  build-essential cmake ninja-build pkg-config git
  libeigen3-dev libopenblas-dev liblapacke-dev
  libabsl-dev libcli11-dev libsimdjson-dev libsentencepiece-dev libicu-dev zlib1g-dev
  catch2 libbenchmark-dev libcurl4-openssl-dev libre2-dev libssl-dev gcovr
  clang libclang-rt-14-dev clang-format clang-tidy
  chromium  # headless, to render the HTML reports in tests
)
missing=()
for p in "${debs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ "${LIBQUANT_SKIP_PYTHON:-0}" != "1" ]; then
  # Test oracles (independent implementations); never used by the library itself.
  python3 -m pip install -q --disable-pip-version-check -r "$(dirname "$0")/requirements-test.txt"
  # torch + transformers + compressed-tensors, in a venv of their own (large; cached).
  bash "$(dirname "$0")/install-torch-oracle.sh" >/dev/null
  # llm-compressor over it, for the GPTQ / AWQ side-by-side tests (cached).
  bash "$(dirname "$0")/install-llmcompressor-oracle.sh" >/dev/null
  # GPTQModel over it: transformers' loader for GPTQ / AWQ layouts (cached).
  bash "$(dirname "$0")/install-gptqmodel-oracle.sh" >/dev/null
  # llama-imatrix / llama-perplexity from the llama-cpp-python sdist, built outside the repository (cached).
  bash "$(dirname "$0")/build-llama-tools.sh" >/dev/null
fi
