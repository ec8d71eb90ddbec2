"""Qwen2 (qkv bias) and Qwen3 (q/k RMSNorm) checkpoints with a byte-level BPE
tokenizer.json: our GGUF carries the gpt2 vocabulary and merges, loads in
llama.cpp, and llama.cpp's logits equal an independent numpy forward."""
import json

import numpy as np
import pytest
from gguf import GGUFReader

import llama_oracle
from tiny_models import LLAMA3_SPLIT, LLAMA31_SCALING, QWEN2_SPLIT, forward, make_model


def field_strings(reader, key):
    f = reader.fields[key]
    return [bytes(f.parts[i]).decode() for i in f.data]


@pytest.mark.parametrize("arch", ["Qwen2ForCausalLM", "Qwen3ForCausalLM"])
def test_qwen_conversion_runs_in_llama_cpp(cli, tmp_path, arch):
    src = tmp_path / "hf"
    src.mkdir()
    cfg, W, vocab, merges = make_model(src, arch)
    proc = cli("--format", "json", "quantize", src, "gguf", "-q", "F32", "-o", tmp_path)
    out = json.loads(proc.stdout)["output_path"]

    r = GGUFReader(out)
    assert bytes(r.fields["tokenizer.ggml.model"].parts[-1]).decode() == "gpt2"
    assert bytes(r.fields["tokenizer.ggml.pre"].parts[-1]).decode() == "qwen2"
    tokens = field_strings(r, "tokenizer.ggml.tokens")
    assert tokens[: len(vocab)] == list(vocab)
    assert tokens[-2:] == ["<|endoftext|>", "<|im_start|>"]
    assert field_strings(r, "tokenizer.ggml.merges") == [f"{a} {b}" for a, b in merges]
    types = [int(r.fields["tokenizer.ggml.token_type"].parts[i][0]) for i in r.fields["tokenizer.ggml.token_type"].data]
    assert types[-2:] == [3, 3] and types[0] == 1
    assert bytes(r.fields["general.architecture"].parts[-1]).decode() == arch[:5].lower()
    names = {t.name for t in r.tensors}
    if arch == "Qwen2ForCausalLM":
        assert "blk.0.attn_q.bias" in names
    else:
        assert "blk.1.attn_k_norm.weight" in names

    ids = [5, 77, 200, 13, 99, 260, 3, 42, 150, 7, 88, 250]
    expected = forward(cfg, W, ids)
    llm = llama_oracle.load(out, n_ctx=64, n_batch=64, logits_all=True, verbose=False,
                          type_k=0, type_v=0, n_threads=2)
    llm.eval(ids)
    got = np.array(llm.scores[: len(ids), : llm.n_vocab()])
    assert got.shape == expected.shape
    scale = max(1.0, np.abs(expected).max())
    assert np.abs(got - expected).max() < 1e-3 * scale


@pytest.mark.parametrize("arch", ["Qwen2ForCausalLM", "Qwen3ForCausalLM"])
@pytest.mark.parametrize("source", ["hf", "gguf"])
def test_our_forward_matches_numpy(cli, tmp_path, arch, source):
    """Our own forward pass (rotate-half RoPE, qkv bias, q/k norm) on the HF
    directory and on our GGUF of it equals the independent numpy forward."""
    src = tmp_path / "hf"
    src.mkdir()
    cfg, W, _, _ = make_model(src, arch, seed=3)
    model = src
    if source == "gguf":
        model = json.loads(cli("--format", "json", "quantize", src, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    ids = [5, 77, 200, 13, 99, 260, 3, 42, 150, 7]
    got = np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])
    expected = forward(cfg, W, ids)
    assert np.abs(got - expected).max() < 1e-4 * max(1.0, np.abs(expected).max())


TRICKY = ("Hello world! It's 2024, they'LL say: \"don't\".\n\n  Numbers 1234567 and 3.14159;\ttabs\r\n"
          "Ünïcödé wörds, 日本語のテキスト, emoji 🙂 and   trailing spaces   \n")


