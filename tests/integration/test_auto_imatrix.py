"""A type that needs an importance matrix, given none: one is computed from
calibration text on the way and cached by model and text
(LLM_QUANTIZE_IMATRIX_CACHE); --no-auto-imatrix keeps exit 10. The computed
matrix is checked against `analyze` run separately on the same text: the
quantized tensors must be the same bytes."""
import os
import shutil

import pytest

from gguf import GGUFReader


def model(shared):
    return shared / "golden/synthetic-a/model-f32.gguf"


def tensors(path):
    return {t.name: (t.tensor_type.name, bytes(t.data)) for t in GGUFReader(path).tensors}


def run(cli, cache, *args):
    env = {**os.environ, "LLM_QUANTIZE_IMATRIX_CACHE": str(cache)}
    return cli.json(*args, env=env)


@pytest.mark.slow
def test_computed_once_then_reused_and_equal_to_analyze(cli, shared, tmp_path):
    cache = tmp_path / "cache"
    proc, first = run(cli, cache, "quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path, "-n", "a.gguf")
    assert proc.returncode == 0, proc.stderr
    auto = first["auto_imatrix"]
    assert auto["from_cache"] is False and auto["calibration_data"] == "bundled" and auto["chunks"] > 0
    assert [p.name for p in cache.iterdir()] == [os.path.basename(auto["path"])]
    proc, second = run(cli, cache, "quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path, "-n", "b.gguf")
    assert proc.returncode == 0 and second["auto_imatrix"]["from_cache"] is True
    assert (tmp_path / "a.gguf").read_bytes() == (tmp_path / "b.gguf").read_bytes()
    # The same matrix made by hand: analyze on the bundled text with the fast forward pass.
    proc, _ = cli.json("analyze", model(shared), "--blas-forward", "-o", tmp_path / "hand.dat")
    assert proc.returncode == 0, proc.stderr
    proc, _ = cli.json("quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path, "-n", "c.gguf",
                       "--imatrix", tmp_path / "hand.dat")
    assert proc.returncode == 0, proc.stderr
    assert tensors(tmp_path / "a.gguf") == tensors(tmp_path / "c.gguf")


@pytest.mark.slow
def test_text_beside_the_model_and_given_text_are_their_own_cache_entries(cli, shared, tmp_path):
    cache = tmp_path / "cache"
    folder = tmp_path / "m"
    folder.mkdir()
    shutil.copy(model(shared), folder / "model.gguf")
    shutil.copy(shared / "data/calib.txt", folder / "calibration.txt")
    proc, res = run(cli, cache, "quantize", folder / "model.gguf", "gguf", "-q", "IQ1_S", "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert res["auto_imatrix"]["calibration_data"] == str(folder / "calibration.txt")
    other = tmp_path / "other.txt"
    other.write_text((shared / "data/calib.txt").read_text()[: 20000])
    proc, res = run(cli, cache, "quantize", folder / "model.gguf", "gguf", "-q", "IQ1_S", "-o", tmp_path, "-n",
                    "o.gguf", "--calibration-data", other)
    assert proc.returncode == 0, proc.stderr
    assert res["auto_imatrix"]["calibration_data"] == str(other) and res["auto_imatrix"]["from_cache"] is False
    assert len(list(cache.iterdir())) == 2


def test_no_auto_imatrix_and_dry_run_compute_nothing(cli, shared, tmp_path):
    cache = tmp_path / "cache"
    proc, res = run(cli, cache, "quantize", model(shared), "gguf", "-q", "IQ2_XXS", "-o", tmp_path,
                    "--no-auto-imatrix")
    assert proc.returncode == 10 and "imatrix" in res["suggestion"]
    proc, res = run(cli, cache, "quantize", model(shared), "gguf", "-q", "IQ2_XXS", "-o", tmp_path, "--dry-run")
    assert proc.returncode == 0 and res["notes"]
    assert not cache.exists() or not any(cache.iterdir())
    assert not any(p for p in tmp_path.iterdir() if p.name != "cache")


def test_calibration_text_that_cannot_be_used(cli, shared, tmp_path):
    cache = tmp_path / "cache"
    text = shared / "data/calib.txt"
    proc, res = run(cli, cache, "quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path,
                    "--imatrix", shared / "golden/synthetic-a/imatrix.dat", "--calibration-data", text)
    assert proc.returncode == 2 and "--calibration-data" in res["message"]
    proc, res = run(cli, cache, "quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path,
                    "--calibration-data", text)
    assert proc.returncode == 2 and "needs no importance matrix" in res["message"]
    assert not any(p for p in tmp_path.iterdir() if p.name != "cache")
    proc, res = run(cli, cache, "quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path, "-n", "x.gguf",
                    "--calibration-data", tmp_path / "missing.txt")
    assert proc.returncode == 15 and not (tmp_path / "x.gguf").exists()
