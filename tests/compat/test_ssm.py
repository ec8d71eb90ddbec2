"""State-space and hybrid models, random-init checkpoints built by
transformers 5.25 from shrunk configs (family_oracle.py):
- mamba2: 2 layers, hidden 256, 8 heads of 64 channels in 2 groups, state 16,
  4-tap convolution; transformers scans in chunks of 16 tokens;
- qwen35 (Qwen3.5): three gated-DeltaNet layers then one gated full-attention
  layer, 2 key heads and 4 value heads of 32 (so the converter reorders V
  heads), partial rotary (16 of 64 dims); transformers runs the delta rule in
  chunks of 64 tokens;
- qwen35moe (Qwen3.5-MoE): the same layers with 8 experts, top 2, and a shared
  expert (routers scaled x 20 so that the top-2 choices are decisive);
- qwen3next (Qwen3-Next): Qwen3.5-MoE's layers with HF's fused in_proj_qkvz and
  in_proj_ba, value heads kept in HF's order;
- qwen35vl: the same text model as the published Qwen3.5 checkpoints hold it
  (Qwen3_5ForConditionalGeneration: text_config, model.language_model.*, a
  vision tower we do not convert, and a multi-token-prediction block mtp.*).
A 512-token prompt crosses many chunk boundaries of transformers' chunked form.

Our logits on the HF directory equal transformers' float32 logits (its chunked
forms against our token-by-token recurrences); the GGUF we convert holds the
2026 convert_hf_to_gguf.py's tensors byte for byte with its keys (for qwen35
with --no-mtp: transformers' random-init checkpoints have no MTP block), and gives
transformers' logits in our forward and in llama-cpp-python 0.3.36. Our
importance matrix equals llama-imatrix's, and quantizing gives llama-quantize's
bytes, the scan's A / dt (and Mamba-2's D) and the convolutions kept F32."""
import json
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

import fetched
import llama_oracle
from family_checks import convert, family_builder, gguf_builder, logits, rel_err
from gguf_compare import assert_same_tensors

ORACLE = Path(__file__).with_name("family_oracle.py")
PROMPT = 512
FAMILIES = {
    "mamba2": dict(arch="mamba2", converter_flags=[], shapes={"blk.0.ssm_a": [1, 8], "blk.1.ssm_norm.weight": [256, 2]},
                   kept=["blk.0.ssm_a", "blk.0.ssm_d", "blk.0.ssm_dt.bias", "blk.0.ssm_conv1d.weight",
                         "blk.0.ssm_norm.weight"],
                   quantized=["blk.0.ssm_in.weight", "blk.1.ssm_out.weight"],
                   keys=["ssm.state_size", "ssm.group_count", "ssm.time_step_rank"],
                   types=[("Q4_K_M", False), ("Q8_0", False), ("Q2_K", False), ("IQ2_XS", True)]),
    "qwen35": dict(arch="qwen35", converter_flags=["--no-mtp"],
                   shapes={"blk.0.ssm_a": [4], "blk.0.attn_qkv.weight": [256, 256], "blk.3.attn_q.weight": [256, 512],
                           "blk.0.ssm_conv1d.weight": [4, 256]},
                   kept=["blk.0.ssm_a", "blk.0.ssm_dt.bias", "blk.0.ssm_conv1d.weight", "blk.0.ssm_norm.weight"],
                   quantized=["blk.0.attn_qkv.weight", "blk.0.ssm_out.weight", "blk.3.attn_q.weight"],
                   keys=["ssm.state_size", "attention.recurrent_layers", "rope.dimension_sections",
                         "full_attention_interval", "rope.dimension_count"],
                   # (Q2_K / Q3_K: the 2026 llama-quantize falls back to Q4_0 where rows do not fit 256-blocks,
                   # ours to IQ4_NL as February 2025's did: issue 31)
                   types=[("Q4_K_M", False), ("Q5_K_M", False), ("Q8_0", False), ("IQ2_XS", True),
                          ("IQ3_XXS", True)]),
    # Qwen3.5-MoE: the same layers with 8 experts (top 2, renormalised) and a shared expert with its gate.
    "qwen35moe": dict(arch="qwen35moe", converter_flags=["--no-mtp"],
                      shapes={"blk.0.ffn_gate_exps.weight": [256, 256, 8], "blk.3.ffn_gate_inp.weight": [256, 8],
                              "blk.0.ssm_a": [4]},
                      kept=["blk.0.ssm_a", "blk.0.ssm_dt.bias", "blk.0.ssm_conv1d.weight", "blk.0.ffn_gate_inp.weight"],
                      quantized=["blk.0.attn_qkv.weight", "blk.0.ffn_down_exps.weight", "blk.3.attn_q.weight"],
                      keys=["expert_count", "expert_used_count", "expert_feed_forward_length",
                            "expert_shared_feed_forward_length", "attention.recurrent_layers"],
                      types=[("Q4_K_M", False), ("IQ2_XS", True), ("MXFP4_MOE", False)]),
    # Qwen3-Next: Qwen3.5-MoE's layers as HF stores them before Qwen3.5: Q|K|V|Z and beta|alpha fused per key
    # head; the converter splits in_proj_qkvz into attn_qkv and attn_gate, keeps ssm_ba, reorders no heads.
    "qwen3next": dict(arch="qwen3next", converter_flags=["--no-mtp"],
                      shapes={"blk.0.attn_qkv.weight": [256, 256], "blk.0.attn_gate.weight": [256, 128],
                              "blk.0.ssm_ba.weight": [256, 8]},
                      kept=["blk.0.ssm_a", "blk.0.ssm_dt.bias", "blk.0.ssm_conv1d.weight", "blk.0.ffn_gate_inp.weight"],
                      quantized=["blk.0.attn_qkv.weight", "blk.0.ssm_ba.weight", "blk.0.ffn_down_exps.weight"],
                      keys=["expert_count", "ssm.group_count", "attention.recurrent_layers", "rope.dimension_count"],
                      types=[("Q4_K_M", False), ("IQ2_XS", True)]),
    # The published layout: Qwen3_5ForConditionalGeneration, text_config, model.language_model.*, a vision
    # tower (not converted) and a multi-token-prediction block, which the converter keeps as block 4.
    # (IQ types with an imatrix: neither llama-imatrix nor we run the MTP block, so both quantizers refuse.)
    "qwen35vl": dict(arch="qwen35", converter_flags=[],
                     shapes={"blk.4.nextn.eh_proj.weight": [512, 256], "blk.4.attn_q.weight": [256, 512]},
                     kept=["blk.0.ssm_a", "blk.0.ssm_dt.bias", "blk.0.ssm_conv1d.weight", "blk.4.nextn.enorm.weight"],
                     quantized=["blk.0.attn_qkv.weight", "blk.4.nextn.eh_proj.weight"],
                     imatrix=["blk.0.attn_qkv.weight", "blk.3.attn_q.weight"],
                     keys=["nextn_predict_layers", "attention.recurrent_layers", "block_count"],
                     types=[("Q4_K_M", False), ("Q6_K", False)]),
}


