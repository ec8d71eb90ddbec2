"""HF tokenizer.json -> GGUF tokenizer metadata, against the `tokenizers`
package and llama.cpp's converter:
- the pre-tokenizer name comes from the converter's check-text hash: the
  committed table equals the converter's, our ids of the check text hash to the
  right name for llama.cpp's vocabularies, and tokenizer.json files rebuilt from
  real vocabularies (GPT-2, Qwen2, Llama 3, SmolLM2) convert to the name
  llama.cpp's converter gives them;
- WordPiece (BERT-style) and Unigram (T5-style, with a precompiled character
  map) tokenizers trained by `tokenizers`: our ids equal the package's."""
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import gguf
import pytest

import crafted_vocab
import fetched

ROOT = Path(__file__).resolve().parents[2]
ORACLE = Path(__file__).with_name("hf_tokenizers_oracle.py")
SEP = "\n__ggml_vocab_test__\n"
sys.path.insert(0, str(ROOT / "scripts"))
import gen_bpe_pre_hashes  # noqa: E402


@pytest.fixture(scope="module")
def converter_table():
    """llama.cpp's convert_hf_to_gguf base.py from the 0.3.36 sdist (scripts/fetch-models.sh keeps it)."""
    return str(fetched.vocab_2026() / "convert_hf_to_gguf_base.py")


def texts(shared):
    base = (shared / "vocab" / "ggml-vocab-llama-spm.gguf.inp").read_text(encoding="utf-8").split(SEP)[:-1]
    wiki = (shared / "data" / "wiki.test.raw").read_text(encoding="utf-8")[400000:420000]
    return base + [l for l in wiki.split("\n") if l.strip()][:100] + [
        "Ａｂ ﬁne\tthing\u00a0x  y", "  lead and trail  ", "don't STOP 中文 ÉCOLE 3.14159 I'VE"]


def ours(tokenize_tool, model, items, tmp_path, add_special):
    inp = tmp_path / "texts.inp"
    inp.write_text("".join(t + SEP for t in items), encoding="utf-8")
    args = [tokenize_tool, model, inp] + (["--add-special"] if add_special else [])
    got = subprocess.run(args, capture_output=True, text=True)
    assert got.returncode == 0, got.stderr
    return [[int(x) for x in line.split()] for line in got.stdout.split("\n")[: len(items)]]


def reference(torch_python, tokenizer_json, items, tmp_path, add_special):
    (tmp_path / "texts.json").write_text(json.dumps(items))
    subprocess.run([torch_python, ORACLE, "encode", tokenizer_json, tmp_path / "texts.json", tmp_path / "ref.json"]
                   + (["--add-special"] if add_special else []), check=True)
    return json.loads((tmp_path / "ref.json").read_text())


def hf_dir(shared, tmp_path, name):
    d = tmp_path / name
    d.mkdir()
    for f in ("config.json", "model.safetensors"):
        (d / f).symlink_to(shared / "models/stories260K" / f)
    return d


def test_committed_table_equals_converter(converter_table, tmp_path):
    out = subprocess.run([sys.executable, ROOT / "scripts/gen_bpe_pre_hashes.py", converter_table],
                         check=True, capture_output=True, text=True).stdout
    assert out == (ROOT / "libquant/src/eval/tokenizer/bpe_pre_hashes.inc").read_text()


# llama.cpp vocabularies whose check-text ids name their own pre-tokenizer (mpt and
# olmo, bert-bge and jina-v2-en share a vocabulary: the converter's later entry wins).
NAMES = {"gpt-2": "gpt-2", "deepseek-coder": "deepseek-coder", "deepseek-llm": "deepseek-llm", "falcon": "falcon",
         "starcoder": "starcoder", "refact": "refact", "mpt": "olmo", "bert-bge": "jina-v2-en", "command-r": "command-r",
         "qwen2": "qwen2", "llama-bpe": "llama-bpe"}


def vocab_file(shared, name):
    for d in (shared / "vocab", fetched.vocab_2026()):
        if (d / f"ggml-vocab-{name}.gguf").exists():
            return d / f"ggml-vocab-{name}.gguf"
    raise FileNotFoundError(name)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_check_text_ids_name_the_vocabulary(tokenize_tool, converter_table, shared, tmp_path, name):
    chktxt, table = gen_bpe_pre_hashes.table(converter_table)
    ids = ours(tokenize_tool, vocab_file(shared, name), [chktxt], tmp_path, True)[0]
    assert table.get(hashlib.sha256(str(ids).encode()).hexdigest()) == NAMES[name]


