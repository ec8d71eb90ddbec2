"""Tokenizers token for token with llama.cpp:
- llama.cpp's own test vectors (every ggml-vocab-*.gguf with .inp/.out, from
  ../shared/vocab at c392e50 and from the 2026 tree in the llama-cpp-python
  0.3.36 sdist), tokenized with add_special and parse_special off;
- whole texts with the real Gemma 3 270M (SentencePiece, 262k tokens) and
  SmolLM2 (byte-level BPE) vocabularies, against llama-cpp-python 0.3.36."""
import json
import subprocess
from pathlib import Path

import pytest

import fetched
import llama_oracle

SEP = "\n__ggml_vocab_test__\n"


def vector_files(directory):
    return sorted(p for p in Path(directory).glob("ggml-vocab-*.gguf") if p.with_name(p.name + ".inp").exists())


def cases(shared):
    out = [pytest.param(p, id=f"c392e50-{p.stem[11:]}") for p in vector_files(shared / "vocab")]
    out += [pytest.param(p, id=f"2026-{p.stem[11:]}") for p in vector_files(fetched.vocab_2026())]
    return out


def pytest_generate_tests(metafunc):
    if "vocab" in metafunc.fixturenames:
        shared = Path(metafunc.config.getoption("--shared"))
        metafunc.parametrize("vocab", cases(shared))


def test_llama_cpp_test_vectors(tokenize_tool, vocab):
    texts = vocab.with_name(vocab.name + ".inp").read_text(encoding="utf-8", errors="surrogateescape")
    texts = texts.split(SEP)[:-1]  # the file ends with a separator
    expected = vocab.with_name(vocab.name + ".out").read_text().split("\n")
    got = subprocess.run([tokenize_tool, vocab, vocab.with_name(vocab.name + ".inp")], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    lines = got.stdout.split("\n")
    assert len(texts) > 30
    bad = [(i, texts[i][:40], expected[i], lines[i]) for i in range(len(texts)) if lines[i].split() != expected[i].split()]
    assert not bad, bad[:3]


@pytest.mark.slow
@pytest.mark.parametrize("model", ["gemma3", "smollm2"])
@pytest.mark.parametrize("name", ["wiki.test.raw", "tinystories_val.txt"])
def test_whole_texts_equal_llama_cpp(cli, shared, tmp_path, model, name):
    path = getattr(fetched, model)()
    text = (shared / "data" / name).read_bytes()
    ours = json.loads(cli("tokenize", path, "--file", shared / "data" / name, "--no-bos").stdout)["ids"]
    llm = llama_oracle.load(path, vocab_only=True, verbose=False)
    ref = llm.tokenize(text, add_bos=False, special=False)
    assert len(ours) == len(ref) > 100_000
    first = next((i for i, (a, b) in enumerate(zip(ours, ref)) if a != b), None)
    assert first is None, (first, ours[first:first + 8], ref[first:first + 8])


LAZY_VOCABS = {
    "gemma3": lambda shared: fetched.gemma3(),
    "smollm2": lambda shared: fetched.smollm2(),
    "llama-spm": lambda shared: shared / "vocab/ggml-vocab-llama-spm.gguf",
    "qwen2": lambda shared: fetched.vocab_2026() / "ggml-vocab-qwen2.gguf",
    "llama-bpe": lambda shared: fetched.vocab_2026() / "ggml-vocab-llama-bpe.gguf",
    "bert-bge": lambda shared: shared / "vocab/ggml-vocab-bert-bge.gguf",
    "deepseek-llm": lambda shared: shared / "vocab/ggml-vocab-deepseek-llm.gguf",
}


@pytest.mark.slow
@pytest.mark.parametrize("model", sorted(LAZY_VOCABS))
def test_encode_prefix_equals_whole_text(tokenize_tool, shared, tmp_path, model):
    """Tokenizing only the beginning (runs that need N tokens) gives exactly the
    whole text's first ids, and on wiki.test.raw stops long before the end."""
    vocab = LAZY_VOCABS[model](shared)
    for name in ("wiki.test.raw", "tinystories_val.txt"):
        inp = tmp_path / f"{name}.inp"
        inp.write_bytes((shared / "data" / name).read_bytes() + SEP.encode())
        whole = subprocess.run([tokenize_tool, vocab, inp], capture_output=True, text=True, check=True).stdout.split()
        for n in (1000, 40000):
            part = subprocess.run([tokenize_tool, vocab, inp, "--prefix", str(n)], capture_output=True, text=True,
                                  check=True).stdout.split()
            assert len(part) >= n and part == whole[: len(part)], (name, n, len(part))
            if name == "wiki.test.raw":
                assert len(part) < len(whole) // 2, (n, len(part), len(whole))
