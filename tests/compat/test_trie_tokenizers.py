"""UGM (t5) and RWKV vocabularies token for token with llama.cpp.

llama.cpp has no test vectors for these kinds, so the vocabularies are built
here (crafted_vocab.py): random unigram pieces with log-probability scores,
user-defined and unused pieces, and a precompiled character map (full-width
ASCII, ligatures, tabs and no-break spaces, a two-byte key); RWKV tokens as
escaped byte strings covering every byte. Each is tokenized by our
tokenize_tool and by llama-cpp-python 0.3.36 on the same texts: llama.cpp's
own test inputs plus random strings with invalid UTF-8."""
import random
import subprocess
from pathlib import Path

import pytest

import crafted_vocab
import llama_oracle

SEP = "\n__ggml_vocab_test__\n"
ALPHABET = list("abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789.,!?'\"-\n\t") + list("éèüßñçàа ыжкий中文字🦙🚀") + ["\u00a0", "Ａ", "Ｚ", "ﬁ", "ﬂ", "\u3000"]


def texts(shared, rng):
    base = (shared / "vocab" / "ggml-vocab-llama-spm.gguf.inp").read_bytes().split(SEP.encode())[:-1]
    out = list(base) + [b"qab", b"x qab", "qab жк".encode()]
    for _ in range(60):
        s = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 40))).encode()
        if rng.random() < 0.3:  # invalid UTF-8: stray continuation bytes, cut sequences
            at = rng.randint(0, len(s))
            s = s[:at] + rng.choice([b"\x80", b"\xff", b"\xe4\xb8", b"\xc3"]) + s[at:]
        out.append(s)
    return out


def compare(tokenize_tool, vocab, inputs, tmp_path):
    inp = tmp_path / "texts.inp"
    inp.write_bytes(b"".join(t + SEP.encode() for t in inputs))
    got = subprocess.run([tokenize_tool, vocab, inp], capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    ours = [[int(x) for x in line.split()] for line in got.stdout.split("\n")[: len(inputs)]]
    llm = llama_oracle.load(vocab, vocab_only=True, verbose=False)
    bad = []
    for text, mine in zip(inputs, ours):
        ref = llm.tokenize(text, add_bos=False, special=False)
        if mine != ref:
            bad.append((text[:40], mine[:12], ref[:12]))
    assert not bad, (len(bad), bad[:3])


def ugm_vocab(rng):
    corpus = "".join(rng.choice(ALPHABET) for _ in range(4000)).replace("\t", " ").replace("\n", " ")
    words = {w for w in corpus.split() if w}
    pieces = set()
    for c in set(corpus) - {" "}:
        pieces.add(c)
        if rng.random() < 0.5:
            pieces.add("\u2581" + c)
    for w in words:
        for _ in range(2):
            i = rng.randint(0, len(w) - 1)
            pieces.add(w[i : i + rng.randint(1, 4)])
        if rng.random() < 0.4:
            pieces.add("\u2581" + w[: rng.randint(1, len(w))])
    pieces |= {"\u2581", "fi", "fl", "X"}
    pieces -= {"Ａ", "ﬁ", "ﬂ"}  # the character map rewrites these before lookup
    # Characters only longer pieces cover: Viterbi weighs them against the unknown token.
    pieces -= {"q", "ж", "🚀", "ß", "\u2581q", "\u2581ж"}
    pieces |= {"qu", "qa", "жк", "🚀🦙", "ßa", "\u2581qz"}
    tokens = ["<pad>", "</s>", "<unk>"] + sorted(pieces)
    types = [3, 3, 2] + [1] * len(pieces)
    covering = {"qu", "qa", "жк", "🚀🦙", "ßa", "\u2581qz"}  # scored so that the unknown path can win or lose
    scores = [0.0, 0.0, 0.0] + [-rng.uniform(14, 26) if p in covering else -rng.uniform(1, 12) for p in sorted(pieces)]
    # "qab": "qa" + "b" (-38) against unknown "q" + "ab" (min score -30, so -41 with
    # llama.cpp's penalty of 10): the unknown token's score decides.
    for t, sc in [("qa", -15.0), ("b", -23.0), ("ab", -1.0), ("ÿÿ", -30.0)]:
        if t in tokens:
            scores[tokens.index(t)] = sc
        else:
            tokens.append(t)
            types.append(1)
            scores.append(sc)
    scores = [max(sc, -29.0) if ty == 1 and t != "ÿÿ" else sc for t, ty, sc in zip(tokens, types, scores)]
    for t, ty in [("<ud>", 4), ("ab cd", 4), ("▁zz", 4), ("<unused0>", 5)]:
        tokens.append(t)
        types.append(ty)
        scores.append(-rng.uniform(1, 12))
    return tokens, types, scores


CHARSMAP = {"Ａ": "A", "Ｚ": "Z", "ﬁ": "fi", "ﬂ": "fl", "\t": " ", "\u00a0": " ", "\u3000": " ", "ab": "X", "zz": "Z z"}


@pytest.mark.parametrize("space_prefix,merge_spaces", [(True, False), (False, False), (True, True)])
def test_ugm_equals_llama_cpp(tokenize_tool, shared, tmp_path, space_prefix, merge_spaces):
    rng = random.Random(7 + 2 * space_prefix + merge_spaces)
    tokens, types, scores = ugm_vocab(rng)
    vocab = tmp_path / "ugm.gguf"
    crafted_vocab.write_vocab(vocab, "t5", tokens, types, scores, {
        "tokenizer.ggml.precompiled_charsmap": ("charsmap", crafted_vocab.charsmap(CHARSMAP)),
        "tokenizer.ggml.add_space_prefix": ("bool", space_prefix),
        "tokenizer.ggml.remove_extra_whitespaces": ("bool", merge_spaces),
    })
    compare(tokenize_tool, vocab, texts(shared, rng), tmp_path)


def test_rwkv_equals_llama_cpp(tokenize_tool, shared, tmp_path):
    rng = random.Random(11)
    raw = {bytes([b]) for b in range(256)}
    sample = "".join(rng.choice(ALPHABET) for _ in range(3000)).encode()
    for _ in range(800):
        i = rng.randint(0, len(sample) - 2)
        raw.add(sample[i : i + rng.randint(2, 6)])
    raw |= {b"\n\n", b"\\x", b"\\"}
    # Token texts as llama.cpp's converter writes them: Python's repr of the bytes.
    tokens = ["<s>"] + [repr(b)[2:-1] for b in sorted(raw)]
    types = [3] + [1] * len(raw)
    vocab = tmp_path / "rwkv.gguf"
    crafted_vocab.write_vocab(vocab, "rwkv", tokens, types)
    compare(tokenize_tool, vocab, texts(shared, rng), tmp_path)


def test_corrupt_charsmap_is_refused(tokenize_tool, tmp_path):
    vocab = tmp_path / "bad.gguf"
    crafted_vocab.write_vocab(vocab, "t5", ["<pad>", "</s>", "<unk>", "a"], [3, 3, 2, 1], [0, 0, 0, -1], {
        "tokenizer.ggml.precompiled_charsmap": ("charsmap", (1000).to_bytes(4, "little") + b"\0" * 16)})
    inp = tmp_path / "t.inp"
    inp.write_text("a" + SEP)
    got = subprocess.run([tokenize_tool, vocab, inp], capture_output=True, text=True)
    assert got.returncode == 6 and "precompiled_charsmap" in got.stderr, got.stderr
