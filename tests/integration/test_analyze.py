"""`analyze`: our importance matrix, computed on the same text, context and
chunks as llama-imatrix, matches its golden .dat per value; GGUF output is
read by gguf-py."""
import os

import numpy as np
import pytest
from gguf import GGUFReader

from conftest import SIMD_LEVELS, simd_env
from imatrix_dat import load_dat

from golden_2025 import as_2026, differences_beyond_2026_fallbacks


def compare(ours, golden):
    a, ac, ad = load_dat(ours)
    b, bc, bd = load_dat(golden)
    assert set(a) == set(b) and (ac, ad) == (bc, bd)
    worst = {}
    for k, (ncall, vals) in b.items():
        assert a[k][0] == ncall
        x, y = a[k][1] / ncall, vals / ncall
        nz = y != 0
        assert (x[~nz] == 0).all()
        worst[k] = float(np.max(np.abs(x[nz] - y[nz]) / np.abs(y[nz]))) if nz.any() else 0.0
    return worst


def analyze_like_llama_imatrix(cli, shared, out, model, text, ctx, chunks=None, batch=4, env=None):
    # run where llama-imatrix ran, so the stored dataset name is the same relative path
    args = ["analyze", model, "--calibration-data", text, "--ctx", str(ctx), "--batch", str(batch), "-o", out]
    if chunks:
        args += ["--chunks", str(chunks)]
    proc = cli(*args, cwd=shared / "data", env=env)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.mark.slow
@pytest.mark.parametrize("simd", SIMD_LEVELS)
def test_stories260k_equals_llama_imatrix(cli, shared, tmp_path, simd, cpu_simd):
    # llama.cpp's arithmetic op for op: the file is byte-identical to llama-imatrix's
    # (values, entry order, trailer), with the AVX-512 and AVX2 kernels and with
    # the scalar reference definitions alike.
    env = simd_env(simd, cpu_simd)
    out = analyze_like_llama_imatrix(cli, shared, tmp_path / "ours.dat", shared / "models/stories260K.gguf",
                                     "calib.txt", 256, batch=8, env=env)
    golden = shared / "golden/stories260K/imatrix-calib.dat"
    assert max(compare(out, golden).values()) == 0.0
    assert out.read_bytes() == golden.read_bytes()


@pytest.mark.parametrize("simd", [pytest.param("scalar", marks=pytest.mark.slow), "avx2", "avx512"])
def test_synthetic_equals_llama_imatrix(cli, shared, tmp_path, simd, cpu_simd):
    # 256-wide rows and 64-wide heads: every product takes the tinyBLAS kernels.
    out = analyze_like_llama_imatrix(cli, shared, tmp_path / "syn.dat", shared / "golden/synthetic-a/model-f32.gguf",
                                     "tinystories_val.txt", 256, chunks=20, env=simd_env(simd, cpu_simd))
    golden = shared / "golden/synthetic-a/imatrix.dat"
    assert max(compare(out, golden).values()) == 0.0
    assert out.read_bytes() == golden.read_bytes()


def test_blas_forward_is_close(cli, shared, tmp_path):
    # The f32 BLAS pass (f32 attention, no f16 KV cache) is not bit-exact but
    # agrees to well under 1e-3 relative per value.
    out = tmp_path / "blas.dat"
    proc = cli("analyze", shared / "golden/synthetic-a/model-f32.gguf", "--calibration-data", "tinystories_val.txt",
               "--ctx", "256", "--chunks", "20", "--blas-forward", "-o", out, cwd=shared / "data")
    assert proc.returncode == 0, proc.stderr
    worst = compare(out, shared / "golden/synthetic-a/imatrix.dat")
    assert 0 < max(worst.values()) < 2e-3


