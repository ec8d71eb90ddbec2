"""Our converted GGUF loads in llama.cpp (through llama-cpp-python) and gives
the golden logits of an independent float64 forward within 1e-3."""
import json

import numpy as np
import pytest

import llama_oracle  # llama-cpp-python, installed by scripts/install-deps.sh; a missing oracle is a failure, not a skip


def golden_tokens(shared):
    """The 64 token ids the golden logits were computed for."""
    return json.loads((shared / "golden/stories260K/logits-eval64.json").read_text())["tokens"]


def llama_logits(path, tokens):
    llm = llama_oracle.load(str(path), n_ctx=128, n_batch=128, logits_all=True, verbose=False,
                          type_k=0, type_v=0, n_threads=2, seed=0)  # type 0 = F32 KV cache
    llm.eval(tokens)
    n_vocab = llm.n_vocab()
    return np.array(llm.scores[: len(tokens), :n_vocab], dtype=np.float32)


def test_f32_logits_match_golden(converted, shared):
    golden = np.load(shared / "golden/stories260K/logits-eval64.npy")
    ids = golden_tokens(shared)
    got = llama_logits(converted["F32"], ids)
    assert got.shape == golden.shape
    assert np.max(np.abs(got - golden)) < 1e-3
    assert (got.argmax(-1) == golden.argmax(-1)).all()


# Lossy levels: the tiny model is sensitive, so bound the drift loosely and
# require the greedy prediction to agree almost everywhere.
@pytest.mark.parametrize("level,tol", [("F16", 0.1), ("BF16", 0.5), ("Q8_0", 1.0)])
def test_lossy_levels_load_and_stay_close(converted, shared, level, tol):
    golden = np.load(shared / "golden/stories260K/logits-eval64.npy")
    ids = golden_tokens(shared)
    got = llama_logits(converted[level], ids)
    assert np.max(np.abs(got - golden)) < tol
    assert (got.argmax(-1) == golden.argmax(-1)).mean() >= 0.95
