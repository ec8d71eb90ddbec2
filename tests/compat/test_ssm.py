"""State-space models: a random-init Mamba-2 built by transformers 5.25 from a
shrunk config (family_oracle.py: 2 layers, hidden 256, 8 heads of 64 channels
in 2 groups, state 16, 4-tap convolution; transformers scans in chunks of 16
tokens, so a 512-token prompt crosses 32 chunk boundaries).

Our logits on the HF directory equal transformers' float32 logits (its chunked
scan against our token-by-token recurrence); the GGUF we convert holds the 2026
convert_hf_to_gguf.py's tensors byte for byte (ssm_a = -exp(A_log) as [heads, 1],
the convolution without its unit axis, the gated norm one row per group) with
its keys, and gives transformers' logits in our forward and in llama-cpp-python
0.3.36. Our importance matrix equals llama-imatrix's for ssm_in / ssm_out, and
quantizing gives llama-quantize's bytes (the scan's A, D, dt and the
convolution stay F32)."""
import json
import random
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

import fetched
import llama_oracle
from gguf_compare import assert_same_tensors

ORACLE = Path(__file__).with_name("family_oracle.py")
PROMPT = 512


@pytest.fixture(scope="module")
def mamba2(torch_python, shared, tmp_path_factory):
    """The checkpoint directory, the prompt's ids and transformers' logits."""
    d = tmp_path_factory.mktemp("mamba2")
    rng = random.Random(5)
    ids = [1] + [rng.randint(3, 511) for _ in range(PROMPT - 1)]
    subprocess.run([torch_python, ORACLE, "mamba2", d / "hf", shared / "models/stories260K/tokenizer.model",
                    ",".join(map(str, ids)), d / "ref.json"], check=True, capture_output=True)
    return d / "hf", ids, np.array(json.loads((d / "ref.json").read_text())["logits"])


def logits(cli, model, ids):
    return np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])


def convert(cli, hf, out_dir, qtype="F32", *extra):
    out_dir.mkdir(exist_ok=True)
    return json.loads(cli("--format", "json", "quantize", hf, "gguf", "-q", qtype, "-o", out_dir,
                          *extra).stdout)["output_path"]


def rel_err(a, b):
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


@pytest.fixture(scope="module")
def f32_gguf(cli, mamba2, tmp_path_factory):
    return convert(cli, mamba2[0], tmp_path_factory.mktemp("mamba2_gguf"))


def test_mamba2_logits_equal_transformers_from_hf_and_from_our_gguf_in_both_engines(cli, mamba2, f32_gguf):
    hf, ids, ref = mamba2
    assert ref.shape == (PROMPT, 512)
    assert rel_err(logits(cli, hf, ids), ref) < 1e-4
    assert rel_err(logits(cli, f32_gguf, ids), ref) < 1e-4
    llm = llama_oracle.load(f32_gguf, n_ctx=PROMPT, n_batch=PROMPT, logits_all=True, verbose=False)
    llm.eval(ids)
    theirs = np.array(llm.scores[:PROMPT, :512], dtype=np.float64)
    assert rel_err(theirs, ref) < 1e-4


def test_mamba2_info_shows_the_mixer(cli, f32_gguf):
    info = json.loads(cli("--format", "json", "info", f32_gguf).stdout)
    assert info["architecture"] == "mamba2" and info["ssm_heads"] == 8 and info["ssm_state_size"] == 16
    assert "State-space mixers: 8 heads x 64, state 16, 2 groups" in cli("info", f32_gguf).stdout


@pytest.mark.parametrize("outtype", ["F32", "F16"])
def test_mamba2_converted_like_llama_cpp_converter(cli, torch_python, mamba2, outtype, tmp_path):
    """F16 too: ssm_a, ssm_d, the convolution and the norms stay F32, as the converter keeps them."""
    theirs_path = tmp_path / "theirs.gguf"
    subprocess.run([torch_python, ORACLE.with_name("converter_oracle.py"), fetched.converter_2026(), mamba2[0],
                    theirs_path, outtype.lower()], check=True, capture_output=True)
    ours = gguf.GGUFReader(convert(cli, mamba2[0], tmp_path / "ours", outtype))
    theirs = gguf.GGUFReader(theirs_path)
    a = assert_same_tensors(ours, theirs)
    assert list(a["blk.0.ssm_a"].shape) == [1, 8] and list(a["blk.1.ssm_norm.weight"].shape) == [256, 2]
    keys = {k for k in theirs.fields if not k.startswith(("GGUF.", "general.name", "general.size_label"))}
    for k in keys:
        x, y = ours.fields[k].contents(), theirs.fields[k].contents()
        assert x == pytest.approx(y) if isinstance(y, float) else x == y, k
    assert {"mamba2.ssm.state_size", "mamba2.ssm.group_count", "mamba2.ssm.time_step_rank"} <= keys


