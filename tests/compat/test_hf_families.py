"""HF checkpoints of the newer families: random-init models built by
transformers 5.25 from shrunk configs (family_oracle.py, torch venv) —
Gemma 3 (window 8 over 24 positions, layer 5 global, random norm weights so
that HF's 1 + w matters), Gemma 2 (every other layer local, soft-caps) and OLMo 2 (norms only on the outputs, q/k norms over
all heads, rope_theta in transformers 5's rope_parameters). Our logits on the
HF directory equal transformers' float32 logits within 1e-5 relative; the GGUF
we convert carries llama.cpp's names and keys and gives transformers' logits in
our forward and in llama-cpp-python 0.3.36 (for Gemma within llama.cpp's
f16-table GELU, ~5e-4 of the logit range)."""
import json
import random
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

import llama_oracle

ORACLE = Path(__file__).with_name("family_oracle.py")


def build(torch_python, shared, d, family):
    rng = random.Random(1)
    ids = [1] + [rng.randint(3, 511) for _ in range(23)]
    subprocess.run([torch_python, ORACLE, family, d / "hf", shared / "models/stories260K/tokenizer.model",
                    ",".join(map(str, ids)), d / "ref.json"], check=True, capture_output=True)
    return d / "hf", ids, np.array(json.loads((d / "ref.json").read_text())["logits"])


@pytest.fixture(scope="module")
def gemma3(torch_python, shared, tmp_path_factory):
    return build(torch_python, shared, tmp_path_factory.mktemp("gemma3_hf"), "gemma3")


@pytest.fixture(scope="module")
def gemma2(torch_python, shared, tmp_path_factory):
    return build(torch_python, shared, tmp_path_factory.mktemp("gemma2_hf"), "gemma2")


@pytest.fixture(scope="module")
def olmo2(torch_python, shared, tmp_path_factory):
    return build(torch_python, shared, tmp_path_factory.mktemp("olmo2_hf"), "olmo2")


def logits(cli, model, ids):
    return np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])


@pytest.mark.parametrize("family", ["gemma2", "gemma3", "olmo2"])
def test_hf_logits_equal_transformers(cli, request, family):
    hf, ids, ref = request.getfixturevalue(family)
    ours = logits(cli, hf, ids)
    assert np.max(np.abs(ours - ref)) < 1e-5 * np.max(np.abs(ref))


def llama_cpp_logits(path, ids):
    llm = llama_oracle.load(path, n_ctx=64, n_batch=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    return np.array(llm.scores[: len(ids), :512], dtype=np.float64)


def convert(cli, hf, tmp_path, arch):
    """Our F32 GGUF of an HF checkpoint, and its reader (architecture checked)."""
    out = json.loads(cli("--format", "json", "quantize", hf, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    r = gguf.GGUFReader(out)
    assert bytes(r.fields["general.architecture"].parts[-1]).decode() == arch
    return out, r


def test_olmo2_converted_gguf_equals_transformers_in_both_engines(cli, olmo2, tmp_path):
    hf, ids, ref = olmo2
    out, r = convert(cli, hf, tmp_path, "olmo2")
    assert float(r.fields["olmo2.rope.freq_base"].parts[-1][0]) == 50000.0
    shapes = {t.name: list(t.shape) for t in r.tensors}
    assert shapes["blk.0.attn_q_norm.weight"] == [64] and shapes["blk.0.attn_k_norm.weight"] == [32]
    assert "blk.0.post_attention_norm.weight" in shapes and "blk.0.attn_norm.weight" not in shapes
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 1e-4 * np.max(np.abs(ref))


def test_gemma3_converted_gguf_equals_transformers_in_both_engines(cli, gemma3, tmp_path):
    hf, ids, ref = gemma3
    out, r = convert(cli, hf, tmp_path, "gemma3")
    assert int(r.fields["gemma3.attention.sliding_window"].parts[-1][0]) == 8
    assert int(r.fields["gemma3.attention.key_length"].parts[-1][0]) == 16
    assert not bool(r.fields["tokenizer.ggml.add_space_prefix"].parts[-1][0])
    names = {t.name for t in r.tensors}
    assert {"blk.5.post_attention_norm.weight", "blk.5.ffn_norm.weight", "blk.5.post_ffw_norm.weight",
            "blk.5.attn_q_norm.weight"} <= names
    assert "output.weight" not in names  # tied
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 2e-3 * np.max(np.abs(ref))
    assert (got.argmax(-1) == ref.argmax(-1)).all()


def test_gemma2_converted_gguf_equals_transformers_in_both_engines(cli, gemma2, tmp_path):
    hf, ids, ref = gemma2
    out, r = convert(cli, hf, tmp_path, "gemma2")
    assert float(r.fields["gemma2.attn_logit_softcapping"].parts[-1][0]) == 5.0
    assert float(r.fields["gemma2.final_logit_softcapping"].parts[-1][0]) == 3.0
    assert int(r.fields["gemma2.attention.sliding_window"].parts[-1][0]) == 8
    assert "gemma2.attention.sliding_window_pattern" not in r.fields  # llama.cpp's default: every 2nd layer global
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 2e-3 * np.max(np.abs(ref))
    assert (got.argmax(-1) == ref.argmax(-1)).all()
