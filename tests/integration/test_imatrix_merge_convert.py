"""`analyze --in-file`: merging and converting importance matrices, checked
against llama.cpp's golden .dat read by an independent parser and against
gguf-py's reading of our GGUF imatrix."""
import numpy as np
import pytest
from gguf import GGUFReader

from imatrix_dat import load_dat

GOLDEN = {
    "stories260K": "golden/stories260K/imatrix-calib.dat",
    "synthetic-a": "golden/synthetic-a/imatrix.dat",
}


def gguf_means(path):
    r = GGUFReader(str(path))
    t = {x.name: np.asarray(x.data, dtype=np.float64).ravel() for x in r.tensors}
    return {k[:-len(".in_sum2")]: v / t[k[:-len(".in_sum2")] + ".counts"][0]
            for k, v in t.items() if k.endswith(".in_sum2")}


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_legacy_round_trip_without_model_is_byte_identical(cli, shared, tmp_path, name):
    golden = shared / GOLDEN[name]
    out = tmp_path / "again.dat"
    proc = cli("analyze", "--in-file", golden, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes() == golden.read_bytes()


def test_convert_legacy_to_gguf_and_back(cli, shared, tmp_path):
    golden = shared / GOLDEN["stories260K"]
    g_entries, g_chunks, g_data = load_dat(golden)
    as_gguf = tmp_path / "m.imatrix.gguf"
    assert cli("analyze", "--in-file", golden, "-o", as_gguf).returncode == 0
    # gguf-py sees the same per-column means (stored value / ncall in the legacy layout)
    means = gguf_means(as_gguf)
    assert set(means) == set(g_entries)
    for k, (ncall, vals) in g_entries.items():
        np.testing.assert_allclose(means[k], vals / ncall, rtol=1e-6)
    r = GGUFReader(str(as_gguf))
    assert int(r.fields["imatrix.chunk_count"].parts[-1][0]) == g_chunks
    # back to legacy (--imatrix-format overrides the extension): every value and count survives
    back = tmp_path / "back.bin"
    assert cli("analyze", "--in-file", as_gguf, "-o", back, "--imatrix-format", "dat").returncode == 0
    b_entries, b_chunks, b_data = load_dat(back)
    assert (b_chunks, b_data) == (g_chunks, g_data)
    assert set(b_entries) == set(g_entries)
    for k, (ncall, vals) in g_entries.items():
        assert b_entries[k][0] == ncall
        assert (b_entries[k][1] == vals).all()
    # and GGUF -> GGUF is a byte-for-byte round trip
    again = tmp_path / "again.gguf"
    assert cli("analyze", "--in-file", as_gguf, "-o", again).returncode == 0
    assert again.read_bytes() == as_gguf.read_bytes()
    # --imatrix-format gguf wins over a .dat name
    forced = tmp_path / "forced.dat"
    assert cli("analyze", "--in-file", golden, "-o", forced, "--imatrix-format", "gguf").returncode == 0
    assert forced.read_bytes()[:4] == b"GGUF"


def test_merge_two_legacy_files_adds_them(cli, shared, tmp_path):
    golden = shared / GOLDEN["synthetic-a"]
    g_entries, _, _ = load_dat(golden)
    out = tmp_path / "twice.dat"
    proc, res = cli.json("analyze", "--in-file", golden, "--in-file", golden, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert res["num_entries"] == len(g_entries)
    m_entries, _, _ = load_dat(out)
    for k, (ncall, vals) in g_entries.items():
        assert m_entries[k][0] == 2 * ncall
        assert (m_entries[k][1] == 2 * vals).all()  # the same means, twice the weight


def test_computed_matrix_merged_with_a_file_weights_by_tokens(cli, shared, tmp_path):
    # Computing on 5 chunks and merging llama.cpp's golden file in: per column,
    # (sum of x^2 over all tokens) / tokens, both at ctx 256 -> in the legacy
    # layout the stored value is the sum of the two stored values.
    model = shared / "golden/synthetic-a/model-f32.gguf"
    golden = shared / GOLDEN["synthetic-a"]
    alone, merged = tmp_path / "alone.dat", tmp_path / "merged.dat"
    common = ["--calibration-data", shared / "data/tinystories_val.txt", "--ctx", "256", "--chunks", "5"]
    assert cli("analyze", model, *common, "-o", alone).returncode == 0
    assert cli("analyze", model, *common, "--in-file", golden, "-o", merged).returncode == 0
    a, _, _ = load_dat(alone)
    g, _, _ = load_dat(golden)
    m, _, _ = load_dat(merged)
    for k in g:
        assert m[k][0] == a[k][0] + g[k][0]
        np.testing.assert_allclose(m[k][1], a[k][1] + g[k][1], rtol=1e-5)


def test_merge_convert_errors(cli, shared, tmp_path):
    golden = shared / GOLDEN["stories260K"]
    # neither a model nor files -> 2; files without -o -> 2; data without a model -> 2
    assert cli("analyze", "-o", tmp_path / "a.dat").returncode == 2
    assert cli("analyze", "--in-file", golden).returncode == 2
    assert cli("analyze", "--in-file", golden, "--calibration-data", shared / "data/calib.txt",
               "-o", tmp_path / "b.dat").returncode == 2
    # a missing or corrupt input -> 10 (invalid importance matrix), nothing written
    proc, res = cli.json("analyze", "--in-file", tmp_path / "missing.dat", "-o", tmp_path / "c.dat")
    assert proc.returncode == 10 and res["error_type"] == "ImportanceMatrixError"
    bad = tmp_path / "bad.dat"
    bad.write_bytes(golden.read_bytes()[:1000])
    assert cli("analyze", "--in-file", bad, "-o", tmp_path / "d.dat").returncode == 10
    assert not (tmp_path / "c.dat").exists() and not (tmp_path / "d.dat").exists()
    # different widths for the same weight cannot be merged
    syn = shared / GOLDEN["synthetic-a"]
    proc = cli("analyze", "--in-file", golden, "--in-file", syn, "-o", tmp_path / "e.dat")
    assert proc.returncode != 0 and not (tmp_path / "e.dat").exists()
