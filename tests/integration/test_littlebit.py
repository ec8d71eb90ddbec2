"""`littlebit compress | info | convert | validate` on stories260K: the
factors read back by gguf-py and rebuilt in numpy equal the dense
reconstruction llm-quantize exports; the packed-kernel forward scores the
same perplexity as that dense export; refinement beats the Dual-SVID start and
block-output matching beats refinement;
BPW against the paper's formula; kill-and-resume; exit codes 6, 9, 21, 22, 23."""
import json
import os
import signal

import numpy as np
import pytest
from gguf import GGUFReader

REFINE = ["--rank", "16", "--refine-steps", "40"]
RANK = [*REFINE, "--block-steps", "0"]  # per-weight refinement only (the fixture); block matching is tested on its own
CALIBRATION = ["--calibration-samples", "8", "--calibration-seq-len", "128"]
VALIDATION = ["--validation-chunks", "4"]


def fast(flags):
    """Short calibration and validation, for the passes the run makes (flags for a skipped pass are exit 2)."""
    return ([] if "--no-refine" in flags else CALIBRATION) + ([] if "--skip-validation" in flags else VALIDATION)
LINEARS = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]


def compress(cli, model, out, name, *flags, env=None):
    proc, res = cli.json("littlebit", "compress", model, "-o", out, "-n", name, *fast(flags), *flags, env=env)
    assert proc.returncode == 0, proc.stderr
    return out / name, res


def paper_bpw(m, n, r, paths):
    return paths * (r * (m + n + 16) + 16 * (m + n)) / (m * n)


def unpack_signs(words_u8, rows, cols):
    bits = np.unpackbits(np.asarray(words_u8, dtype=np.uint8).reshape(rows, -1), axis=1, bitorder="little")
    return 1.0 - 2.0 * bits[:, :cols].astype(np.float64)


def tensor(reader, name):
    t = next(t for t in reader.tensors if t.name == name)
    return np.asarray(t.data)


