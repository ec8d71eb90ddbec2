"""`quantize -q dynamic`: per-tensor types under a size budget, checked with
gguf-py (sizes, types, dequantized weights) against llama.cpp's golden mixes."""
import numpy as np
import pytest
from gguf import GGUFReader
from gguf.quants import dequantize

from imatrix_dat import load_dat

SYN = "golden/synthetic-a"


def quantize_dynamic(cli, shared, tmp_path, *extra, name="dyn.gguf", sample_rows=32):
    # 32 of 256 rows measured keeps the sanitizer build fast; exactness is checked with all rows
    proc, res = cli.json("quantize", shared / SYN / "model-f32.gguf", "gguf", "-q", "dynamic",
                         "--imatrix", shared / SYN / "imatrix.dat", "-o", tmp_path, "-n", name,
                         "--no-checkpoints", "--sample-rows", str(sample_rows), *extra)
    return proc, res, tmp_path / name


@pytest.mark.slow  # optimised build only: the sanitizer build is ~10x slower
@pytest.mark.parametrize("mix", ["Q4_K_M", "Q3_K_M", "IQ2_M"])
def test_same_size_as_llama_mix_never_more(cli, shared, tmp_path, mix):
    golden = shared / SYN / "quantized/imatrix" / f"{mix}.gguf"
    budget = golden.stat().st_size
    proc, res, out = quantize_dynamic(cli, shared, tmp_path, "--target-size-bytes", str(budget))
    assert proc.returncode == 0, proc.stderr
    size = out.stat().st_size
    assert size <= budget and size >= 0.99 * budget
    assert res["file_size"] == size and res["target_bytes"] == budget
    ours = {t.name: t for t in GGUFReader(str(out)).tensors}
    # outside the blocks the types follow the reference mixture picked for this bpw
    reference = shared / SYN / "quantized/imatrix" / f"{res['reference_type']}.gguf"
    ref = {t.name: t for t in GGUFReader(str(reference)).tensors}
    assert list(ours) == list(ref)  # llama.cpp's tensor order
    allocated = {e["layer_name"] for e in res["layer_summary"]}
    for n, t in ours.items():
        if n in allocated:
            assert n.startswith("blk.")
        else:
            assert t.tensor_type == ref[n].tensor_type, n
    # the budget went somewhere: not one type everywhere
    assert len({e["type"] for e in res["layer_summary"]}) >= 2


def test_estimated_error_matches_gguf_py_dequantization(cli, shared, tmp_path):
    # With every row sampled the reported error is exact: sum_j imp_j (w - q(w))^2,
    # recomputed here from gguf-py's decoder and the golden imatrix.
    budget = (shared / SYN / "quantized/imatrix/Q3_K_M.gguf").stat().st_size
    proc, res, out = quantize_dynamic(cli, shared, tmp_path, "--target-size-bytes", str(budget), sample_rows=256)
    assert proc.returncode == 0, proc.stderr
    orig = {t.name: np.asarray(t.data, dtype=np.float64) for t in GGUFReader(str(shared / SYN / "model-f32.gguf")).tensors}
    quant = {t.name: t for t in GGUFReader(str(out)).tensors}
    imat, _, _ = load_dat(shared / SYN / "imatrix.dat")
    for e in res["layer_summary"]:
        t = quant[e["layer_name"]]
        deq = dequantize(t.data, t.tensor_type).reshape(orig[t.name].shape).astype(np.float64)
        ncall, vals = imat[t.name]
        imp = (vals / ncall).astype(np.float32).astype(np.float64)
        expected = float(np.sum(imp[None, :] * (orig[t.name] - deq) ** 2))
        assert e["estimated_error"] == pytest.approx(expected, rel=1e-3), t.name
        assert e["type"] == t.tensor_type.name


@pytest.mark.slow  # optimised build only: the sanitizer build is ~10x slower
def test_bigger_budget_less_error(cli, shared, tmp_path):
    errors = []
    for i, bpw in enumerate(["3.0", "4.5", "6.0"]):
        proc, res, _ = quantize_dynamic(cli, shared, tmp_path, "--target-bpw", bpw, name=f"d{i}.gguf")
        assert proc.returncode == 0, proc.stderr
        assert res["effective_bpw"] <= float(bpw)
        errors.append(sum(e["estimated_error"] for e in res["layer_summary"]))
    assert errors[0] > errors[1] > errors[2]


def test_dynamic_arguments(cli, shared, tmp_path):
    model = shared / SYN / "model-f32.gguf"
    # no target -> 2; a target without -q dynamic -> 2; both targets -> 2
    assert cli("quantize", model, "gguf", "-q", "dynamic", "-o", tmp_path, "--no-checkpoints").returncode == 2
    assert cli("quantize", model, "gguf", "-q", "Q4_K_M", "--target-bpw", "4", "-o", tmp_path,
               "--no-checkpoints").returncode == 2
    assert cli("quantize", model, "gguf", "-q", "dynamic", "--target-bpw", "4", "--target-size-bytes", "100000",
               "-o", tmp_path, "--no-checkpoints").returncode == 2
    # a budget below the smallest types -> 2, nothing written
    proc, res, out = quantize_dynamic(cli, shared, tmp_path, "--target-size-bytes", "100000", name="tiny.gguf")
    assert proc.returncode == 2 and "budget" in res["message"]
    assert not out.exists()
    # restricted candidates are respected; an unknown type is refused
    proc, res, _ = quantize_dynamic(cli, shared, tmp_path, "--target-bpw", "5", "--candidates", "Q4_K,Q8_0",
                                    name="c.gguf")
    assert proc.returncode == 0, proc.stderr
    assert {e["type"] for e in res["layer_summary"]} <= {"Q4_K", "Q8_0"}
    proc, _, _ = quantize_dynamic(cli, shared, tmp_path, "--target-bpw", "5", "--candidates", "Q9_X", name="x.gguf")
    assert proc.returncode == 2


@pytest.mark.slow  # one forward pass per weight
def test_kl_refined_allocation_meets_the_budget(cli, shared, tmp_path):
    budget = (shared / SYN / "quantized/imatrix/Q3_K_M.gguf").stat().st_size
    proc, res, out = quantize_dynamic(cli, shared, tmp_path, "--target-size-bytes", str(budget), "--kl-refine", "64")
    assert proc.returncode == 0, proc.stderr
    assert 0.99 * budget <= out.stat().st_size <= budget
    assert len(res["layer_summary"]) == 14
    # a text shorter than the probe -> exit 15
    short = tmp_path / "short.txt"
    short.write_text("Once upon a time")
    proc, res, _ = quantize_dynamic(cli, shared, tmp_path, "--target-size-bytes", str(budget), "--kl-refine", "64",
                                    "--kl-data", short, name="short.gguf")
    assert proc.returncode == 15