def wiki(shared, tmp_path):
    text = tmp_path / "wiki.txt"
    text.write_bytes((shared / "data/wiki.test.raw").read_bytes()[:20000])
    return text


def test_mamba2_imatrix_equals_llama_imatrix(cli, shared, f32_gguf, tmp_path):
    text = wiki(shared, tmp_path)
    subprocess.run([fetched.llama_tools() / "llama-imatrix", "-m", f32_gguf, "-f", text.name, "-c", "128", "-b", "128",
                    "--chunks", "3", "-t", "2", "-o", "theirs.gguf", "--output-format", "gguf"],
                   cwd=tmp_path, check=True, capture_output=True)
    cli("analyze", f32_gguf, "--data", text, "--ctx", 128, "--chunks", 3, "-o", tmp_path / "ours.gguf")
    read = lambda p: {t.name: np.array(t.data, dtype=np.float64).reshape(-1) for t in gguf.GGUFReader(p).tensors}
    ours, theirs = read(tmp_path / "ours.gguf"), read(tmp_path / "theirs.gguf")
    assert set(ours) == set(theirs) and "blk.1.ssm_out.weight.in_sum2" in ours and "blk.0.ssm_in.weight.counts" in ours
    for name, ref in theirs.items():
        if name.endswith(".counts"):
            assert (ours[name] == ref).all(), name
        else:
            assert np.max(np.abs(ours[name] - ref)) <= 1e-4 * np.max(np.abs(ref)), name


@pytest.mark.parametrize("qtype,with_imatrix", [("Q4_K_M", False), ("Q8_0", False), ("Q2_K", False),
                                                ("IQ2_XS", True)])
def test_mamba2_quantized_like_llama_quantize(cli, shared, f32_gguf, qtype, with_imatrix, tmp_path):
    extra = []
    if with_imatrix:
        cli("analyze", f32_gguf, "--data", wiki(shared, tmp_path), "--ctx", 128, "--chunks", 3, "-o",
            tmp_path / "imatrix.gguf")
        extra = ["--imatrix", tmp_path / "imatrix.gguf"]
    out = convert(cli, f32_gguf, tmp_path / "ours", qtype, *extra)
    theirs = tmp_path / "theirs.gguf"
    subprocess.run([fetched.llama_tools() / "llama-quantize", *map(str, extra), f32_gguf, theirs, qtype, "2"],
                   check=True, capture_output=True)
    a = assert_same_tensors(out, theirs)
    kept = {n for n, t in a.items() if t.tensor_type.name == "F32"}
    assert {"blk.0.ssm_a", "blk.0.ssm_d", "blk.0.ssm_dt.bias", "blk.0.ssm_conv1d.weight"} <= kept
    assert a["blk.0.ssm_in.weight"].tensor_type.name != "F32"
    assert np.isfinite(logits(cli, out, [1, 5, 9, 13])).all()


def test_mamba2_dynamic_allocation_keeps_the_scan_in_f32_and_runs_in_llama_cpp(cli, shared, mamba2, tmp_path):
    """-q dynamic straight from the HF directory: the SSM state tensors and the
    convolution are never candidates; the projections meet the budget."""
    hf, ids, ref = mamba2
    res = json.loads(cli("--format", "json", "quantize", hf, "gguf", "-q", "dynamic", "--target-bpw", 5, "-o",
                         tmp_path, "--calibration-data", wiki(shared, tmp_path)).stdout)
    assert res["file_size"] <= res["target_bytes"]
    r = gguf.GGUFReader(res["output_path"])
    types = {t.name: t.tensor_type.name for t in r.tensors}
    for layer in range(2):
        for n in ("ssm_a", "ssm_d", "ssm_dt.bias", "ssm_conv1d.weight", "ssm_norm.weight"):
            assert types[f"blk.{layer}.{n}"] == "F32", n
    assert types["blk.0.ssm_in.weight"] != "F32"
    llm = llama_oracle.load(res["output_path"], n_ctx=64, n_batch=64, logits_all=True, verbose=False)
    llm.eval(ids[:32])
    theirs = np.array(llm.scores[:32, :512], dtype=np.float64)
    ours = logits(cli, res["output_path"], ids[:32])
    assert np.isfinite(theirs).all() and rel_err(ours, theirs) < 0.05
    assert rel_err(ours, ref[:32]) < 0.5
