"""Vocabularies that cannot be used are refused with the documented codes:
an unknown tokenizer kind or pre-tokenizer is exit 8 naming it, arrays that
disagree (lengths, element types, duplicate tokens) are exit 6 — never a
crash or a wrong tokenization. Files are llama.cpp's test vocabularies with
one field changed (crafted.py)."""
import json

import pytest

from crafted import ARRAY, F32, I32, STRING, Gguf


def tokenize(cli, vocab):
    return cli("--format", "json", "tokenize", vocab, "--text", "Hello world", "--no-bos")


def changed(shared, tmp_path, name, change):
    g = Gguf.read(shared / f"vocab/ggml-vocab-{name}.gguf")
    change(g)
    return g.write(tmp_path / f"{name}.gguf")


def test_the_unchanged_files_tokenize(cli, shared):
    for name in ("gpt-2", "llama-spm", "bert-bge"):
        proc = tokenize(cli, shared / f"vocab/ggml-vocab-{name}.gguf")
        assert proc.returncode == 0, proc.stderr
        assert json.loads(proc.stdout)["n_tokens"] >= 2


@pytest.mark.parametrize("key,value,named", [
    ("tokenizer.ggml.model", "sentencepiece-v9", "sentencepiece-v9"),
    ("tokenizer.ggml.pre", "no-such-pre", "no-such-pre"),
    ("tokenizer.ggml.pre", "kimi-k2", "kimi-k2"),  # needs llama.cpp's hand-written \p{Han} splitter
])
def test_unknown_kinds_are_exit_8_naming_them(cli, shared, tmp_path, key, value, named):
    bad = changed(shared, tmp_path, "gpt-2", lambda g: g.set_kv(key, value))
    proc = tokenize(cli, bad)
    assert proc.returncode == 8, proc.stderr
    assert named in json.loads(proc.stdout)["message"]


def _truncate(g, key):
    t, (et, items) = g.kv(key)[1], g.kv(key)[2]
    g.set_kv(key, (et, items[:-5]))


@pytest.mark.parametrize("name,change", [
    ("llama-spm", lambda g: _truncate(g, "tokenizer.ggml.scores")),
    ("llama-spm", lambda g: _truncate(g, "tokenizer.ggml.token_type")),
    ("llama-spm", lambda g: g.set_kv("tokenizer.ggml.scores", (STRING, ["x"] * 32000))),
    ("gpt-2", lambda g: g.set_kv("tokenizer.ggml.tokens", (I32, list(range(50257))))),
    ("gpt-2", lambda g: g.set_kv("tokenizer.ggml.tokens", (STRING, ["a"] * 50257))),  # duplicates
    ("gpt-2", lambda g: g.set_kv("tokenizer.ggml.merges", (F32, [1.0]))),
    ("gpt-2", lambda g: g.set_kv("tokenizer.ggml.tokens", (STRING, []))),
    ("bert-bge", lambda g: g.set_kv("tokenizer.ggml.token_type", (F32, [0.0] * 30522))),
], ids=["spm-scores-short", "spm-types-short", "spm-scores-strings", "bpe-tokens-ints", "bpe-duplicates",
        "bpe-merges-floats", "bpe-no-tokens", "wpm-types-floats"])
def test_inconsistent_arrays_are_exit_6(cli, shared, tmp_path, name, change):
    bad = changed(shared, tmp_path, name, change)
    proc = tokenize(cli, bad)
    assert proc.returncode == 6, proc.stderr
    assert "tokenizer" in json.loads(proc.stdout)["message"]