def read_vocab(path):
    r = gguf.GGUFReader(str(path))

    def strings(key):
        f = r.fields[key]
        return [bytes(f.parts[i]).decode("utf-8") for i in f.data]

    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in r.fields["tokenizer.ggml.token_type"].data]
    return strings("tokenizer.ggml.tokens"), types, strings("tokenizer.ggml.merges")


QWEN2 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
LLAMA3 = r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"""
BYTE_LEVEL = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
BYTE_LEVEL_NO_REGEX = dict(BYTE_LEVEL, use_regex=False)


def split(regex):
    return {"type": "Split", "pattern": {"Regex": regex}, "behavior": "Isolated", "invert": False}


# How each model's own tokenizer.json pre-tokenizes (as published on the Hub).
REAL_BPE = {
    "gpt-2": (lambda s: vocab_file(s, "gpt-2"), BYTE_LEVEL, None, False),
    # MPT/OLMo's vocabulary splits like GPT-2: only the hash (not the regex) says "olmo".
    "olmo": (lambda s: vocab_file(s, "mpt"), BYTE_LEVEL, None, False),
    "qwen2": (lambda s: vocab_file(s, "qwen2"),
              {"type": "Sequence", "pretokenizers": [split(QWEN2), BYTE_LEVEL_NO_REGEX]}, {"type": "NFC"}, False),
    "llama-bpe": (lambda s: vocab_file(s, "llama-bpe"),
                  {"type": "Sequence", "pretokenizers": [split(LLAMA3), BYTE_LEVEL_NO_REGEX]}, None, True),
    "smollm": (lambda s: fetched.smollm2(),
               {"type": "Sequence", "pretokenizers": [{"type": "Digits", "individual_digits": True}, BYTE_LEVEL]},
               None, False),
}


def write_bpe_json(path, vocab_gguf, pre, normalizer, llama3):
    tokens, types, merges = read_vocab(vocab_gguf)
    model = {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
             "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": llama3,
             "vocab": {t: i for i, (t, ty) in enumerate(zip(tokens, types)) if ty in (1, 6)},
             "merges": merges}
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
              "special": ty == 3} for i, (t, ty) in enumerate(zip(tokens, types)) if ty in (3, 4)]
    post = BYTE_LEVEL
    if llama3:
        bos = tokens.index("<|begin_of_text|>")
        post = {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<|begin_of_text|>", "type_id": 0}},
                                                         {"Sequence": {"id": "A", "type_id": 0}}],
                "pair": [], "special_tokens": {"<|begin_of_text|>": {"id": "<|begin_of_text|>", "ids": [bos],
                                                                      "tokens": ["<|begin_of_text|>"]}}}
    doc = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": added, "normalizer": normalizer,
           "pre_tokenizer": pre, "post_processor": post, "decoder": {"type": "ByteLevel", "add_prefix_space": True,
                                                                     "trim_offsets": True, "use_regex": True},
           "model": model}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


@pytest.mark.parametrize("name", sorted(REAL_BPE))
def test_real_bpe_tokenizer_json(cli, tokenize_tool, torch_python, converter_table, shared, tmp_path, name):
    vocab, pre, normalizer, llama3 = REAL_BPE[name]
    d = hf_dir(shared, tmp_path, "hf")
    write_bpe_json(d / "tokenizer.json", vocab(shared), pre, normalizer, llama3)
    chktxt, table = gen_bpe_pre_hashes.table(converter_table)
    # The rebuilt tokenizer.json is the model's: the package's own check-text hash names it.
    ref_chk = reference(torch_python, d / "tokenizer.json", [chktxt], tmp_path, True)[0]
    assert table.get(hashlib.sha256(str(ref_chk).encode()).hexdigest()) == name
    items = texts(shared)
    assert ours(tokenize_tool, d, items, tmp_path, False) == reference(torch_python, d / "tokenizer.json", items,
                                                                       tmp_path, False)
    # Converted, the GGUF names the pre-tokenizer as llama.cpp's converter does.
    out = json.loads(cli("--format", "json", "quantize", d, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    f = gguf.GGUFReader(out).fields["tokenizer.ggml.pre"]
    assert bytes(f.parts[f.data[0]]).decode() == name


@pytest.mark.parametrize("kind", ["wordpiece", "unigram"])
def test_trained_tokenizers_equal_package(tokenize_tool, torch_python, shared, tmp_path, kind):
    d = hf_dir(shared, tmp_path, kind)
    corpus = tmp_path / "corpus.txt"
    corpus.write_text((shared / "data" / "wiki.test.raw").read_text(encoding="utf-8")[:300000], encoding="utf-8")
    args = [torch_python, ORACLE, "train", kind, corpus, d]
    if kind == "unigram":  # T5-style: NFKC-like map (full-width, ligatures, control whitespace) in the normalizer
        cm = tmp_path / "charsmap.bin"
        cm.write_bytes(crafted_vocab.charsmap({"Ａ": "A", "Ｚ": "Z", "ﬁ": "fi", "ﬂ": "fl", "\t": " ", "\n": " ", "\r": " ",
                                               "\u00a0": " ", "\u3000": " "}))
        args.append(cm)
    subprocess.run(args, check=True)
    items = texts(shared)
    for add_special in (False, True):
        mine = ours(tokenize_tool, d, items, tmp_path, add_special)
        ref = reference(torch_python, d / "tokenizer.json", items, tmp_path, add_special)
        bad = [(items[i][:30], mine[i][:10], ref[i][:10]) for i in range(len(items)) if mine[i] != ref[i]]
        assert not bad, (add_special, len(bad), bad[:3])


def write_spm_bpe_json(path, vocab_gguf):
    """An HF tokenizer.json of a SentencePiece BPE model, as transformers converts one:
    every split of every piece into two pieces is a merge, in the piece's score order."""
    r = gguf.GGUFReader(str(vocab_gguf))
    f = r.fields["tokenizer.ggml.tokens"]
    tokens = [bytes(f.parts[i]).decode("utf-8") for i in f.data]
    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in r.fields["tokenizer.ggml.token_type"].data]
    scores = [float(r.fields["tokenizer.ggml.scores"].parts[i][0]) for i in r.fields["tokenizer.ggml.scores"].data]
    vocab = {t: i for i, t in enumerate(tokens)}
    merges = []
    for i, t in enumerate(tokens):
        if types[i] != 1:
            continue
        for k in range(1, len(t)):
            a, b = t[:k], t[k:]
            if a in vocab and b in vocab:
                merges.append((-scores[i], vocab[a], vocab[b], a, b))
    merges.sort()
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False, "normalized": False,
                "special": True} for i, t in enumerate(tokens) if types[i] in (2, 3)]
    doc = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": special,
           "normalizer": {"type": "Sequence", "normalizers": [{"type": "Prepend", "prepend": "\u2581"},
                                                               {"type": "Replace", "pattern": {"String": " "},
                                                                "content": "\u2581"}]},
           "pre_tokenizer": None, "post_processor": None,
           "decoder": {"type": "Sequence", "decoders": [
               {"type": "Replace", "pattern": {"String": "\u2581"}, "content": " "}, {"type": "ByteFallback"},
               {"type": "Fuse"}, {"type": "Strip", "content": " ", "start": 1, "stop": 0}]},
           "model": {"type": "BPE", "dropout": None, "unk_token": "<unk>", "continuing_subword_prefix": None,
                     "end_of_word_suffix": None, "fuse_unk": True, "byte_fallback": True, "ignore_merges": False,
                     "vocab": vocab, "merges": [[a, b] for *_, a, b in merges]}}
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_sentencepiece_style_bpe_json_equals_package(tokenize_tool, torch_python, shared, tmp_path):
    """Llama-2-style tokenizer.json (no tokenizer.model): converted to a `llama`
    vocabulary whose scores follow the merge order, our ids equal the package's
    (llama.cpp's converter would give every piece -1000 and lose the order)."""
    d = hf_dir(shared, tmp_path, "spm_bpe")
    write_spm_bpe_json(d / "tokenizer.json", shared / "vocab/ggml-vocab-llama-spm.gguf")
    items = texts(shared)
    mine = ours(tokenize_tool, d, items, tmp_path, False)
    ref = reference(torch_python, d / "tokenizer.json", items, tmp_path, False)
    bad = [(items[i][:30], mine[i][:10], ref[i][:10]) for i in range(len(items)) if mine[i] != ref[i]]
    assert not bad, (len(bad), bad[:3])
