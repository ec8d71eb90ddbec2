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

from crafted import copy_hf, drop_tensor, reshape_tensor, write_safetensors
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


def _poison(name):
    def change(t):
        t[name] = t[name].copy()
        t[name].flat[1] = np.nan
        return t
    return change


L0 = "backbone.layers.0.mixer."
CASES = {
    # (changes, what the message names)
    "in_proj_rows": (dict(tensor_changes=reshape_tensor(L0 + "in_proj.weight", (INNER + CONV + HEADS + 1, D))),
                     "blk.0.ssm_in.weight"),
    "groups_disagree": (dict(config_changes={"n_groups": 4}), "blk.0.ssm_in.weight"),
    "state_disagrees": (dict(config_changes={"state_size": 16}), "blk.0.ssm_in.weight"),
    "taps_disagree": (dict(tensor_changes=reshape_tensor(L0 + "conv1d.weight", (CONV, 1, TAPS - 1))),
                      "blk.0.ssm_conv1d.weight"),
    "a_log_missing": (dict(tensor_changes=drop_tensor("backbone.layers.1.mixer.A_log")), "blk.1.ssm_a"),
    "d_wrong_length": (dict(tensor_changes=reshape_tensor(L0 + "D", (HEADS + 1,))), "blk.0.ssm_d"),
    "norm_wrong_length": (dict(tensor_changes=reshape_tensor(L0 + "norm.weight", (INNER - 2,))), "blk.0.ssm_norm.weight"),
    "heads_disagree_with_head_dim": (dict(config_changes={"num_heads": 3}), "num_heads"),
    "groups_do_not_divide_heads": (dict(config_changes={"n_groups": 3}), "group count"),
    "nan_in_a_log": (dict(tensor_changes=_poison(L0 + "A_log")), "blk.0.ssm_a"),
    "layer_beyond_config": (dict(config_changes={"num_hidden_layers": 1}), "blk.1."),
}


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


# ---- Qwen3.5: gated DeltaNet and gated attention layers ---------------------------------------------

KH, VH, KD = 2, 4, 16  # key heads, value heads, head size (keys and values)
QKV = 2 * KH * KD + VH * KD


def make_qwen35(shared, dst, layer_types=("linear_attention", "linear_attention", "linear_attention",
                                          "full_attention")):
    """A small random Qwen3.5 (hidden 64, 4 attention heads of 32 with 2 KV heads, 16 rotary dims)."""
    dst.mkdir(parents=True)
    src = shared / "models/stories260K"
    for f in ("tokenizer.model", "tokenizer_config.json"):
        shutil.copy(src / f, dst / f)
    (dst / "config.json").write_text(json.dumps({
        "architectures": ["Qwen3_5ForCausalLM"], "model_type": "qwen3_5_text", "hidden_size": D,
        "intermediate_size": 128, "num_hidden_layers": len(layer_types), "num_attention_heads": 4,
        "num_key_value_heads": 2, "head_dim": 32, "vocab_size": 512, "rms_norm_eps": 1e-6,
        "layer_types": list(layer_types), "linear_conv_kernel_dim": TAPS, "linear_key_head_dim": KD,
        "linear_value_head_dim": KD, "linear_num_key_heads": KH, "linear_num_value_heads": VH,
        "max_position_embeddings": 1024, "tie_word_embeddings": False, "bos_token_id": 1, "eos_token_id": 2,
        "rope_parameters": {"rope_type": "default", "rope_theta": 10000.0, "partial_rotary_factor": 0.5,
                            "mrope_section": [3, 3, 2], "mrope_interleaved": True}}))
    rng = np.random.default_rng(1)
    f32 = lambda *shape, scale=0.1: (scale * rng.standard_normal(shape)).astype(np.float32)
    t = {"model.embed_tokens.weight": f32(512, D, scale=1.0), "model.norm.weight": f32(D), "lm_head.weight": f32(512, D)}
    for layer, kind in enumerate(layer_types):
        p = f"model.layers.{layer}."
        t.update({p + "input_layernorm.weight": f32(D), p + "post_attention_layernorm.weight": f32(D),
                  p + "mlp.gate_proj.weight": f32(128, D), p + "mlp.up_proj.weight": f32(128, D),
                  p + "mlp.down_proj.weight": f32(D, 128)})
        if kind == "linear_attention":
            a = p + "linear_attn."
            t.update({a + "in_proj_qkv.weight": f32(QKV, D), a + "in_proj_z.weight": f32(VH * KD, D),
                      a + "in_proj_b.weight": f32(VH, D), a + "in_proj_a.weight": f32(VH, D),
                      a + "conv1d.weight": f32(QKV, 1, TAPS, scale=0.5), a + "dt_bias": f32(VH),
                      a + "A_log": np.log(np.arange(1, VH + 1, dtype=np.float32)), a + "norm.weight": 1 + f32(KD),
                      a + "out_proj.weight": f32(D, VH * KD)})
        else:
            a = p + "self_attn."
            t.update({a + "q_proj.weight": f32(2 * 4 * 32, D), a + "k_proj.weight": f32(2 * 32, D),
                      a + "v_proj.weight": f32(2 * 32, D), a + "o_proj.weight": f32(D, 4 * 32),
                      a + "q_norm.weight": f32(32), a + "k_norm.weight": f32(32)})
    write_safetensors(dst / "model.safetensors", t, {"format": "pt"})
    return dst


