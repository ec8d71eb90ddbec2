"""The jobs from Python: options mapped onto the library's, records equal to
the CLI's, progress, logging, the GIL released, and errors as exceptions."""
import json
import threading
import time

import numpy as np
import pytest

import libquant


def test_quantize_gguf_record_and_progress(stories, tmp_path):
    calls = []
    out = tmp_path / "stories-q8_0.gguf"
    r = libquant.quantize_gguf(stories, out, "Q8_0", progress=lambda *a: calls.append(a))
    assert r["output_path"] == str(out) and r["file_size"] == out.stat().st_size
    assert r["validation_status"] == "valid" and r["quantization_level"] == "Q8_0"
    assert calls and all(isinstance(s, str) and 0 <= d <= t for s, d, t in calls)
    assert calls[-1][1] == calls[-1][2]  # the last stage finished
    f = libquant.gguf.GgufFile(out)
    assert f.tensor_type("blk.0.attn_q.weight") == "Q8_0"


def test_record_equals_the_cli_record(stories_gguf, cli, tmp_path):
    ours = libquant.quantize_gguf(stories_gguf, tmp_path / "py.gguf", "Q4_0", tensor_types=[("ffn_up", "Q8_0")])
    theirs = json.loads(cli("quantize", stories_gguf, "gguf", "-q", "Q4_0", "--tensor-type", "ffn_up=Q8_0",
                            "-o", tmp_path, "-n", "cli.gguf", "--format", "json").stdout)
    for key in ("file_size", "quantization_level", "compression_ratio", "fallback_tensors", "metadata"):
        assert ours[key] == theirs[key], key
    assert (tmp_path / "py.gguf").read_bytes() == (tmp_path / "cli.gguf").read_bytes()


def test_llama_quantize_output_options_equal_the_cli(stories_gguf, cli, tmp_path):
    ours = libquant.quantize_gguf(stories_gguf, tmp_path / "py.gguf", "Q8_0", prune_layers=[1], keep_split=False)
    cli("quantize", stories_gguf, "gguf", "-q", "Q8_0", "--prune-layers", "1", "-o", tmp_path, "-n", "cli.gguf")
    assert (tmp_path / "py.gguf").read_bytes() == (tmp_path / "cli.gguf").read_bytes()
    def blocks(path):
        return {n.split(".")[1] for n in libquant.gguf.GgufFile(path).tensor_names() if n.startswith("blk.")}
    assert len(blocks(tmp_path / "py.gguf")) == len(blocks(stories_gguf)) - 1 == ours["metadata"]["layers_processed"]
    split = libquant.quantize_gguf(stories_gguf, tmp_path / "s.gguf", "Q8_0", keep_split=True)
    assert [p.rsplit("/", 1)[-1] for p in split["output_shards"]] == ["s-00001-of-00001.gguf"]
    with pytest.raises(libquant.InvalidArgumentError, match="exclude each other"):
        libquant.quantize_gguf(stories_gguf, tmp_path / "x.gguf", "Q4_K_M", imatrix=stories_gguf,
                               include_weights=["attn"], exclude_weights=["ffn"])


def test_dynamic_dry_run_writes_nothing(stories_gguf, stories_imatrix, tmp_path):
    out = tmp_path / "plan.gguf"
    r = libquant.quantize_gguf(stories_gguf, out, "dynamic", target_bpw=8.0,
                               imatrix=stories_imatrix.record["output_path"], dry_run=True)
    assert not out.exists() and r["file_size"] <= r["target_bytes"]
    assert 7.5 < r["effective_bpw"] <= 8.0 and len({x["type"] for x in r["layer_summary"]}) >= 2
    with pytest.raises(libquant.InvalidArgumentError, match="type='dynamic'"):
        libquant.quantize_gguf(stories_gguf, out, "Q4_0", target_bpw=4.0)