@pytest.mark.parametrize("split,pre", [(QWEN2_SPLIT, "qwen2"), (LLAMA3_SPLIT, "llama-bpe")])
def test_pretokenizers_equal_llama_cpp(cli, tmp_path, split, pre):
    """Tokenization of the HF directory (tokenizer.json) and of our GGUF equals
    llama.cpp's tokenizer on our GGUF (qwen2 / Llama 3 pre-tokenizers, byte-level BPE)."""
    src = tmp_path / "hf"
    src.mkdir()
    make_model(src, "Qwen2ForCausalLM", split=split)
    out = json.loads(cli("--format", "json", "quantize", src, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    assert bytes(GGUFReader(out).fields["tokenizer.ggml.pre"].parts[-1]).decode() == pre
    llm = llama_oracle.load(out, vocab_only=True, verbose=False)
    ref = llm.tokenize(TRICKY.encode(), add_bos=False, special=False)
    for model in (src, out):
        ids = json.loads(cli("tokenize", model, "--text", TRICKY, "--no-bos").stdout)["ids"]
        assert ids == ref, model


def test_llama31_rope_scaling(cli, tmp_path):
    """Llama with "llama3" RoPE scaling: the converter writes rope_freqs.weight as
    llama.cpp's converter does; llama.cpp on our GGUF, and our own forward on the
    HF directory and on the GGUF, all equal the numpy forward (Q/K permuted)."""
    src = tmp_path / "hf"
    src.mkdir()
    cfg, W, _, _ = make_model(src, "LlamaForCausalLM", seed=5, split=LLAMA3_SPLIT, rope_scaling=LLAMA31_SCALING)
    out = json.loads(cli("--format", "json", "quantize", src, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    r = GGUFReader(out)
    freqs = next(t for t in r.tensors if t.name == "rope_freqs.weight")
    assert len(freqs.data) == 8 and float(np.asarray(freqs.data)[0]) == 1.0 and float(np.asarray(freqs.data)[-1]) == 8.0
    ids = list(range(3, 63, 2))  # 30 positions: long enough for the scaled frequencies to matter
    expected = forward(cfg, W, ids)
    scale = max(1.0, np.abs(expected).max())
    llm = llama_oracle.load(out, n_ctx=64, n_batch=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    assert np.abs(np.array(llm.scores[: len(ids), : llm.n_vocab()]) - expected).max() < 1e-3 * scale
    for model in (src, out):
        got = np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])
        assert np.abs(got - expected).max() < 1e-4 * scale, model


def test_littlebit_block_matching_on_qwen(cli, tmp_path):
    """Block-output matching handles Qwen2's qkv bias; Qwen3's q/k-normed
    attention is refused before any work is done (exit 8, pointing at
    --block-steps 0, nothing written) and compresses with it off."""
    def compress(arch, *flags, check=True):
        src = tmp_path / arch
        if not src.exists():
            src.mkdir()
            make_model(src, arch)
        out = tmp_path / (arch + "-out")
        out.mkdir(exist_ok=True)
        proc = cli("--format", "json", "littlebit", "compress", src, "-o", out, "-n", "m.littlebit", "--skip-validation",
                   "--no-checkpoints", *flags, check=check)
        return proc, json.loads(proc.stdout), out

    fast = ["--target-bpw", "2.0", "--calibration-samples", "2", "--calibration-seq-len", "32", "--refine-steps", "5"]
    proc, res, _ = compress("Qwen2ForCausalLM", *fast, "--block-steps", "3")
    assert res["layers"][0]["block_error"] >= 0

    proc, res, out = compress("Qwen3ForCausalLM", *fast, "--block-steps", "3", check=False)
    assert proc.returncode == 8 and res["status"] == "error", proc.stderr
    assert "q/k-normed" in res["message"] and "--block-steps 0" in res["suggestion"]
    assert list(out.iterdir()) == []
    # Refused before any work: even before the calibration text is read.
    proc, res, _ = compress("Qwen3ForCausalLM", "--calibration-data", tmp_path / "none.txt", check=False)
    assert proc.returncode == 8 and "q/k-normed" in res["message"]
    _, res, _ = compress("Qwen3ForCausalLM", *fast, "--block-steps", "0")
    assert "block_error" not in res["layers"][0]
