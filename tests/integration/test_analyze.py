"""`analyze`: our importance matrix, computed on the same text, context and
chunks as llama-imatrix, matches its golden .dat per value; GGUF output is
read by gguf-py."""
import struct

import numpy as np
import pytest
from gguf import GGUFReader


def load_dat(path):
    b = path.read_bytes()
    o = 0

    def i32():
        nonlocal o
        v = struct.unpack_from("<i", b, o)[0]
        o += 4
        return v

    entries = {}
    for _ in range(i32()):
        n = i32()
        name = b[o:o + n].decode()
        o += n
        ncall, nval = i32(), i32()
        entries[name] = (ncall, np.frombuffer(b, "<f4", nval, o).astype(np.float64))
        o += 4 * nval
    chunks = i32()
    n = i32()
    return entries, chunks, b[o:o + n].decode()


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


@pytest.mark.slow
def test_stories260k_matches_llama_imatrix(cli, shared, tmp_path):
    out = tmp_path / "ours.dat"
    # run where llama-imatrix ran, so the stored dataset name is the same relative path
    proc = cli("analyze", shared / "models/stories260K.gguf", "--calibration-data", "calib.txt", "--ctx", "256",
               "--batch", "8", "-o", out, cwd=shared / "data")
    assert proc.returncode == 0, proc.stderr
    assert max(compare(out, shared / "golden/stories260K/imatrix-calib.dat").values()) < 1e-4


def test_synthetic_matches_llama_imatrix(cli, shared, tmp_path):
    out = tmp_path / "syn.dat"
    proc = cli("analyze", shared / "golden/synthetic-a/model-f32.gguf", "--calibration-data", "tinystories_val.txt",
               "--ctx", "256", "--chunks", "20", "--batch", "4", "-o", out, cwd=shared / "data")
    assert proc.returncode == 0, proc.stderr
    worst = compare(out, shared / "golden/synthetic-a/imatrix.dat")
    # blk.1.ffn_down sees the planted super-weight's activation spike; f16/f32
    # rounding differences from llama.cpp's kernels reach 2e-4 there.
    assert max(v for k, v in worst.items() if k != "blk.1.ffn_down.weight") < 1e-4
    assert worst["blk.1.ffn_down.weight"] < 5e-4


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
