"""`quantize MODEL smoothquant`: the W8A8 compressed-tensors checkpoint's
layout (dtypes, shapes, scales, config), its numbers against an independent
numpy quantization of the same smoothed weights, its quality, and the error
paths (exit 2 for flags, 14 for a model smoothing cannot handle)."""
import json
import os
import shutil

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

CALIB = ["--calibration-samples", "8", "--calibration-seq-len", "128"]
LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def quantize(cli, model, out, *flags):
    proc, res = cli.json("quantize", model, "smoothquant", *flags, "-o", out, "-n", "w8a8", *CALIB)
    assert proc.returncode == 0, proc.stderr
    return out / "w8a8", res


def test_layout_and_numbers(cli, model_dir, tmp_path):
    ckpt, res = quantize(cli, model_dir, tmp_path, "--smoothquant", "--alpha", "0.5")
    assert res["quantization_level"] == "W8A8" and res["quantized_linears"] == 35
    assert {g["alpha"] for g in res["smoothing"]} == {0.5}
    cfg = json.loads((ckpt / "config.json").read_text())
    qc = cfg["quantization_config"]
    assert qc["format"] == "int-quantized" and qc["ignore"] == ["lm_head"] and qc["quant_method"] == "compressed-tensors"
    g = qc["config_groups"]["group_0"]
    assert g["weights"]["strategy"] == "channel" and g["input_activations"]["strategy"] == "token"
    assert g["input_activations"]["dynamic"] is True
    assert (ckpt / "tokenizer.model").exists()
    proc, info = cli.json("info", ckpt)
    assert proc.returncode == 0 and "W8A8" in info["quantization"] and "dynamic per token" in info["quantization"]
    st = load_file(ckpt / "model.safetensors")
    orig = load_file(model_dir / "model.safetensors")
    for layer in range(5):
        for lin in LINEARS:
            p = f"model.layers.{layer}.{lin}"
            q, s = st[p + ".weight"], st[p + ".weight_scale"]
            assert q.dtype == np.int8 and q.shape == orig[p + ".weight"].shape
            assert s.dtype == np.float32 and s.shape == (q.shape[0], 1)
            assert p + ".input_scale" not in st and p + ".weight_zero_point" not in st
            # Per-channel: every row reaches (or nearly reaches) the int8 range.
            assert np.all(np.abs(q.astype(np.int32)).max(axis=1) >= 127)
    # Independent check of the smoothing fold on layer 0's attention group:
    # norm / s and W * s, then quantized here with compressed-tensors' rules.
    norm0, norm1 = orig["model.layers.0.input_layernorm.weight"], st["model.layers.0.input_layernorm.weight"]
    s = norm0 / norm1
    for lin in ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"]:
        p = f"model.layers.0.{lin}"
        w = orig[p + ".weight"] * s[None, :]
        scale = np.maximum(np.abs(w).max(axis=1, keepdims=True) / np.float32(127.5), np.finfo(np.float32).eps)
        want = np.round(np.clip(w / scale, -128, 127)).astype(np.int8)
        assert np.abs(st[p + ".weight_scale"] - scale).max() <= 1e-6 * np.abs(scale).max()
        assert (np.abs(want.astype(int) - st[p + ".weight"].astype(int)) <= 1).all()
        assert (want == st[p + ".weight"]).mean() > 0.999
    # Untouched tensors are stored as they were.
    assert np.array_equal(st["model.embed_tokens.weight"], orig["model.embed_tokens.weight"])
    assert np.array_equal(st["model.norm.weight"], orig["model.norm.weight"])


def test_static_activations_write_input_scales(cli, model_dir, tmp_path):
    ckpt, res = quantize(cli, model_dir, tmp_path, "--smoothquant", "--static-activations")
    assert res["activation_quantization"] == "static per tensor"
    g = json.loads((ckpt / "config.json").read_text())["quantization_config"]["config_groups"]["group_0"]
    assert g["input_activations"] == {"dynamic": False, "group_size": None, "num_bits": 8, "strategy": "tensor",
                                      "symmetric": True, "type": "int"}
    st = load_file(ckpt / "model.safetensors")
    for layer in range(5):
        for lin in LINEARS:
            sc = st[f"model.layers.{layer}.{lin}.input_scale"]
            assert sc.shape == (1,) and sc[0] > 0


def test_quality_close_to_the_original(cli, shared, model_dir, tmp_path):
    (tmp_path / "n").mkdir()
    naive, _ = quantize(cli, model_dir, tmp_path / "n")
    auto, res = quantize(cli, model_dir, tmp_path, "--smoothquant", "--alpha", "auto")
    # The search's whole-model candidates; the checkpoint carries the one with the least KL.
    cands = {c["candidate"]: c["mean_kld"] for c in res["alpha_candidates"]}
    assert {"per-group search", "no smoothing", "alpha 0.50 everywhere"} <= set(cands) and min(cands.values()) > 0
    best = min(cands, key=cands.get)
    alphas = [g["alpha"] for g in res["smoothing"]]
    if best == "no smoothing":
        assert alphas == [None] * len(alphas)
    elif best.startswith("alpha "):
        assert alphas == pytest.approx([float(best.split()[1])] * len(alphas))
    assert all("int8_error" in g for g in res["smoothing"])
    for ckpt in (naive, auto):
        proc, rep = cli.json("quality", "report", model_dir, ckpt, "--data", shared / "data/eval-tinystories.txt",
                             "--ctx", "128", "--chunks", "12")
        assert proc.returncode == 0, proc.stderr
        m = rep["metrics"]
        assert abs(m["perplexity_delta_pct"]) < 1.0 and 0 < m["mean_kld"] < 0.01


