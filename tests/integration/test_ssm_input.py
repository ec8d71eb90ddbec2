"""Mamba-2 checkpoints whose config.json and mixer tensors disagree. The base
case is a small random Mamba-2 (2 layers, hidden 64, 4 heads of 32 channels in
2 groups, state 8, 4 taps) with stories260K's tokenizer; it quantizes and
evaluates, and every changed copy ends with exit 6 naming the tensor or key at
fault, its input untouched and nothing written. The passes that do not cover
state-space layers yet refuse with exit 8 before writing anything."""
import json
import shutil

import numpy as np
import pytest

from crafted import copy_hf, write_safetensors
from test_hostile_input import expect, ppl_args, quant_args

D, HEADS, HEAD_DIM, GROUPS, STATE, TAPS, LAYERS = 64, 4, 32, 2, 8, 4, 2
INNER = HEADS * HEAD_DIM
CONV = INNER + 2 * GROUPS * STATE


def make_mamba2(shared, dst):
    dst.mkdir(parents=True)
    src = shared / "models/stories260K"
    for f in ("tokenizer.model", "tokenizer_config.json"):
        shutil.copy(src / f, dst / f)
    (dst / "config.json").write_text(json.dumps({
        "architectures": ["Mamba2ForCausalLM"], "model_type": "mamba2", "hidden_size": D, "num_hidden_layers": LAYERS,
        "vocab_size": 512, "expand": 2, "head_dim": HEAD_DIM, "num_heads": HEADS, "n_groups": GROUPS,
        "state_size": STATE, "conv_kernel": TAPS, "layer_norm_epsilon": 1e-5, "use_bias": False,
        "use_conv_bias": True, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
        "time_step_limit": [0.0, {"__float__": "Infinity"}]}))
    rng = np.random.default_rng(0)
    f32 = lambda *shape, scale=0.1: (scale * rng.standard_normal(shape)).astype(np.float32)
    t = {"backbone.embeddings.weight": f32(512, D, scale=1.0), "backbone.norm_f.weight": 1 + f32(D),
         "lm_head.weight": f32(512, D)}
    for layer in range(LAYERS):
        p = f"backbone.layers.{layer}."
        t.update({p + "norm.weight": 1 + f32(D), p + "mixer.in_proj.weight": f32(INNER + CONV + HEADS, D),
                  p + "mixer.conv1d.weight": f32(CONV, 1, TAPS, scale=0.5), p + "mixer.conv1d.bias": f32(CONV),
                  p + "mixer.dt_bias": f32(HEADS) - 2, p + "mixer.A_log": np.log(np.arange(1, HEADS + 1, dtype=np.float32)),
                  p + "mixer.D": np.ones(HEADS, np.float32), p + "mixer.norm.weight": 1 + f32(INNER),
                  p + "mixer.out_proj.weight": f32(D, INNER)})
    write_safetensors(dst / "model.safetensors", t, {"format": "pt"})
    return dst


@pytest.fixture(scope="module")
def mamba2(shared, tmp_path_factory):
    return make_mamba2(shared, tmp_path_factory.mktemp("mamba2") / "model")


def test_the_base_case_quantizes_and_evaluates(cli, shared, mamba2, tmp_path):
    res = json.loads(cli("--format", "json", *quant_args(mamba2, tmp_path, level="Q8_0")).stdout)
    assert res["output_path"].endswith("q.gguf")
    q8 = json.loads(cli("--format", "json", *ppl_args(shared, tmp_path / "q.gguf")).stdout)["perplexity"]
    ref = json.loads(cli("--format", "json", *ppl_args(shared, mamba2)).stdout)["perplexity"]
    assert 1 < ref < 5000 and abs(q8 / ref - 1) < 0.01, (q8, ref)


def _drop(name):
    return lambda t: {k: v for k, v in t.items() if k != name}