def test_analyze_returns_the_importance_matrix(stories_imatrix, stories):
    m = stories_imatrix
    assert isinstance(m, libquant.ImportanceMatrix)
    assert len(m) == m.record["num_entries"] == 35 and m.chunks == 4 and m.chunk_size == 128
    assert "blk.0.attn_q.weight" in m and m.count("blk.0.attn_q.weight") == 4 * 128
    mean = m.mean("blk.0.ffn_down.weight")
    np.testing.assert_allclose(mean, m.sums("blk.0.ffn_down.weight") / 512, rtol=1e-6)
    stats = next(x for x in m.record["layers"] if x["name"] == "blk.0.ffn_down.weight")
    assert stats["max"] == pytest.approx(float(mean.max()), rel=1e-6)


def test_perplexity_equals_the_cli(stories, shared, cli):
    data = shared / "data/tinystories_val.txt"
    ours = libquant.perplexity(stories, data, ctx=128, chunks=3)
    theirs = json.loads(cli("quality", "perplexity", stories, "--data", data, "--ctx", 128, "--chunks", 3,
                            "--format", "json").stdout)
    assert ours["perplexity"] == theirs["perplexity"] and np.isfinite(ours["perplexity"])


def test_smoothquant_and_littlebit(stories, calib, tmp_path):
    sq = libquant.smoothquant(stories, tmp_path / "w8a8", calibration_data=calib, calibration_samples=4,
                              seq_len=64)
    assert sq["quantized_linears"] == 35 and (tmp_path / "w8a8/config.json").exists()
    lb = libquant.littlebit_compress(stories, tmp_path / "s.littlebit", target_bpw=1.0, calibration_data=calib,
                                     calibration_samples=2, seq_len=64, validate=False)
    assert (tmp_path / "s.littlebit").stat().st_size == lb["compressed_size_bytes"]
    with pytest.raises(libquant.InvalidBPWRange) as e:
        libquant.littlebit_compress(stories, tmp_path / "x.littlebit", target_bpw=9.0)
    assert e.value.code == 22 and not (tmp_path / "x.littlebit").exists()


def test_info(stories_gguf):
    r = libquant.info(stories_gguf, per_tensor=True)
    assert r["architecture"] == "llama" and len(r["tensors"]) == 48


def test_errors_map_to_classes_and_codes(stories, tmp_path):
    with pytest.raises(libquant.ModelNotFoundError) as e:
        libquant.quantize_gguf(tmp_path / "nothing-here", tmp_path / "o.gguf")
    assert e.value.code == libquant.ExitCode.MODEL_NOT_FOUND and isinstance(e.value, FileNotFoundError)
    garbage = tmp_path / "garbage.dat"
    garbage.write_bytes(b"\x01\x02")
    with pytest.raises(libquant.ImportanceMatrixError):
        libquant.quantize_gguf(stories, tmp_path / "o.gguf", "Q4_0", imatrix=garbage)
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    with pytest.raises(libquant.CalibrationDataError) as e:
        libquant.analyze(stories, tmp_path / "i.gguf", calibration_data=empty)
    assert e.value.code == 15
    assert not (tmp_path / "o.gguf").exists() and not (tmp_path / "i.gguf").exists()


def test_every_exit_code_has_its_class():
    table = dict(libquant._core._error_codes())
    table.pop(0)  # success is no error
    from libquant import errors
    classes = {cls.code: cls.__name__ for cls in errors._BY_CODE.values()}
    assert classes == table
    assert {c.value for c in libquant.ExitCode} == set(table) | {0}


def test_callback_exception_stops_the_job(stories, tmp_path):
    class Stop(Exception):
        pass

    def progress(stage, done, total):
        raise Stop(stage)

    with pytest.raises(Stop):
        libquant.quantize_gguf(stories, tmp_path / "o.gguf", "Q4_0", progress=progress)
    assert list(tmp_path.iterdir()) == []


def test_log_callback(stories, tmp_path):
    messages = []
    libquant.set_log_callback(lambda level, text: messages.append((level, text)))
    try:
        libquant.quantize_gguf(stories, tmp_path / "o.gguf", "Q4_0")
    finally:
        libquant.set_log_callback(None)
    assert any("Q4_0" in text or "quantiz" in text.lower() for _, text in messages), messages