@pytest.fixture(scope="module")
def built(torch_python, shared, tmp_path_factory):
    """built(family): its checkpoint directory, ids and transformers' logits (made once per module)."""
    return family_builder(torch_python, shared, tmp_path_factory, PROMPT, seed=5)


@pytest.fixture(scope="module")
def f32_gguf(cli, built, tmp_path_factory):
    """f32_gguf(family): our F32 GGUF of the family's checkpoint (made once per module)."""
    return gguf_builder(cli, built, tmp_path_factory)


def run_llama_cpp(model, ids):
    """llama-cpp-python's logits with an f32 KV cache (its attention arithmetic then plain f32, as ours)."""
    llm = llama_oracle.load(model, n_ctx=len(ids), n_batch=len(ids), logits_all=True, verbose=False, type_k=0,
                            type_v=0)
    llm.eval(ids)
    return np.array(llm.scores[: len(ids), :512], dtype=np.float64)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_logits_equal_transformers_from_hf_and_from_our_gguf_in_both_engines(cli, built, f32_gguf, family):
    hf, ids, ref = built(family)
    assert ref.shape == (PROMPT, 512)
    # Qwen3-Next routes each token to 2 of its experts: a near-tie in the router flips one token's choice in one
    # engine or another, depending on the CPU's rounding (token 236 of 512: ours 2.1e-4 of transformers on an AMD
    # EPYC, where every other token is within 6e-5; llama.cpp 2.3e-4 on an Intel Xeon).
    tol = 5e-4 if family == "qwen3next" else 1e-4
    assert rel_err(logits(cli, hf, ids), ref) < tol
    assert rel_err(logits(cli, f32_gguf(family), ids), ref) < tol
    assert rel_err(run_llama_cpp(f32_gguf(family), ids), ref) < tol


def test_info_shows_the_mixers(cli, f32_gguf):
    info = json.loads(cli("--format", "json", "info", f32_gguf("mamba2")).stdout)
    assert info["architecture"] == "mamba2" and info["ssm_heads"] == 8 and info["ssm_state_size"] == 16
    assert "State-space mixers: 8 heads x 64, state 16, 2 groups" in cli("info", f32_gguf("mamba2")).stdout
    info = json.loads(cli("--format", "json", "info", f32_gguf("qwen35")).stdout)
    assert info["architecture"] == "qwen35" and info["recurrent_layers"] == 3 and info["num_heads"] == 4
    assert "Linear-attention layers (gated DeltaNet): 3 of 4 (4 value heads x 32, 2 key heads x 32)" in \
        cli("info", f32_gguf("qwen35")).stdout