@pytest.fixture(scope="module")
def compressed(cli, model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("littlebit")
    path, res = compress(cli, model_dir, out, "m.littlebit", *RANK)
    return out, path, res


def test_compress_result_and_info(cli, compressed):
    out, path, res = compressed
    assert res["status"] == "success" and res["format"] == "littlebit"
    assert len(res["layers"]) == 35
    shapes = {l["name"]: (l["rows"], l["cols"], l["rank"], l["paths"]) for l in res["layers"]}
    total_bits = sum(paper_bpw(m, n, r, p) * m * n for m, n, r, p in shapes.values())
    total = sum(m * n for m, n, _, _ in shapes.values())
    assert res["achieved_bpw"] == pytest.approx(total_bits / total, rel=1e-9)
    for l in res["layers"]:
        assert l["rank"] == 16 and l["paths"] == 2
        assert l["output_error"] < l["output_error_init"]  # refinement fits the calibration outputs better
    proc, info = cli.json("littlebit", "info", path, "--layers")
    assert proc.returncode == 0, proc.stderr
    assert info["format"] == "littlebit" and info["format_version"] == 1 and info["num_layers"] == 5
    assert info["achieved_bpw"] == pytest.approx(res["achieved_bpw"], rel=1e-9)
    assert info["compressed_size_bytes"] == path.stat().st_size == res["compressed_size_bytes"]
    assert info["layer_stats"]["min_rank"] == info["layer_stats"]["max_rank"] == 16
    proc = cli("littlebit", "info", path)
    assert proc.returncode == 0 and "LittleBit Native v1" in proc.stdout
    proc, generic = cli.json("info", path)  # the generic command knows the file too
    assert proc.returncode == 0 and generic["format"] == "littlebit" and generic["num_layers"] == 5


def test_factors_rebuilt_in_numpy_equal_the_dense_export(cli, compressed):
    """gguf-ext factors, unpacked and multiplied in numpy, against the F32 gguf-lossy export."""
    out, path, _ = compressed
    assert cli("littlebit", "convert", path, "gguf-ext", "-o", out, "-n", "ext.gguf").returncode == 0
    assert cli("littlebit", "convert", path, "gguf-lossy", "--gguf-quant", "F32", "--force", "-o", out,
               "-n", "dense.gguf").returncode == 0
    ext, dense = GGUFReader(out / "ext.gguf"), GGUFReader(out / "dense.gguf")
    fields = {f: ext.fields[f] for f in ext.fields if f.startswith("littlebit.")}
    assert "littlebit.version" in fields
    for layer in range(5):
        for lin in LINEARS:
            name = f"blk.{layer}.{lin}.weight"
            w = tensor(dense, name).astype(np.float64)
            m, n = w.shape
            rebuilt = np.zeros((m, n))
            for p in range(2):
                h = tensor(ext, f"{name}.lb{p}.h").astype(np.float64)
                l = tensor(ext, f"{name}.lb{p}.l").astype(np.float64)
                g = tensor(ext, f"{name}.lb{p}.g").astype(np.float64)
                r = l.shape[0]
                su = unpack_signs(tensor(ext, f"{name}.lb{p}.u").view(np.uint8), m, r)
                sv = unpack_signs(tensor(ext, f"{name}.lb{p}.v").view(np.uint8), r, n)
                rebuilt += (h[:, None] * su * l[None, :]) @ (sv * g[None, :])
            assert np.abs(rebuilt - w).max() <= 1e-5 * np.abs(w).max() + 1e-7, name
    # gguf-ext back to .littlebit keeps the factors: the dense export is the same.
    assert cli("littlebit", "convert", out / "ext.gguf", "littlebit", "-o", out, "-n", "back.littlebit").returncode == 0
    assert cli("littlebit", "convert", out / "back.littlebit", "gguf-lossy", "--gguf-quant", "F32", "--force",
               "-o", out, "-n", "dense2.gguf").returncode == 0
    d2 = GGUFReader(out / "dense2.gguf")
    for t in dense.tensors:
        np.testing.assert_array_equal(np.asarray(t.data), tensor(d2, t.name))


def test_packed_forward_scores_like_the_dense_export(cli, model_dir, compressed):
    out, path, res = compressed
    dense = out / "dense.gguf"
    if not dense.exists():
        assert cli("littlebit", "convert", path, "gguf-lossy", "--gguf-quant", "F32", "--force", "-o", out,
                   "-n", "dense.gguf").returncode == 0
    _, a = cli.json("littlebit", "validate", model_dir, path, "--calibration-samples", "4")
    _, b = cli.json("littlebit", "validate", model_dir, dense, "--calibration-samples", "4")
    assert a["perplexity_compressed"] == pytest.approx(b["perplexity_compressed"], rel=1e-4)
    assert a["perplexity_original"] == b["perplexity_original"]
    assert res["quality_metrics"]["perplexity_compressed"] == pytest.approx(a["perplexity_compressed"], rel=1e-9)


def test_refinement_beats_dual_svid_init(cli, model_dir, compressed, tmp_path):
    _, _, refined = compressed
    _, init = compress(cli, model_dir, tmp_path, "init.littlebit", "--rank", "16", "--no-refine")
    assert all("output_error" not in l for l in init["layers"])
    assert refined["quality_metrics"]["perplexity_compressed"] < 0.7 * init["quality_metrics"]["perplexity_compressed"]
    # GPTQ-style sequential calibration (inputs from the compressed prefix) also refines, with other inputs.
    path, seq = compress(cli, model_dir, tmp_path, "seq.littlebit", *RANK, "--sequential")
    assert seq["quality_metrics"]["perplexity_compressed"] < init["quality_metrics"]["perplexity_compressed"]
    assert [l["output_error_init"] for l in seq["layers"][:7]] == [l["output_error_init"] for l in refined["layers"][:7]]
    assert [l["output_error_init"] for l in seq["layers"]] != [l["output_error_init"] for l in refined["layers"]]


def test_block_output_matching_beats_per_weight_refinement(cli, model_dir, compressed, tmp_path):
    _, _, refined = compressed
    _, block = compress(cli, model_dir, tmp_path, "block.littlebit", *REFINE, "--block-steps", "30",
                        "--block-samples", "4")
    by_block = {}
    for l in block["layers"]:
        by_block.setdefault(l["name"].split(".")[1], set()).add((l["block_error_init"], l["block_error"]))
    assert len(by_block) == 5
    for errors in by_block.values():
        assert len(errors) == 1  # one figure per decoder block, shared by its seven linears
        (before, after), = errors
        assert after < before
    assert all("block_error" not in l for l in refined["layers"])
    assert block["quality_metrics"]["perplexity_compressed"] < 0.9 * refined["quality_metrics"]["perplexity_compressed"]


def test_lossy_gguf_output_loads_in_gguf_py(cli, model_dir, tmp_path):
    path, res = compress(cli, model_dir, tmp_path, "m.gguf", "--rank", "16", "--format", "gguf-lossy", "--refine-steps", "5")
    r = GGUFReader(path)
    types = {t.name: t.tensor_type.name for t in r.tensors}
    assert types["blk.0.attn_q.weight"] in ("Q4_K", "Q5_0", "Q5_1", "Q8_0", "Q4_0", "Q6_K")  # Q4_K_M mixture
    assert not list(tmp_path.glob(".*staging*")) and not list(tmp_path.glob("*.tmp"))


def test_kill_and_resume_is_byte_identical(cli, model_dir, tmp_path):
    ckpt = tmp_path / "ckpt"
    args = ["littlebit", "compress", model_dir, "-o", tmp_path, "-n", "k.littlebit", *CALIBRATION, *RANK,
            "--skip-validation"]
    env = dict(os.environ, LLM_QUANTIZE_TEST_KILL_AFTER_LAYERS="3")
    proc = cli(*args, "--checkpoint-dir", ckpt, env=env)
    assert proc.returncode == -signal.SIGKILL
    assert not (tmp_path / "k.littlebit").exists()
    proc = cli("--format", "json", *args, "--resume", ckpt)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["per_layer_summary"]["total_layers"] == 35
    ref = tmp_path / "ref"
    ref.mkdir()
    assert cli(*args[:3], "-o", ref, *args[5:], "--no-checkpoints").returncode == 0
    assert (tmp_path / "k.littlebit").read_bytes() == (ref / "k.littlebit").read_bytes()


@pytest.mark.parametrize("flags,code,kind", [
    (["--target-bpw", "0.05"], 22, "InvalidBPWRange"),
    (["--target-bpw", "2.5"], 22, "InvalidBPWRange"),
    (["--rank", "65"], 23, "RankSelectionFailed"),
    (["--format", "onnx"], 2, None),
    (["--no-refine", "--block-steps", "5"], 2, None),
    # flags that would do nothing in this run
    (["--gguf-quant", "Q8_0"], 2, None),
    (["--no-refine", "--refine-steps", "7"], 2, None),
    (["--no-refine", "--calibration-samples", "4"], 2, None),
    (["--skip-validation", "--validation-chunks", "3"], 2, None),
])
def test_argument_errors(cli, model_dir, tmp_path, flags, code, kind):
    proc, res = cli.json("littlebit", "compress", model_dir, "-o", tmp_path, *flags)
    assert proc.returncode == code, proc.stderr
    assert res["status"] == "error" and res["error_code"] == code and res["suggestion"]
    if kind:
        assert res["error_type"].startswith(kind)
    assert list(tmp_path.iterdir()) == []


def test_quality_threshold_exceeded_is_exit_21_and_leaves_nothing(cli, model_dir, tmp_path):
    proc, res = cli.json("littlebit", "compress", model_dir, "-o", tmp_path, "-n", "q.littlebit", *CALIBRATION,
                         *VALIDATION,
                         "--rank", "8", "--refine-steps", "5", "--quality-threshold", "0.001",
                         env=dict(os.environ, LLM_QUANTIZE_LITTLEBIT_RANK_SEARCH="1"))
    assert proc.returncode == 21, proc.stderr
    assert res["error_type"].startswith("QualityThreshold") and "exceeds threshold" in res["message"]
    assert list(tmp_path.iterdir()) == []


def test_damaged_file_is_exit_6_and_lossy_needs_force(cli, compressed, tmp_path):
    _, path, _ = compressed
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad = tmp_path / "bad.littlebit"
    bad.write_bytes(bytes(data))
    proc, res = cli.json("littlebit", "info", bad)
    assert proc.returncode == 6 and "checksum" in res["message"]
    proc, res = cli.json("littlebit", "convert", path, "gguf-lossy", "-o", tmp_path)
    assert proc.returncode == 9 and "--force" in res["suggestion"]
    assert list(tmp_path.iterdir()) == [bad]


def test_default_names_keep_the_extension_and_conversions_do_not_collide(cli, model_dir, tmp_path):
    # "-0.5bpw" is not an extension: the default compressed name still ends in .littlebit, and its GGUF
    # conversions are named after the whole stem, one file per format.
    proc = cli("littlebit", "compress", model_dir, "--target-bpw", "0.5", "--no-refine", "--skip-validation",
               "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    made = tmp_path / "stories260K-littlebit-0.5bpw.littlebit"
    assert [p.name for p in tmp_path.iterdir()] == [made.name]
    for fmt in (["gguf-ext"], ["gguf-lossy", "--force"]):
        proc = cli("littlebit", "convert", made, *fmt, "-o", tmp_path)
        assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [made.name, "stories260K-littlebit-0.5bpw-ext.gguf", "stories260K-littlebit-0.5bpw-Q4_K_M.gguf"])
    assert GGUFReader(tmp_path / "stories260K-littlebit-0.5bpw-ext.gguf").tensors