def test_gil_is_released_while_a_job_runs(stories, shared):
    data = shared / "data/tinystories_val.txt"
    done = threading.Event()
    result = {}

    def job():
        result["r"] = libquant.perplexity(stories, data, ctx=256, chunks=40, threads=1)
        done.set()

    t = threading.Thread(target=job)
    ticks = 0
    start = time.perf_counter()
    t.start()
    while not done.is_set():
        ticks += 1  # only advances while the job's thread does not hold the GIL
        time.sleep(0.001)
    t.join()
    elapsed = time.perf_counter() - start
    assert result["r"]["perplexity"] > 0
    assert elapsed > 0.1 and ticks > 0.3 * elapsed / 0.0011, (ticks, elapsed)  # the main thread kept running


def test_verbosity_and_the_default_logger(stories, tmp_path, caplog):
    # Default: messages reach the "libquant" logger (the fallback warnings of stories260K's 172-column rows).
    with caplog.at_level("WARNING", logger="libquant"):
        libquant.quantize_gguf(stories, tmp_path / "a.gguf", "Q4_0")
    assert any("172" in r.getMessage() for r in caplog.records if r.name == "libquant")
    messages = []
    libquant.set_log_callback(lambda level, text: messages.append(text))
    try:
        libquant.set_verbosity(0)  # quiet: even warnings are dropped
        libquant.quantize_gguf(stories, tmp_path / "b.gguf", "Q4_0")
        assert messages == []
        libquant.set_verbosity(1)
        libquant.quantize_gguf(stories, tmp_path / "c.gguf", "Q4_0")
        assert any("172" in m for m in messages)
    finally:
        libquant.set_verbosity(1)
        libquant.set_log_callback(None)
    with pytest.raises(libquant.InvalidArgumentError):
        libquant.set_verbosity(7)


def test_importance_matrix_object(stories_imatrix, tmp_path):
    empty = libquant.ImportanceMatrix()
    assert len(empty) == 0 and empty.names() == [] and "x" not in empty
    with pytest.raises(libquant.InvalidArgumentError, match="no entry 'x'"):
        empty.sums("x")
    m = stories_imatrix
    assert m.names()[0].startswith("blk.0.") and len(m.names()) == len(m)
    assert m.datasets and m.datasets[0].endswith("calib.txt")
    # Legacy layout round trip: same entries, same column means (the layout stores
    # mean x calls, not the raw sums and token counts, as llama.cpp's does).
    m.save(tmp_path / "legacy.dat", layout="legacy")
    back = libquant.ImportanceMatrix.load(tmp_path / "legacy.dat")
    assert sorted(back.names()) == sorted(m.names())
    np.testing.assert_allclose(back.mean("blk.2.attn_q.weight"), m.mean("blk.2.attn_q.weight"), rtol=1e-6)
    with pytest.raises(libquant.InvalidArgumentError, match="layout must be"):
        m.save(tmp_path / "x", layout="csv")


def test_gguf_file_properties(stories_gguf):
    f = libquant.gguf.GgufFile(stories_gguf)
    assert f.version == 3 and str(f.path) == str(stories_gguf)
    assert f.tensor_shape("output_norm.weight") == [64]
    with pytest.raises(libquant.InvalidArgumentError, match="no tensor 'nope'"):
        f.tensor("nope")


def test_quantize_gguf_with_gptq(stories_gguf, calib, tmp_path):
    r = libquant.quantize_gguf(stories_gguf, tmp_path / "g.gguf", "Q4_0", gptq=True, calibration_data=calib,
                               calibration_samples=8, calibration_seq_len=64)
    assert r["gptq"]["tensors"] == 30 and r["gptq"]["calibration_tokens"] == 8 * 64
    plain = libquant.quantize_gguf(stories_gguf, tmp_path / "p.gguf", "Q4_0")
    assert "gptq" not in plain and plain["file_size"] == r["file_size"]
    with pytest.raises(libquant.InvalidArgumentError, match="damp"):
        libquant.quantize_gguf(stories_gguf, tmp_path / "x.gguf", "Q4_0", gptq=True, damp=2.0)
