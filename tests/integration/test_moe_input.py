"""Mixture-of-experts checkpoints whose config.json and expert tensors
disagree. The base case is stories260K turned into a 4-expert, top-2 Mixtral
(each layer's FFN copied into four perturbed experts and a random router);
it quantizes and evaluates, and every changed copy ends with exit 6 naming the
tensor at fault, its input untouched and nothing written."""
import json

import numpy as np
import pytest

from crafted import U32, Gguf, copy_hf, drop_tensor, read_safetensors, rename_tensor, reshape_tensor, write_safetensors
from test_hostile_input import expect, ppl_args, quant_args

EXPERTS = 4


def make_mixtral(shared, dst, experts=EXPERTS):
    src = shared / "models/stories260K"
    copy_hf(src, dst, config_changes={"architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
                                      "num_local_experts": experts, "num_experts_per_tok": min(2, experts)})
    tensors, meta = read_safetensors(dst / "model.safetensors")
    rng = np.random.default_rng(0)
    for layer in range(5):
        p = f"model.layers.{layer}."
        dense = {w: tensors.pop(p + f"mlp.{proj}.weight") for w, proj in (("w1", "gate_proj"), ("w3", "up_proj"),
                                                                           ("w2", "down_proj"))}
        for e in range(experts):
            for w, m in dense.items():
                tensors[p + f"block_sparse_moe.experts.{e}.{w}.weight"] = \
                    (m * (1 + 0.1 * rng.standard_normal(m.shape))).astype(np.float32)
        tensors[p + "block_sparse_moe.gate.weight"] = rng.standard_normal((experts, 64)).astype(np.float32)
    write_safetensors(dst / "model.safetensors", tensors, meta)
    return dst


@pytest.fixture(scope="module")
def mixtral(shared, tmp_path_factory):
    return make_mixtral(shared, tmp_path_factory.mktemp("mixtral") / "model")


def test_one_expert_stacks_stored_as_matrices_still_run(cli, shared, tmp_path):
    """A stack of one expert is [1, rows, cols]; quantized files store it as [rows, cols] (ggml_n_dims, as
    llama-quantize writes it), and the forward pass reads it either way."""
    one = make_mixtral(shared, tmp_path / "one", experts=1)
    cli(*quant_args(one, tmp_path, name="q8.gguf", level="Q8_0"))
    from gguf import GGUFReader
    shapes = {t.name: list(t.shape) for t in GGUFReader(str(tmp_path / "q8.gguf")).tensors}
    assert shapes["blk.0.ffn_up_exps.weight"] == [64, 172] and shapes["blk.0.ffn_gate_inp.weight"] == [64]
    hf = json.loads(cli("--format", "json", *ppl_args(shared, one)).stdout)["perplexity"]
    q8 = json.loads(cli("--format", "json", *ppl_args(shared, tmp_path / "q8.gguf")).stdout)["perplexity"]
    assert abs(q8 / hf - 1) < 0.01, (q8, hf)


def test_the_base_case_quantizes_and_evaluates(cli, shared, mixtral, tmp_path):
    res = json.loads(cli("--format", "json", *quant_args(mixtral, tmp_path, level="Q4_K_M")).stdout)
    assert res["output_path"].endswith("q.gguf")
    ppl = json.loads(cli("--format", "json", *ppl_args(shared, tmp_path / "q.gguf")).stdout)
    assert 1 < ppl["perplexity"] < 512


def test_dynamic_allocation_covers_expert_tensors(cli, shared, mixtral, tmp_path):
    """-q dynamic: each stacked expert tensor is one allocation unit, its error
    measured expert by expert with each expert's own importance; the file
    meets the target and stays close to the float model."""
    data = shared / "data/eval-tinystories.txt"
    cli("analyze", mixtral, "--data", data, "--ctx", 64, "--chunks", 4, "-o", tmp_path / "imatrix.gguf")
    res = json.loads(cli("--format", "json", "quantize", mixtral, "gguf", "-q", "dynamic", "--target-bpw", 9,
                         "--imatrix", tmp_path / "imatrix.gguf", "-o", tmp_path, "-n", "dyn.gguf").stdout)
    assert res["file_size"] <= res["target_bytes"]
    measured = {t["layer_name"] for t in res["layer_summary"] if t["estimated_error"] > 0}
    # (ffn_down_exps rows are 172 wide: no candidate stores them, they keep the mixture's type)
    assert {f"blk.{l}.ffn_{p}_exps.weight" for l in range(5) for p in ("gate", "up")} <= measured
    ppl = json.loads(cli("--format", "json", *ppl_args(shared, tmp_path / "dyn.gguf")).stdout)["perplexity"]
    ref = json.loads(cli("--format", "json", *ppl_args(shared, mixtral)).stdout)["perplexity"]
    assert ppl < 1.05 * ref, (ppl, ref)


def test_calibrated_methods_refuse_moe_models_clearly(cli, shared, mixtral, tmp_path):
    calib = ["--calibration-data", shared / "data/calib.txt", "--calibration-samples", 4, "--calibration-seq-len", 64]
    for method, extra in (("smoothquant", ["--smoothquant"]), ("gptq", ["--group-size", 32])):
        proc = cli("quantize", mixtral, method, *extra, "-o", tmp_path, "-n", method, *calib)
        assert proc.returncode == 8 and "mixture-of-experts" in proc.stderr, proc.stderr[-800:]
        assert not (tmp_path / method).exists()
    cli(*quant_args(mixtral, tmp_path, name="f32.gguf", level="F32"))
    proc = cli("convert", tmp_path / "f32.gguf", "hf", "-o", tmp_path / "hf")
    assert proc.returncode == 8 and "mixture-of-experts" in proc.stderr and not (tmp_path / "hf").exists()