def _reshape(name, shape):
    def change(t):
        t[name] = np.zeros(shape, dtype=np.float32)
        return t
    return change


def _poison(name):
    def change(t):
        t[name] = t[name].copy()
        t[name].flat[1] = np.nan
        return t
    return change


L0 = "backbone.layers.0.mixer."
CASES = {
    # (changes, what the message names)
    "in_proj_rows": (dict(tensor_changes=_reshape(L0 + "in_proj.weight", (INNER + CONV + HEADS + 1, D))),
                     "blk.0.ssm_in.weight"),
    "groups_disagree": (dict(config_changes={"n_groups": 4}), "blk.0.ssm_in.weight"),
    "state_disagrees": (dict(config_changes={"state_size": 16}), "blk.0.ssm_in.weight"),
    "taps_disagree": (dict(tensor_changes=_reshape(L0 + "conv1d.weight", (CONV, 1, TAPS - 1))),
                      "blk.0.ssm_conv1d.weight"),
    "a_log_missing": (dict(tensor_changes=_drop("backbone.layers.1.mixer.A_log")), "blk.1.ssm_a"),
    "d_wrong_length": (dict(tensor_changes=_reshape(L0 + "D", (HEADS + 1,))), "blk.0.ssm_d"),
    "norm_wrong_length": (dict(tensor_changes=_reshape(L0 + "norm.weight", (INNER - 2,))), "blk.0.ssm_norm.weight"),
    "heads_disagree_with_head_dim": (dict(config_changes={"num_heads": 3}), "num_heads"),
    "groups_do_not_divide_heads": (dict(config_changes={"n_groups": 3}), "group count"),
    "nan_in_a_log": (dict(tensor_changes=_poison(L0 + "A_log")), "blk.0.ssm_a"),
    "layer_beyond_config": (dict(config_changes={"num_hidden_layers": 1}), "blk.1."),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_disagreeing_mamba2_checkpoints_exit_6_naming_the_fault(cli, shared, mamba2, case, tmp_path):
    changes, named = CASES[case]
    model = copy_hf(mamba2, tmp_path / "model", **changes)
    inputs = list(model.iterdir())
    for args in (quant_args(model, tmp_path, level="Q4_K_M"), ppl_args(shared, model)):
        proc = expect(cli, args, 6, inputs=inputs, outputs=[tmp_path / "q.gguf"])
        assert named in proc.stderr, proc.stderr[-800:]


def test_biased_projections_are_refused_before_anything_is_written(cli, mamba2, tmp_path):
    model = copy_hf(mamba2, tmp_path / "model", config_changes={"use_bias": True})
    proc = expect(cli, quant_args(model, tmp_path), 8, inputs=list(model.iterdir()), outputs=[tmp_path / "q.gguf"])
    assert "use_bias" in proc.stderr


def test_passes_without_state_space_support_refuse_clearly(cli, shared, mamba2, tmp_path):
    calib = ["--calibration-data", shared / "data/calib.txt", "--calibration-samples", 4, "--calibration-seq-len", 64]
    for method, extra in (("smoothquant", []), ("gptq", ["--group-size", 32]), ("awq", [])):
        proc = cli("quantize", mamba2, method, *extra, "-o", tmp_path, "-n", method, *calib)
        assert proc.returncode == 8 and "state-space" in proc.stderr, proc.stderr[-800:]
        assert not (tmp_path / method).exists()
    proc = cli("littlebit", "compress", mamba2, "-o", tmp_path / "lb.littlebit")
    assert proc.returncode == 8 and "state-space" in proc.stderr and not (tmp_path / "lb.littlebit").exists()
    cli(*quant_args(mamba2, tmp_path, name="f32.gguf", level="F32"))
    proc = cli("convert", tmp_path / "f32.gguf", "hf", "-o", tmp_path / "hf")
    assert proc.returncode == 8 and "state-space" in proc.stderr and not (tmp_path / "hf").exists()