@pytest.mark.parametrize("model,golden_dir,qtype,golden_name", [
    ("golden/synthetic-a/model-f32.gguf", "golden/synthetic-a", "IQ2_XS", "quantized/imatrix/IQ2_XS.gguf"),
    ("golden/synthetic-a/model-f32.gguf", "golden/synthetic-a", "Q4_K_M", "quantized/imatrix/Q4_K_M.gguf"),
    # whole-text imatrix runs: left to the optimised build
    pytest.param("models/stories260K.gguf", "golden/stories260K", "IQ2_XS", "quantized/stories260K-IQ2_XS-imat.gguf",
                 marks=pytest.mark.slow),
    pytest.param("models/stories260K.gguf", "golden/stories260K", "Q4_K_M", "quantized/stories260K-Q4_K_M-imat.gguf",
                 marks=pytest.mark.slow),
])
def test_quantizing_with_our_imatrix_equals_llama_cpp(cli, shared, tmp_path, model, golden_dir, qtype, golden_name):
    # Our imatrix in place of llama-imatrix's, then the same llama-quantize
    # command: the GGUF comes out byte for byte as llama.cpp's golden file.
    synthetic = "synthetic" in golden_dir
    name = "imatrix.dat" if synthetic else "imatrix-calib.dat"
    work = tmp_path / "work"
    work.mkdir()
    analyze_like_llama_imatrix(cli, shared, work / name, shared / model,
                               "tinystories_val.txt" if synthetic else "calib.txt", 256,
                               chunks=20 if synthetic else None)
    # the imatrix path is stored in the output as given, so quantize from a folder
    # laid out like the golden one
    (work / "quantized").mkdir()
    model_arg = "model-f32.gguf" if synthetic else "stories260K.gguf"
    (work / model_arg).symlink_to(shared / model)
    proc = cli("quantize", model_arg, "gguf", "-q", qtype, "--imatrix", name, "-o", work / "quantized", "-n",
               "out.gguf", "--threads", "2", "--no-checkpoints", cwd=work)
    assert proc.returncode == 0, proc.stderr
    golden = shared / golden_dir / golden_name
    if (work / "quantized/out.gguf").read_bytes() != as_2026(golden.read_bytes()):
        # stories260K's rows of 64: its Q2_K token embedding falls back as the 2026 llama-quantize does.
        assert differences_beyond_2026_fallbacks(work / "quantized/out.gguf", golden) == []