@pytest.mark.parametrize("outtype", ["F32", "F16"])
@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_converted_like_llama_cpp_converter(cli, torch_python, built, family, outtype, tmp_path):
    """F16 too: A, D, dt, the convolutions and the norms stay F32, as the converter keeps them."""
    spec = FAMILIES[family]
    hf = built(family)[0]
    theirs_path = tmp_path / "theirs.gguf"
    subprocess.run([torch_python, ORACLE.with_name("converter_oracle.py"), fetched.converter_2026(), hf, theirs_path,
                    outtype.lower(), *spec["converter_flags"]], check=True, capture_output=True)
    ours = gguf.GGUFReader(convert(cli, hf, tmp_path / "ours", outtype))
    theirs = gguf.GGUFReader(theirs_path)
    # (ssm_a = -exp(A_log): the converter's torch exp is off by one ulp for about 1% of values, ours is not)
    a = assert_same_tensors(ours, theirs, within_one_ulp=(".ssm_a",))
    for name, shape in spec["shapes"].items():
        assert list(a[name].shape) == shape, name
    keys = {k for k in theirs.fields if not k.startswith(("GGUF.", "general.name", "general.size_label"))}
    for k in keys:
        x, y = ours.fields[k].contents(), theirs.fields[k].contents()
        assert x == pytest.approx(y) if isinstance(y, float) else x == y, k
        assert ours.fields[k].types == theirs.fields[k].types, k
    assert {f"{spec['arch']}.{k}" for k in spec["keys"]} <= keys


def wiki(shared, tmp_path):
    text = tmp_path / "wiki.txt"
    text.write_bytes((shared / "data/wiki.test.raw").read_bytes()[:20000])
    return text


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_imatrix_equals_llama_imatrix(cli, shared, f32_gguf, family, tmp_path):
    model, text = f32_gguf(family), wiki(shared, tmp_path)
    subprocess.run([fetched.llama_tools() / "llama-imatrix", "-m", model, "-f", text.name, "-c", "128", "-b", "128",
                    "--chunks", "3", "-t", "2", "-ctk", "f32", "-ctv", "f32", "-fa", "off", "-o", "theirs.gguf",
                    "--output-format", "gguf"], cwd=tmp_path, check=True, capture_output=True)
    cli("analyze", model, "--data", text, "--ctx", 128, "--chunks", 3, "-o", tmp_path / "ours.gguf")
    read = lambda p: {t.name: np.array(t.data, dtype=np.float64).reshape(-1) for t in gguf.GGUFReader(p).tensors}
    ours, theirs = read(tmp_path / "ours.gguf"), read(tmp_path / "theirs.gguf")
    assert set(ours) == set(theirs)
    spec = FAMILIES[family]
    assert {f"{n}.in_sum2" for n in spec.get("imatrix", spec["quantized"])} <= set(ours)
    for name, ref in theirs.items():
        if name.endswith(".counts"):
            assert (ours[name] == ref).all(), name
        else:
            assert np.max(np.abs(ours[name] - ref)) <= 1e-4 * np.max(np.abs(ref)), name


@pytest.mark.parametrize("family,qtype,with_imatrix",
                         [(f, t, i) for f in sorted(FAMILIES) for t, i in FAMILIES[f]["types"]])
