"""Mixture-of-experts checkpoints (Mixtral, Qwen2-MoE with its shared expert,
Qwen3-MoE): random-init models built by transformers 5.25 from shrunk configs
(family_oracle.py; 8 experts, top 2, 2 layers, widths 256).

Our logits on the HF directory equal transformers' float32 logits; the GGUF we
convert holds llama.cpp's stacked expert tensors (ffn_{gate,up,down}_exps,
ffn_gate_inp, the shared expert's *_shexp) byte for byte as the 2026
convert_hf_to_gguf.py writes them, with the same keys, and gives transformers'
logits in our forward and in llama-cpp-python 0.3.36. Our importance matrix
holds llama-imatrix's per-expert sums and counts (both file layouts), and
quantizing with it gives llama-quantize's bytes (all three from the 0.3.36
sdist, scripts/build-llama-tools.sh; llama-imatrix with an f32 KV cache and
flash attention off, so that its attention arithmetic is plain f32 as ours)."""
import json
import subprocess
import sys
from pathlib import Path

import gguf
import numpy as np
import pytest

import fetched
import llama_oracle
from family_checks import convert, family_builder, gguf_builder, logits, rel_err
from gguf_compare import assert_same_tensors

ORACLE = Path(__file__).with_name("family_oracle.py")
FAMILIES = ["mixtral", "qwen2moe", "qwen3moe"]
ARCH = {"mixtral": "llama", "qwen2moe": "qwen2moe", "qwen3moe": "qwen3moe"}


@pytest.fixture(scope="module")
def built(torch_python, shared, tmp_path_factory):
    """built(family): its checkpoint directory, ids and transformers' logits (made once per module)."""
    return family_builder(torch_python, shared, tmp_path_factory, 24, seed=2)