def test_flag_errors_exit_2(cli, model_dir, tmp_path):
    cases = [
        ["quantize", model_dir, "smoothquant", "--alpha", "0.5"],              # --alpha without --smoothquant
        ["quantize", model_dir, "smoothquant", "--smoothquant", "--alpha", "1.5"],
        ["quantize", model_dir, "smoothquant", "--smoothquant", "--alpha", "high"],
        ["quantize", model_dir, "gguf", "-q", "Q8_0", "--smoothquant"],       # not a W8A8 format
        ["quantize", model_dir, "smoothquant", "-q", "Q4_K_M"],
    ]
    for args in cases:
        proc, res = cli.json(*args, "-o", tmp_path)
        assert proc.returncode == 2, (args, proc.stderr)
        assert res["status"] == "error" and res["suggestion"]
    assert list(tmp_path.iterdir()) == []


def test_unrelated_output_directory_is_refused(cli, model_dir, tmp_path):
    (tmp_path / "w8a8").mkdir()
    (tmp_path / "w8a8" / "notes.txt").write_text("mine")
    proc, res = cli.json("quantize", model_dir, "smoothquant", "-o", tmp_path, "-n", "w8a8")
    assert proc.returncode == 2 and (tmp_path / "w8a8" / "notes.txt").read_text() == "mine"


def test_non_finite_model_fails_with_the_layer(cli, model_dir, tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(model_dir, bad)
    (bad / "model.safetensors").chmod(0o644)
    t = load_file(bad / "model.safetensors")
    # Finite weights whose activations overflow: the calibration pass names the layer (exit 14).
    t["model.layers.2.input_layernorm.weight"][5] = 3.0e38
    save_file(t, bad / "model.safetensors", metadata={"format": "pt"})
    proc, res = cli.json("quantize", bad, "smoothquant", "--smoothquant", "-o", tmp_path, "-n", "out", *CALIB)
    assert proc.returncode == 14, proc.stderr
    assert "layer 2" in res["message"]
    assert not (tmp_path / "out").exists()
    # A non-finite weight is refused when it is read (exit 6, the tensor and index named).
    t["model.layers.2.input_layernorm.weight"][5] = np.inf
    save_file(t, bad / "model.safetensors", metadata={"format": "pt"})
    proc, res = cli.json("quantize", bad, "smoothquant", "--smoothquant", "-o", tmp_path, "-n", "out", *CALIB)
    assert proc.returncode == 6, proc.stderr
    assert "blk.2.attn_norm.weight" in res["message"] and "index 5" in res["message"]
    assert not (tmp_path / "out").exists()


def tree_bytes(d):
    return {p.relative_to(d): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("alpha,kill_at,resumed", [("0.5", "4", (4, False)), ("auto", "9", (8, True))])
def test_kill_and_resume_writes_the_uninterrupted_bytes(cli, model_dir, tmp_path, alpha, kill_at, resumed):
    # SIGKILL after 2 of 4 calibration batches (alpha 0.5) or right after the
    # search's plan was checkpointed (auto: 8 samples + 1); --resume finishes
    # with the files an uninterrupted run writes and clears its checkpoint.
    flags = ["--smoothquant", "--alpha", alpha, "--calibration-batch", "2", "--static-activations"]
    (tmp_path / "full").mkdir()
    full, _ = quantize(cli, model_dir, tmp_path / "full", "--no-checkpoints", *flags)
    out, ck = tmp_path / "out", tmp_path / "ck"
    out.mkdir()

    def job(name, *more):
        return ["quantize", model_dir, "smoothquant", *flags, "-o", out, "-n", name, *CALIB, *more]

    args = job("w8a8")
    env = {**os.environ, "LLM_QUANTIZE_TEST_KILL_AFTER_SEQUENCES": kill_at}
    proc = cli(*args, "--checkpoint-dir", ck, env=env)
    assert proc.returncode == -9 and not (out / "w8a8").exists()
    proc, res = cli.json(*args, "--resume", ck)
    assert proc.returncode == 0, proc.stderr
    assert (res["resumed_samples"], res["resumed_plan"]) == resumed
    assert tree_bytes(out / "w8a8") == tree_bytes(full)
    assert not any(ck.iterdir())
    # nothing (left) to resume, or another job's checkpoint -> exit 7, nothing written
    proc, res = cli.json(*job("again", "--resume", ck))
    assert proc.returncode == 7 and res["error_type"] == "CheckpointError"
    assert not (out / "again").exists()
