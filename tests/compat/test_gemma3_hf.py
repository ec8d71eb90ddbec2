"""Gemma 3 HF checkpoints: a random-init model built by transformers from a
shrunk config (gemma3_oracle.py, torch venv; window 8 over 24 positions, layer
5 global, random norm weights so that HF's 1 + w matters). Our logits on the
HF directory equal transformers' float32 logits within 1e-5 relative; the GGUF
we convert it to carries llama.cpp's gemma3 keys and norms as 1 + w, and gives
transformers' logits in our forward and in llama-cpp-python 0.3.36 (there
within llama.cpp's f16-table GELU, ~5e-4 of the logit range)."""
import json
import random
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

import llama_oracle

ORACLE = Path(__file__).with_name("gemma3_oracle.py")


@pytest.fixture(scope="module")
def gemma3(torch_python, shared, tmp_path_factory):
    d = tmp_path_factory.mktemp("gemma3_hf")
    rng = random.Random(1)
    ids = [1] + [rng.randint(3, 511) for _ in range(23)]
    subprocess.run([torch_python, ORACLE, d / "hf", shared / "models/stories260K/tokenizer.model",
                    ",".join(map(str, ids)), d / "ref.json"], check=True, capture_output=True)
    return d / "hf", ids, np.array(json.loads((d / "ref.json").read_text())["logits"])


def logits(cli, model, ids):
    return np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])


def test_hf_logits_equal_transformers(cli, gemma3):
    hf, ids, ref = gemma3
    ours = logits(cli, hf, ids)
    assert np.max(np.abs(ours - ref)) < 1e-5 * np.max(np.abs(ref))


def test_converted_gguf_equals_transformers_in_both_engines(cli, gemma3, tmp_path):
    hf, ids, ref = gemma3
    out = json.loads(cli("--format", "json", "quantize", hf, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    r = gguf.GGUFReader(out)
    assert bytes(r.fields["general.architecture"].parts[-1]).decode() == "gemma3"
    assert int(r.fields["gemma3.attention.sliding_window"].parts[-1][0]) == 8
    assert int(r.fields["gemma3.attention.key_length"].parts[-1][0]) == 16
    assert not bool(r.fields["tokenizer.ggml.add_space_prefix"].parts[-1][0])
    names = {t.name for t in r.tensors}
    assert {"blk.5.post_attention_norm.weight", "blk.5.ffn_norm.weight", "blk.5.post_ffw_norm.weight",
            "blk.5.attn_q_norm.weight"} <= names
    assert "output.weight" not in names  # tied
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    llm = llama_oracle.load(out, n_ctx=64, n_batch=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    got = np.array(llm.scores[: len(ids), :512], dtype=np.float64)
    assert np.max(np.abs(got - ref)) < 2e-3 * np.max(np.abs(ref))
    assert (got.argmax(-1) == ref.argmax(-1)).all()