@pytest.mark.parametrize("family", FAMILIES)
def test_moe_logits_equal_transformers_from_hf_and_from_our_gguf_in_both_engines(cli, built, family, tmp_path):
    hf, ids, ref = built(family)
    assert rel_err(logits(cli, hf, ids), ref) < 1e-5
    out = convert(cli, hf, tmp_path)
    r = gguf.GGUFReader(out)
    arch = ARCH[family]
    assert r.fields["general.architecture"].contents() == arch
    assert r.fields[f"{arch}.expert_count"].contents() == 8 and r.fields[f"{arch}.expert_used_count"].contents() == 2
    shapes = {t.name: list(t.shape) for t in r.tensors}
    assert shapes["blk.1.ffn_gate_exps.weight"] == [256, 256, 8] and shapes["blk.1.ffn_gate_inp.weight"] == [256, 8]
    assert ("blk.1.ffn_gate_inp_shexp.weight" in shapes) == (family == "qwen2moe")
    assert rel_err(logits(cli, out, ids), ref) < 1e-5
    llm = llama_oracle.load(out, n_ctx=64, n_batch=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    theirs = np.array(llm.scores[: len(ids), :512], dtype=np.float64)
    assert rel_err(theirs, ref) < 1e-4


@pytest.mark.parametrize("outtype", ["F32", "F16"])
@pytest.mark.parametrize("family", FAMILIES)
def test_moe_converted_like_llama_cpp_converter(cli, torch_python, built, family, outtype, tmp_path):
    """F16 too: routers and the shared expert's gate stay F32, as the converter keeps them."""
    hf, _, _ = built(family)
    theirs_path = tmp_path / "theirs.gguf"
    subprocess.run([torch_python, ORACLE.with_name("converter_oracle.py"), fetched.converter_2026(), hf, theirs_path,
                    outtype.lower()], check=True, capture_output=True)
    ours = gguf.GGUFReader(convert(cli, hf, tmp_path / "ours", outtype))
    theirs = gguf.GGUFReader(theirs_path)
    assert_same_tensors(ours, theirs)
    arch = ARCH[family]
    keys = {k for k in theirs.fields if not k.startswith(("GGUF.", "general.name", "general.size_label"))}
    for k in keys:
        x, y = ours.fields[k].contents(), theirs.fields[k].contents()
        assert x == pytest.approx(y) if isinstance(y, float) else x == y, k
    assert f"{arch}.expert_count" in keys


@pytest.fixture(scope="module")
def f32_gguf(cli, built, tmp_path_factory):
    """f32_gguf(family): our F32 GGUF of the family's checkpoint (made once per module)."""
    return gguf_builder(cli, built, tmp_path_factory)


def imatrix_tensors(path):
    r = gguf.GGUFReader(path)
    return {t.name: np.array(t.data, dtype=np.float64).reshape(-1) for t in r.tensors}, r


def llama_imatrix(model, text, out, fmt):
    subprocess.run([fetched.llama_tools() / "llama-imatrix", "-m", model, "-f", text.name, "-c", "128", "-b", "128",
                    "--chunks", "3", "-t", "2", "-ctk", "f32", "-ctv", "f32", "-fa", "off", "-o", out.name, "--output-format", fmt],
                   cwd=text.parent, check=True, capture_output=True)


@pytest.mark.parametrize("family", FAMILIES)
def test_moe_imatrix_equals_llama_imatrix(cli, shared, f32_gguf, family, tmp_path):
    """Per-expert sums (in_sum2 [experts, cols]) and token counts ([experts, 1]):
    counts exact, every tensor's values within 1e-4 of its largest."""
    model = f32_gguf(family)
    text = tmp_path / "wiki.txt"
    text.write_bytes((shared / "data/wiki.test.raw").read_bytes()[:20000])
    llama_imatrix(model, text, tmp_path / "theirs.gguf", "gguf")
    cli("analyze", model, "--data", text, "--ctx", 128, "--chunks", 3, "-o", tmp_path / "ours.gguf")
    ours, r = imatrix_tensors(tmp_path / "ours.gguf")
    theirs, _ = imatrix_tensors(tmp_path / "theirs.gguf")
    assert set(ours) == set(theirs)
    assert "blk.1.ffn_down_exps.weight.in_sum2" in ours and "blk.1.ffn_gate_inp.weight.in_sum2" in ours
    counts = ours["blk.0.ffn_up_exps.weight.counts"]
    assert counts.shape == (8,) and counts.sum() == 3 * 128 * 2  # every token goes to two experts
    for name, ref in theirs.items():
        got = ours[name]
        assert got.shape == ref.shape, name
        if name.endswith(".counts"):
            assert (got == ref).all(), name
        else:
            assert np.max(np.abs(got - ref)) <= 1e-4 * np.max(np.abs(ref)), name
    assert [list(t.shape) for t in r.tensors if t.name == "blk.0.ffn_up_exps.weight.in_sum2"] == [[256, 8]]


def test_moe_legacy_imatrix_equals_llama_imatrix(cli, shared, f32_gguf, tmp_path):
    """The .dat layout: an expert weight's values are each expert's mean times the
    call count llama-imatrix derives from its busiest expert."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    import imatrix_dat
    model = f32_gguf("qwen2moe")
    text = tmp_path / "wiki.txt"
    text.write_bytes((shared / "data/wiki.test.raw").read_bytes()[:20000])
    llama_imatrix(model, text, tmp_path / "theirs.dat", "dat")
    cli("analyze", model, "--data", text, "--ctx", 128, "--chunks", 3, "-o", tmp_path / "ours.dat")
    ours, chunks, _ = imatrix_dat.load_dat(tmp_path / "ours.dat")
    theirs, chunks_ref, _ = imatrix_dat.load_dat(tmp_path / "theirs.dat")
    assert chunks == chunks_ref == 3 and set(ours) == set(theirs)
    for name, (ncall, values) in theirs.items():
        assert ours[name][0] == ncall, name
        assert np.max(np.abs(ours[name][1] - values)) <= 1e-4 * np.max(np.abs(values)), name


@pytest.mark.parametrize("qtype,family,with_imatrix", [
    ("Q4_K_M", "mixtral", False), ("Q4_K_M", "qwen2moe", False), ("Q4_K_M", "qwen3moe", False),
    ("Q4_K_M", "qwen3moe", True), ("IQ2_XS", "mixtral", True), ("IQ2_XS", "qwen2moe", True),
    ("MXFP4_MOE", "mixtral", False), ("MXFP4_MOE", "qwen2moe", False), ("MXFP4_MOE", "qwen3moe", False)])
def test_moe_quantized_like_llama_quantize(cli, shared, f32_gguf, qtype, family, with_imatrix, tmp_path):
    """Stacked expert tensors quantized expert by expert, each with its own
    importance; the mixture rules of 8-expert models; byte-identical files."""
    model = f32_gguf(family)
    extra = []
    if with_imatrix:
        text = tmp_path / "wiki.txt"
        text.write_bytes((shared / "data/wiki.test.raw").read_bytes()[:20000])
        cli("analyze", model, "--data", text, "--ctx", 128, "--chunks", 3, "-o", tmp_path / "imatrix.gguf")
        extra = ["--imatrix", tmp_path / "imatrix.gguf"]
    (tmp_path / "ours").mkdir()
    out = json.loads(cli("--format", "json", "quantize", model, "gguf", "-q", qtype, "-o", tmp_path / "ours",
                         *extra).stdout)["output_path"]
    theirs = tmp_path / "theirs.gguf"
    subprocess.run([fetched.llama_tools() / "llama-quantize", *map(str, extra), model, theirs, qtype, "2"],
                   check=True, capture_output=True)
    a = assert_same_tensors(out, theirs)
    assert np.isfinite(logits(cli, out, [1, 5, 9, 13])).all()  # and it runs (a [1, n] gate stored as [n])
    expected = {"MXFP4_MOE": ("MXFP4",), "Q4_K_M": ("Q4_K", "Q6_K"), "IQ2_XS": ("IQ2_XS", "Q2_K")}[qtype]
    assert a["blk.0.ffn_down_exps.weight"].tensor_type.name in expected
    if qtype == "MXFP4_MOE":  # experts MXFP4, everything else Q8_0
        assert {t.tensor_type.name for n, t in a.items() if "_exps." not in n and len(t.shape) > 1
                and "gate_inp" not in n} == {"Q8_0"}
