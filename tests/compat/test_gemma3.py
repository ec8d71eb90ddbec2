"""Gemma 3 (GGUF) through the forward pass, against llama.cpp on the real
Gemma 3 270M (PyPI, cached by scripts/fetch-models.sh): sandwich norms, GeGLU,
q/k norms, scaled embeddings, local attention (window 512, 5 of 6 layers) with
its own RoPE base. Perplexity on wiki.test.raw with llama-perplexity's method
(ctx 512; the first half of each chunk is context) equals llama-cpp-python
0.3.36's within 0.5%; an importance matrix from `analyze` makes an IQ2_XS file
that llama.cpp loads and scores as we do."""
import json

import numpy as np
import pytest

import fetched
import llama_oracle

CTX, CHUNKS = 512, 2


def llama_cpp_perplexity(model, text_path):
    llm = llama_oracle.load(model, n_ctx=CTX, n_batch=CTX, n_ubatch=CTX, logits_all=True, verbose=False)
    toks = llm.tokenize(text_path.read_bytes(), add_bos=True, special=False)
    nll = []
    for c in range(CHUNKS):
        batch = list(toks[c * CTX:(c + 1) * CTX])
        batch[0] = llm.token_bos()
        llm.reset()
        llm.eval(batch)
        logits = np.array(llm.scores[:CTX], dtype=np.float64)
        for j in range(CTX // 2, CTX - 1):
            row = logits[j]
            m = row.max()
            nll.append(m + np.log(np.exp(row - m).sum()) - row[batch[j + 1]])
    return float(np.exp(np.mean(nll))), len(nll)


def our_perplexity(cli, model, text_path):
    out = json.loads(cli("--format", "json", "quality", "perplexity", model, "--data", text_path, "--ctx", CTX,
                         "--chunks", CHUNKS, "--whole-model").stdout)
    return out["perplexity"], out["scored_tokens"]


@pytest.mark.slow
def test_perplexity_equals_llama_cpp(cli, shared):
    model, text = fetched.gemma3(), shared / "data/wiki.test.raw"
    ours, n = our_perplexity(cli, model, text)
    ref, n_ref = llama_cpp_perplexity(model, text)
    assert n == n_ref == CHUNKS * (CTX // 2 - 1)
    assert abs(ours / ref - 1) < 0.005, (ours, ref)


@pytest.mark.slow
def test_imatrix_iq2_xs_scores_as_in_llama_cpp(cli, shared, tmp_path):
    model, text = fetched.gemma3(), shared / "data/wiki.test.raw"
    imatrix = tmp_path / "gemma3.imatrix.gguf"
    cli("analyze", model, "--data", text, "--chunks", 2, "-o", imatrix)
    out = json.loads(cli("--format", "json", "quantize", model, "gguf", "-q", "IQ2_XS", "--imatrix", imatrix,
                         "--allow-requantize", "-o", tmp_path).stdout)
    import gguf
    types = {t.tensor_type.name for t in gguf.GGUFReader(out["output_path"]).tensors}
    assert "IQ2_XS" in types  # the 2048-wide ffn_down rows; 640-wide rows fall back as in llama-quantize
    ours, _ = our_perplexity(cli, out["output_path"], text)
    ref, _ = llama_cpp_perplexity(out["output_path"], text)
    assert abs(ours / ref - 1) < 0.005, (ours, ref)


def test_w8a8_checkpoint_refused_naming_the_family(cli, tmp_path):
    """The W8A8 output is an HF checkpoint, whose Gemma 3 layout is not written yet: exit 8, nothing written."""
    proc = cli("quantize", fetched.gemma3(), "smoothquant", "-o", tmp_path, "-n", "g3", check=False)
    assert proc.returncode == 8 and "Gemma3ForCausalLM" in proc.stderr
    assert not any(tmp_path.iterdir())