def test_quantized_like_llama_quantize(cli, shared, f32_gguf, family, qtype, with_imatrix, tmp_path):
    model, extra = f32_gguf(family), []
    if with_imatrix:
        cli("analyze", model, "--data", wiki(shared, tmp_path), "--ctx", 128, "--chunks", 3, "-o",
            tmp_path / "imatrix.gguf")
        extra = ["--imatrix", tmp_path / "imatrix.gguf"]
    out = convert(cli, model, tmp_path / "ours", qtype, *extra)
    theirs = tmp_path / "theirs.gguf"
    subprocess.run([fetched.llama_tools() / "llama-quantize", *map(str, extra), model, theirs, qtype, "2"],
                   check=True, capture_output=True)
    a = assert_same_tensors(out, theirs)
    assert {n for n in FAMILIES[family]["kept"] if a[n].tensor_type.name == "F32"} == set(FAMILIES[family]["kept"])
    assert all(a[n].tensor_type.name != "F32" for n in FAMILIES[family]["quantized"])
    assert np.isfinite(logits(cli, out, [1, 5, 9, 13])).all()


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_dynamic_allocation_keeps_the_scan_in_f32_and_runs_in_llama_cpp(cli, shared, built, family, tmp_path):
    """-q dynamic straight from the HF directory: A, D, dt and the convolutions
    are never candidates; the projections meet the budget; llama.cpp runs the
    file and agrees with our forward pass on it."""
    hf, ids, ref = built(family)
    res = json.loads(cli("--format", "json", "quantize", hf, "gguf", "-q", "dynamic", "--target-bpw", 5, "-o",
                         tmp_path).stdout)
    assert res["file_size"] <= res["target_bytes"]
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(res["output_path"]).tensors}
    for name in FAMILIES[family]["kept"]:
        for layer in range(2):
            assert types[name.replace("blk.0.", f"blk.{layer}.")] == "F32", name
    assert all(types[n] != "F32" for n in FAMILIES[family]["quantized"])
    theirs = run_llama_cpp(res["output_path"], ids[:32])
    ours = logits(cli, res["output_path"], ids[:32])
    # The two engines agree on the quantized model better than it agrees with the float one (llama.cpp
    # multiplies K-quant weights with activations rounded to 8 bits, we decode to f32; these random-init
    # models are very sensitive: Q8_0 alone moves Qwen3.5's logits by 5%, and a mixture of experts may
    # route a token differently in the two engines once its weights are quantized).
    assert np.isfinite(theirs).all() and rel_err(ours, theirs) < rel_err(ours, ref[:32])


def test_quality_report_shows_recurrent_and_attention_layers_apart(cli, shared, f32_gguf, tmp_path):
    """Per-layer errors of a hybrid name each block's mixer, and the report averages each kind apart."""
    model = f32_gguf("qwen35")
    quantized = convert(cli, model, tmp_path / "q", "Q4_K_M")
    res = json.loads(cli("--format", "json", "quality", "report", model, quantized, "--data", wiki(shared, tmp_path),
                         "--ctx", 64, "--chunks", 2, "--include-layers").stdout)
    layers = res["layer_errors"]
    assert [l["mixer"] for l in layers] == ["linear_attention"] * 3 + ["attention"]
    assert all(l["relative_error"] > 0 for l in layers)
    by = {m["mixer"]: m for m in res["errors_by_mixer"]}
    assert by["linear_attention"]["layers"] == 3 and by["attention"]["layers"] == 1
    assert by["linear_attention"]["mean_relative_error"] == pytest.approx(
        np.mean([l["relative_error"] for l in layers[:3]]))
    assert by["attention"]["mean_relative_error"] == pytest.approx(layers[3]["relative_error"])
    human = cli("quality", "report", model, quantized, "--data", wiki(shared, tmp_path), "--ctx", 64, "--chunks", 2,
                "--include-layers").stdout
    assert "mean relative error, linear_attention layers (3)" in human


def test_prediction_block_without_importance_is_kept_at_q8_0(cli, shared, f32_gguf, tmp_path):
    """IQ2_XS with an imatrix of a published Qwen3.5 (MTP block): no calibration runs the MTP block, so
    llama-quantize stops on its first tensor; we keep that block's IQ-bound tensors at Q8_0, say so, and
    the file runs in llama.cpp."""
    model = f32_gguf("qwen35vl")
    cli("analyze", model, "--data", wiki(shared, tmp_path), "--ctx", 128, "--chunks", 3, "-o", tmp_path / "im.gguf")
    theirs = subprocess.run([fetched.llama_tools() / "llama-quantize", "--imatrix", tmp_path / "im.gguf", model,
                             tmp_path / "theirs.gguf", "IQ2_XS", "2"], capture_output=True)
    assert theirs.returncode != 0  # (what this test improves on)
    (tmp_path / "q").mkdir()
    proc = cli("--format", "json", "quantize", model, "gguf", "-q", "IQ2_XS", "--imatrix", tmp_path / "im.gguf",
               "-o", tmp_path / "q")
    assert "'blk.4.nextn.eh_proj.weight' (multi-token-prediction block) has no importance data" in proc.stderr
    out = json.loads(proc.stdout)["output_path"]
    types = {t.name: t.tensor_type.name for t in gguf.GGUFReader(out).tensors}
    assert types["blk.4.nextn.eh_proj.weight"] == "Q8_0" and types["blk.4.ffn_down.weight"] == "Q8_0"
    assert types["blk.0.ffn_gate.weight"] == "IQ2_XS"
    ids = list(range(1, 33))
    assert np.isfinite(run_llama_cpp(out, ids)).all() and np.isfinite(logits(cli, out, ids)).all()
