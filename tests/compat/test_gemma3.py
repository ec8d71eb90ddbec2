"""Gemma 3 (GGUF) through the forward pass, against llama.cpp on the real
Gemma 3 270M (PyPI, cached by scripts/fetch-models.sh): sandwich norms, GeGLU,
q/k norms, scaled embeddings, local attention (window 512, 5 of 6 layers) with
its own RoPE base. Perplexity on wiki.test.raw with llama-perplexity's method
(ctx 512; the first half of each chunk is context) equals llama-cpp-python
0.3.36's within 0.5%; the importance matrix from `analyze` equals
llama-imatrix's (0.3.36, built by scripts/build-llama-tools.sh) within 1e-3
and makes an IQ2_XS file that llama.cpp loads and scores as we do; a
SmoothQuant W8A8 checkpoint of it loads in transformers + compressed-tensors,
gives our logits there, and its perplexity is within 2% of the original's."""
import json
import subprocess
import sys
from pathlib import Path

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
    # llama.cpp multiplies IQ2_XS rows with activations rounded to 8 bits in kernels chosen for the CPU it was
    # built on; we decode to f32 (the same value on every SIMD level). Within 0.5% on an Intel Xeon; 0.77% on an
    # AMD EPYC (ours 23.668 at both avx512 and scalar, llama.cpp 23.851). A wrong decode is off by far more.
    assert abs(ours / ref - 1) < 0.01, (ours, ref)


@pytest.mark.slow
def test_imatrix_equals_llama_imatrix(cli, shared, tmp_path):
    """On the model in F32 (on the Q4_K_M file llama.cpp multiplies with its
    activations rounded to Q8_K, which moves its matrix by up to 3%; we
    accumulate unrounded activations). What remains is llama.cpp's f16-table
    GELU and attention arithmetic: each tensor's values within 1e-3 (L2
    relative), every value within 5e-3."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    import imatrix_dat
    text = tmp_path / "wiki.txt"
    text.write_bytes((shared / "data/wiki.test.raw").read_bytes())  # the same dataset name in both files
    model = json.loads(cli("--format", "json", "quantize", fetched.gemma3(), "gguf", "-q", "F32", "--allow-requantize",
                           "-o", tmp_path).stdout)["output_path"]
    subprocess.run([fetched.llama_tools() / "llama-imatrix", "-m", model, "-f", text.name, "-c", "512", "-b", "512",
                    "--chunks", "2", "-t", "2", "-o", "theirs.dat", "--output-format", "dat"],
                   cwd=tmp_path, check=True, capture_output=True)
    cli("analyze", model, "--data", text, "--ctx", 512, "--chunks", 2, "-o", tmp_path / "ours.dat")
    ours, chunks, _ = imatrix_dat.load_dat(tmp_path / "ours.dat")
    theirs, chunks_ref, _ = imatrix_dat.load_dat(tmp_path / "theirs.dat")
    assert chunks == chunks_ref == 2 and set(ours) == set(theirs) and len(ours) == 18 * 7
    for name, (ncall, values) in ours.items():
        ref_ncall, ref = theirs[name]
        assert ncall == ref_ncall, name
        assert np.linalg.norm(values - ref) < 1e-3 * np.linalg.norm(ref), name
        assert np.max(np.abs(values - ref) / np.maximum(np.abs(ref), 1e-3 * np.max(ref))) < 5e-3, name
    Path(model).unlink()


@pytest.mark.slow
def test_smoothquant_w8a8_loads_in_transformers_within_a_few_percent(cli, shared, torch_python, tmp_path):
    """Gemma's norms are written as HF stores them (w, not 1 + w), under their
    own names, with a Gemma 3 config made from the GGUF metadata and a
    tokenizer.model rebuilt from its vocabulary."""
    model, text = fetched.gemma3(), shared / "data/wiki.test.raw"
    cli("quantize", model, "smoothquant", "--smoothquant", "-o", tmp_path, "-n", "w8a8", "--calibration-data",
        shared / "data/calib.txt", "--calibration-samples", 16, "--calibration-seq-len", 512)
    ckpt = tmp_path / "w8a8"
    config = json.loads((ckpt / "config.json").read_text())
    assert config["model_type"] == "gemma3_text" and config["layer_types"][5] == "full_attention"
    ids = json.loads(cli("tokenize", model, "--file", text).stdout)["ids"][:CHUNKS * CTX]
    chunks = [ids[c * CTX:(c + 1) * CTX] for c in range(CHUNKS)]
    for chunk in chunks:
        chunk[0] = ids[0]  # BOS, as llama-perplexity starts every chunk
    (tmp_path / "chunks.json").write_text(json.dumps(chunks))
    probe = ",".join(map(str, ids[:16]))
    subprocess.run([torch_python, str(Path(__file__).with_name("ct_oracle.py")), ckpt, probe,
                    tmp_path / "oracle.json", tmp_path / "chunks.json"], check=True, capture_output=True)
    ref = json.loads((tmp_path / "oracle.json").read_text())
    original, _ = our_perplexity(cli, model, text)
    assert abs(ref["runtime_perplexity"] / original - 1) < 0.02, (ref["runtime_perplexity"], original)
    w8a8, _ = our_perplexity(cli, ckpt, text)  # our int8 engine on the same checkpoint
    # 3%: Gemma's int8 activations are chaotic. Float-rounding changes of 1e-6 in the attention output (BLAS
    # instead of sequential sums: float logits move by 4e-5) flip per-token int8 steps of outlier-scaled rows
    # and move these two chunks' W8A8 perplexity from 15.71 to 15.99 (float 15.56).
    assert abs(w8a8 / original - 1) < 0.03, (w8a8, original)
    # Our logits on the checkpoint against the package's emulation, within the drift the oracle itself shows
    # between float32 and float64 (Gemma's large activations make int8 rounding steps flip often).
    ours = np.array(json.loads(cli("quality", "logits", ckpt, "--ids", probe).stdout)["logits"])
    emulated, f64 = np.array(ref["emulated_logits"]), np.array(ref["emulated_logits_f64"])
    assert np.abs(ours - emulated).mean() <= 1.5 * np.abs(f64 - emulated).mean()