def test_gguf_imatrix_read_by_gguf_py(cli, shared, tmp_path):
    out = tmp_path / "m.imatrix.gguf"
    proc, res = cli.json("analyze", shared / "models/stories260K", "--calibration-data", shared / "data/calib.txt",
                         "--ctx", "128", "--chunks", "4", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert res["num_entries"] == 35 and res["chunks"] == 4
    r = GGUFReader(str(out))
    assert bytes(r.fields["general.type"].parts[-1]).decode() == "imatrix"
    assert int(r.fields["imatrix.chunk_count"].parts[-1][0]) == 4
    assert int(r.fields["imatrix.chunk_size"].parts[-1][0]) == 128
    t = {x.name: x for x in r.tensors}
    assert float(np.asarray(t["blk.0.ffn_down.weight.counts"].data).ravel()[0]) == 4 * 128
    assert np.asarray(t["blk.0.ffn_down.weight.in_sum2"].data).size == 172


def test_analyze_arguments(cli, shared, tmp_path):
    model = shared / "models/stories260K"
    # calibration samples must be 128..1024; unimplemented methods are refused, never silently replaced
    assert cli("analyze", model, "--calibration-samples", "50", "-o", tmp_path / "a.dat").returncode == 2
    proc, res = cli.json("analyze", model, "--method", "gradient", "-o", tmp_path / "b.dat")
    assert proc.returncode == 2 and "gradient" in res["message"]
    assert not (tmp_path / "b.dat").exists()
    # missing calibration file -> exit 2 (argument check); a malformed JSON one -> exit 15
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    proc, res = cli.json("analyze", model, "--calibration-data", bad, "--ctx", "64", "-o", tmp_path / "c.dat")
    assert proc.returncode == 15 and res["error_type"] == "CalibrationDataError"
    # the bundled default text works without --calibration-data
    proc, res = cli.json("analyze", model, "--ctx", "64", "--calibration-samples", "128", "-o", tmp_path / "d.dat")
    assert proc.returncode == 0, proc.stderr
    assert res["num_entries"] == 35 and res["chunks"] >= 2


def test_super_weights_planted_coordinate(cli, shared, tmp_path):
    # synthetic-a plants one huge scalar in an ffn_down (planted.json, "single_huge"):
    # the finder reports exactly that coordinate, and the saliency mask covers the
    # requested fraction of every weight.
    import json
    planted = json.loads((shared / "golden/synthetic-a/planted.json").read_text())
    want = [(p["tensor"], p["row"], p["col"]) for p in planted["planted"]
            if p["kind"] == "single_huge" and p["tensor"].endswith("ffn_down.weight")]
    out = tmp_path / "m.dat"
    proc, res = cli.json("analyze", shared / "golden/synthetic-a/model-f32.gguf", "--calibration-data",
                         shared / "data/tinystories_val.txt", "--ctx", "256", "--chunks", "8",
                         "--identify-super-weights", "--coverage", "0.001", "-o", out)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads((tmp_path / "m.dat.super_weights.json").read_text())
    assert doc["format"] == "libquant.super_weights"
    assert [(s["tensor"], s["row"], s["col"]) for s in doc["super_weights"]] == want
    assert [(s["tensor"], s["row"], s["col"]) for s in res["super_weights"]] == want
    # 14 weights of 256 x 256 or 256 x 128: ceil(0.001 * numel) each
    sizes = {k: v["shape"][0] * v["shape"][1] for k, v in doc["masks"].items()}
    assert len(sizes) == 14
    assert all(len(doc["masks"][k]["indices"]) == -(-n // 1000) for k, n in sizes.items())
    assert doc["total_protected"] == sum(-(-n // 1000) for n in sizes.values())


def test_analyze_kill_and_resume(cli, shared, tmp_path):
    # SIGKILL after 3 checkpointed chunks; --resume finishes with the same bytes
    # as an uninterrupted run and clears its checkpoint.
    model = shared / "models/stories260K.gguf"
    args = ["analyze", model, "--calibration-data", shared / "data/calib.txt", "--ctx", "128", "--chunks", "10",
            "--batch", "1"]
    full = tmp_path / "full.dat"
    assert cli(*args, "-o", full, "--no-checkpoints").returncode == 0
    ck = tmp_path / "ck"
    out = tmp_path / "out.dat"
    env = {**os.environ, "LLM_QUANTIZE_TEST_KILL_AFTER_CHUNKS": "3"}
    proc = cli(*args, "-o", out, "--checkpoint-dir", ck, env=env)
    assert proc.returncode == -9 and not out.exists()
    proc, res = cli.json(*args, "-o", out, "--resume", ck)
    assert proc.returncode == 0, proc.stderr
    assert res["resumed_chunks"] == 3 and res["chunks"] == 10
    assert out.read_bytes() == full.read_bytes()
    assert not any(ck.iterdir())
    # nothing to resume -> exit 7
    proc, res = cli.json(*args, "-o", tmp_path / "x.dat", "--resume", ck)
    assert proc.returncode == 7 and res["error_type"] == "CheckpointError"


def test_per_layer_statistics(cli, shared, tmp_path):
    proc, res = cli.json("analyze", shared / "models/stories260K.gguf", "--calibration-data",
                         shared / "data/calib.txt", "--ctx", "128", "--chunks", "4", "-o", tmp_path / "s.dat",
                         "--no-checkpoints")
    assert proc.returncode == 0, proc.stderr
    layers = {l["name"]: l for l in res["layers"]}
    assert len(layers) == 35 and layers["blk.0.ffn_down.weight"]["columns"] == 172
    entries, _, _ = load_dat(tmp_path / "s.dat")
    ncall, vals = entries["blk.2.ffn_up.weight"]
    mean = vals / ncall
    l = layers["blk.2.ffn_up.weight"]
    assert l["mean"] == pytest.approx(mean.mean(), rel=1e-5) and l["max"] == pytest.approx(mean.max(), rel=1e-6)
    assert l["top_column"] == int(np.argmax(mean))