L0 = "model.layers.0.block_sparse_moe."
CASES = {
    # (changes, the tensor the message names)
    "expert_missing": (dict(tensor_changes=drop_tensor(L0 + "experts.3.w1.weight")), "blk.0.ffn_gate_exps.weight"),
    "expert_repeated": (dict(tensor_changes=rename_tensor(L0 + "experts.3.w2.weight", L0 + "experts.7.w2.weight")),
                        "blk.0.ffn_down_exps.weight"),
    "config_declares_more": (dict(config_changes={"num_local_experts": 5}), "ffn_"),
    "config_declares_fewer": (dict(config_changes={"num_local_experts": 3}), "ffn_"),
    "expert_shapes_differ": (dict(tensor_changes=reshape_tensor(L0 + "experts.1.w3.weight", (171, 64))),
                             "blk.0.ffn_up_exps.weight"),
    "router_wrong_shape": (dict(tensor_changes=reshape_tensor(L0 + "gate.weight", (EXPERTS + 1, 64))),
                           "blk.0.ffn_gate_inp.weight"),
    "router_missing": (dict(tensor_changes=drop_tensor(L0 + "gate.weight")), "blk.0.ffn_gate_inp.weight"),
    "more_experts_used_than_exist": (dict(config_changes={"num_experts_per_tok": 5}), "num_experts_per_tok"),
    "experts_without_config": (dict(config_changes={"num_local_experts": None}), "expert"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_moe_checkpoint_inconsistent_with_its_config(cli, shared, mixtral, tmp_path, case):
    changes, named = CASES[case]
    bad = copy_hf(mixtral, tmp_path / "model", **changes)
    out = tmp_path / "out"
    out.mkdir()
    proc = expect(cli, quant_args(bad, out), 6, inputs=[bad], outputs=[out / "q.gguf"])
    assert named in proc.stderr, proc.stderr[-1000:]
    expect(cli, ppl_args(shared, bad), 6, inputs=[bad])


def _swap_dims(g, name):
    t = g.tensor(name)
    t["ne"] = t["ne"][::-1]
    return g


GGUF_CASES = {
    "expert_count_5": (lambda g: g.set_kv("llama.expert_count", 5, U32), "blk.0.ffn_gate_inp.weight"),
    "expert_used_count_0": (lambda g: g.set_kv("llama.expert_used_count", 0, U32), "experts used per token"),
    "router_dims_swapped": (lambda g: _swap_dims(g, "blk.1.ffn_gate_inp.weight"), "blk.1.ffn_gate_inp.weight"),
    "expert_tensor_missing": (lambda g: g.drop("blk.2.ffn_up_exps.weight"), "blk.2.ffn_up_exps.weight"),
}


@pytest.mark.parametrize("case", sorted(GGUF_CASES))
def test_moe_gguf_inconsistent_with_itself(cli, shared, mixtral, tmp_path, case):
    cli(*quant_args(mixtral, tmp_path, name="f32.gguf", level="F32"))
    change, named = GGUF_CASES[case]
    bad = change(Gguf.read(tmp_path / "f32.gguf")).write(tmp_path / "bad.gguf")
    out = tmp_path / "out"
    out.mkdir()
    proc = expect(cli, quant_args(bad, out), 6, inputs=[bad], outputs=[out / "q.gguf"])
    assert named in proc.stderr, proc.stderr[-1000:]
    expect(cli, ppl_args(shared, bad), 6, inputs=[bad])


def test_expert_imatrices_with_different_usage_merge_per_expert(cli, shared, mixtral, tmp_path):
    """Two texts route tokens to different experts; `analyze --in-file A --in-file B` adds each expert's sums
    and token counts (read back by gguf-py, not by us), and the merged matrix quantizes the experts."""
    from gguf import GGUFReader

    def tensors(path):
        return {t.name: np.asarray(t.data, dtype=np.float64).ravel() for t in GGUFReader(str(path)).tensors}

    parts = []
    for i, text in enumerate(("data/eval-tinystories.txt", "data/calib.txt")):
        parts.append(tmp_path / f"part{i}.gguf")
        cli("analyze", mixtral, "--data", shared / text, "--ctx", 64, "--chunks", 2, "-o", parts[-1])
    merged = tmp_path / "merged.gguf"
    assert cli("analyze", "--in-file", parts[0], "--in-file", parts[1], "-o", merged).returncode == 0
    a, b, m = tensors(parts[0]), tensors(parts[1]), tensors(merged)
    counts = "blk.3.ffn_down_exps.weight.counts"
    assert len(m[counts]) == EXPERTS and not np.array_equal(a[counts], b[counts])  # different expert usage
    assert a[counts].sum() == b[counts].sum() == 2 * 64 * 2  # two chunks of 64 tokens, two experts each
    for name in m:
        np.testing.assert_allclose(m[name], a[name] + b[name], rtol=1e-6, err_msg=name)
    res = json.loads(cli("--format", "json", *quant_args(mixtral, tmp_path, level="Q4_K_M"), "--imatrix", merged).stdout)
    assert res["output_path"].endswith("q.gguf")