@pytest.fixture(scope="module")
def qwen35(shared, tmp_path_factory):
    return make_qwen35(shared, tmp_path_factory.mktemp("qwen35") / "model")


def test_the_qwen35_base_case_quantizes_and_evaluates(cli, shared, qwen35, tmp_path):
    json.loads(cli("--format", "json", *quant_args(qwen35, tmp_path, level="Q8_0")).stdout)
    q8 = json.loads(cli("--format", "json", *ppl_args(shared, tmp_path / "q.gguf")).stdout)["perplexity"]
    ref = json.loads(cli("--format", "json", *ppl_args(shared, qwen35)).stdout)["perplexity"]
    assert 1 < ref < 5000 and abs(q8 / ref - 1) < 0.01, (q8, ref)


def _types(*kinds):
    return {"layer_types": list(kinds)}


LA = "model.layers.0.linear_attn."
QWEN35_CASES = {
    # layer_types says full attention where the checkpoint holds a DeltaNet, and the other way round
    "layer_types_swapped": (dict(config_changes=_types("full_attention", "linear_attention", "linear_attention",
                                                       "full_attention")), "blk.0.attn_q.weight"),
    "layer_types_say_linear": (dict(config_changes=_types("linear_attention", "linear_attention", "linear_attention",
                                                          "linear_attention")), "blk.3.attn_qkv.weight"),
    "layer_types_too_short": (dict(config_changes=_types("linear_attention", "full_attention")), "layer_types"),
    "layer_types_unknown_kind": (dict(config_changes=_types("linear_attention", "linear_attention", "mamba",
                                                            "full_attention")), "layer_types"),
    "value_heads_disagree": (dict(config_changes={"linear_num_value_heads": 6}), "blk.0.attn_qkv.weight"),
    "key_heads_do_not_divide": (dict(config_changes={"linear_num_key_heads": 3}), "linear_num_key_heads"),
    "qkv_rows": (dict(tensor_changes=reshape_tensor(LA + "in_proj_qkv.weight", (QKV + 2, D))), "blk.0.attn_qkv.weight"),
    "gate_missing": (dict(tensor_changes=drop_tensor(LA + "in_proj_z.weight")), "blk.0.attn_gate.weight"),
    "alpha_wrong_rows": (dict(tensor_changes=reshape_tensor(LA + "in_proj_a.weight", (VH + 1, D))), "blk.0.ssm_alpha.weight"),
    "norm_wrong_length": (dict(tensor_changes=reshape_tensor(LA + "norm.weight", (KD + 1,))), "blk.0.ssm_norm.weight"),
    "nan_in_a_log": (dict(tensor_changes=_poison(LA + "A_log")), "blk.0.ssm_a"),
    "query_gate_missing": (dict(tensor_changes=reshape_tensor("model.layers.3.self_attn.q_proj.weight", (4 * 32, D))),
                           "blk.3.attn_q.weight"),
}


@pytest.mark.parametrize("family,case", [("mamba2", c) for c in sorted(CASES)] +
                         [("qwen35", c) for c in sorted(QWEN35_CASES)])
def test_disagreeing_checkpoints_exit_6_naming_the_fault(cli, shared, mamba2, qwen35, family, case, tmp_path):
    changes, named = (CASES if family == "mamba2" else QWEN35_CASES)[case]
    model = copy_hf(mamba2 if family == "mamba2" else qwen35, tmp_path / "model", **changes)
    inputs = list(model.iterdir())
    for args in (quant_args(model, tmp_path, level="Q4_K_M"), ppl_args(shared, model)):
        proc = expect(cli, args, 6, inputs=inputs, outputs=[tmp_path / "q.gguf"])
        assert named in proc.stderr, proc.stderr[-800:]


def test_unequal_key_and_value_head_sizes_are_refused(cli, qwen35, tmp_path):
    """llama.cpp's qwen35 graph takes both head sizes from one key; such a checkpoint exits 8."""
    model = copy_hf(qwen35, tmp_path / "model", config_changes={"linear_value_head_dim": 32})
    proc = expect(cli, quant_args(model, tmp_path), 8, inputs=list(model.iterdir()), outputs=[tmp_path / "q.gguf"])
    assert "linear_value_head_dim" in proc.stderr


def test_qwen35_passes_without_linear_attention_support_refuse_clearly(cli, shared, qwen35, tmp_path):
    calib = ["--calibration-data", shared / "data/calib.txt", "--calibration-samples", 4, "--calibration-seq-len", 64]
    for method, extra in (("smoothquant", []), ("gptq", ["--group-size", 32])):
        proc = cli("quantize", qwen35, method, *extra, "-o", tmp_path, "-n", method, *calib)
        assert proc.returncode == 8 and "linear-attention" in proc.stderr, proc.stderr[-800:]
        assert not (tmp_path / method).exists()
