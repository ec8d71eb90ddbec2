"""Hostile and careless input (issue: no crash, no hang, no data loss).

Every case is a real file changed in one place (crafted.py makes them; no
committed blobs) and must end with the documented exit code, no sanitizer
report, its inputs byte-for-byte unchanged and nothing at the output path.
The sanitizer build runs this file too."""
import hashlib
import json
import os
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import numpy as np
import pytest

from crafted import ARRAY, I32, STRING, U8, U64, Gguf, copy_hf, read_safetensors, write_safetensors

SANITIZER_MARKS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer", "Segmentation fault")


def digest(path):
    """sha256 of a file, or of every file under a directory (names included)."""
    h = hashlib.sha256()
    path = Path(path)
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        h.update(str(f.relative_to(path) if path.is_dir() else "").encode())
        h.update(f.read_bytes())
    return h.hexdigest()


def expect(cli, args, code, inputs=(), outputs=(), timeout=None):
    """Runs the CLI and checks the four promises of the issue."""
    before = {str(p): digest(p) for p in inputs}
    proc = cli(*args) if timeout is None else cli.timed(*args, timeout=timeout)
    assert proc.returncode >= 0, f"killed by signal {-proc.returncode}: {proc.stderr[-2000:]}"
    for mark in SANITIZER_MARKS:
        assert mark not in proc.stderr, proc.stderr[-4000:]
    assert proc.returncode == code, proc.stderr[-2000:]
    assert {str(p): digest(p) for p in inputs} == before, "an input changed"
    for out in outputs:
        assert not Path(out).exists(), f"{out} was written"
        leftovers = [p for p in Path(out).parent.glob("." + Path(out).name + ".*")]
        assert not leftovers, leftovers
    return proc


@pytest.fixture(scope="module")
def stories(shared):
    return shared / "models/stories260K.gguf"


def ppl_args(shared, model):
    return ["quality", "perplexity", model, "--data", shared / "data/eval-tinystories.txt", "--ctx", "64",
            "--chunks", "2"]


def quant_args(model, out_dir, name="q.gguf", level="Q8_0"):
    return ["quantize", model, "gguf", "-q", level, "-o", out_dir, "-n", name, "--no-checkpoints"]


# ---- GGUF files whose metadata and tensors disagree ------------------------------------------------

def _swap_dims(g, name):
    t = g.tensor(name)
    t["ne"] = t["ne"][::-1]
    return g


def _nan_at(g, name, i, value=np.nan):
    v = g.values(name)
    v[i] = value
    return g.set_values(name, v)


def _tokens_as_ints(g):
    n = len(g.kv("tokenizer.ggml.tokens")[2][1])
    return g.set_kv("tokenizer.ggml.tokens", (I32, list(range(n))), ARRAY)


GGUF_CASES = {
    "head_count_7": lambda g: g.set_kv("llama.attention.head_count", 7),
    "head_count_kv_3": lambda g: g.set_kv("llama.attention.head_count_kv", 3),
    "ffn_down_dims_swapped": lambda g: _swap_dims(g, "blk.0.ffn_down.weight"),
    "feed_forward_length_0": lambda g: g.set_kv("llama.feed_forward_length", 0),
    "embedding_length_128": lambda g: g.set_kv("llama.embedding_length", 128),
    "block_count_1000": lambda g: g.set_kv("llama.block_count", 1000),
    "block_count_2_40": lambda g: g.set_kv("llama.block_count", 2 ** 40, U64),
    "layer_tensor_missing": lambda g: g.drop("blk.2.ffn_up.weight"),
    "nan_in_norm": lambda g: _nan_at(g, "blk.1.attn_norm.weight", 3),
    "inf_in_embedding": lambda g: _nan_at(g, "token_embd.weight", 64 + 5, np.inf),  # BOS's row: always read
}


@pytest.mark.parametrize("case", sorted(GGUF_CASES))
def test_gguf_inconsistent_with_itself(cli, shared, stories, tmp_path, case):
    bad = GGUF_CASES[case](Gguf.read(stories)).write(tmp_path / "bad.gguf")
    out = tmp_path / "out"
    out.mkdir()
    expect(cli, ppl_args(shared, bad), 6, inputs=[bad])
    expect(cli, quant_args(bad, out), 6, inputs=[bad], outputs=[out / "q.gguf"])


def test_inf_in_a_tensor_kept_as_f16(cli, stories, tmp_path):
    # Q4_0 leaves the 172-wide ffn_down in F16: it is checked all the same.
    bad = _nan_at(Gguf.read(stories), "blk.0.ffn_down.weight", 5, np.inf).write(tmp_path / "bad.gguf")
    out = tmp_path / "out"
    out.mkdir()
    expect(cli, quant_args(bad, out, level="Q4_0"), 6, inputs=[bad], outputs=[out / "q.gguf"])


def test_token_list_of_integers(cli, shared, stories, tmp_path):
    bad = _tokens_as_ints(Gguf.read(stories)).write(tmp_path / "bad.gguf")
    proc = expect(cli, ppl_args(shared, bad), 6, inputs=[bad])
    assert "variant" not in proc.stderr  # a message for people, not std::get's


def test_tensor_size_wrapping_2_64(cli, stories, tmp_path):
    # 2^62 F32 elements are 2^64 bytes: the size wraps to 0 and must be refused, not streamed.
    g = Gguf.read(stories)
    g.tensors.append({"name": "huge.weight", "ne": [2 ** 31, 2 ** 31], "type": 0, "data": b""})
    bad = g.write(tmp_path / "bad.gguf", declared_sizes={"huge.weight": 0})
    assert bad.stat().st_size < 2 << 20
    out = tmp_path / "out"
    out.mkdir()
    expect(cli, ["info", bad], 6, inputs=[bad])
    expect(cli, quant_args(bad, out), 6, inputs=[bad], outputs=[out / "q.gguf"], timeout=60)


def test_huge_metadata_array_costs_bounded_memory(cli, stories, tmp_path):
    g = Gguf.read(stories)
    g.kvs.append(["junk.bytes", ARRAY, (U8, b"\x01" * 40_000_000)])
    bad = g.write(tmp_path / "big.gguf")
    proc, peak = cli.peak_rss("info", bad)
    assert proc.returncode == 0, proc.stderr
    assert peak < 400 << 20, f"info peaked at {peak >> 20} MiB for a 40 MB array"


# ---- HF checkpoints whose config.json and tensors disagree -----------------------------------------

def _swap(t, a, b):
    t[a], t[b] = t[b], t[a]
    return t


Q = "model.layers.0.self_attn.q_proj.weight"
K = "model.layers.0.self_attn.k_proj.weight"
HF_CASES = {
    "intermediate_size_0": dict(config_changes={"intermediate_size": 0}),
    "head_dim_7": dict(config_changes={"head_dim": 7}),
    "hidden_size_1e12": dict(config_changes={"hidden_size": 10 ** 12}),
    "layers_1000": dict(config_changes={"num_hidden_layers": 1000}),
    "q_k_swapped": dict(tensor_changes=lambda t: _swap(t, Q, K)),
    "q_proj_1d": dict(tensor_changes=lambda t: {**t, Q: t[Q].reshape(-1)}),
    "layer_tensor_missing": dict(tensor_changes=lambda t: {k: v for k, v in t.items()
                                                           if k != "model.layers.2.mlp.up_proj.weight"}),
    "no_tensors": dict(tensor_changes=lambda t: {}),
}


@pytest.mark.parametrize("case", sorted(HF_CASES))
def test_hf_checkpoint_inconsistent_with_its_config(cli, shared, model_dir, tmp_path, case):
    bad = copy_hf(model_dir, tmp_path / "model", **HF_CASES[case])
    out = tmp_path / "out"
    out.mkdir()
    expect(cli, ppl_args(shared, bad), 6, inputs=[bad])
    expect(cli, quant_args(bad, out), 6, inputs=[bad], outputs=[out / "q.gguf"])


def test_many_zero_size_entries_are_quick(cli, model_dir, tmp_path):
    d = copy_hf(model_dir, tmp_path / "model")
    t, meta = read_safetensors(d / "model.safetensors")
    extra = {f"model.layers.{i}.mlp.up_proj.weight": {"dtype": "F32", "shape": [0, 64], "data_offsets": [0, 0]}
             for i in range(5, 200_005)}
    write_safetensors(d / "model.safetensors", t, meta, raw_header=extra)
    out = tmp_path / "out"
    out.mkdir()
    start = time.monotonic()
    expect(cli, quant_args(d, out), 6, inputs=[d], outputs=[out / "q.gguf"], timeout=120)
    assert time.monotonic() - start < 60


# ---- a .littlebit file with valid checksums whose index swaps two matrices -----------------------

def rewrite_littlebit_index(path, change):
    """Applies change(index_dict) and recomputes the index and file CRC-32s."""
    data = bytearray(path.read_bytes())
    off, size = struct.unpack_from("<QQ", data, len(data) - 32)
    index = json.loads(data[off:off + size])
    change(index)
    body = json.dumps(index, separators=(",", ":")).encode()
    out = data[:off] + body
    trailer = struct.pack("<QQI", off, len(body), zlib.crc32(body))
    out += trailer
    out += struct.pack("<I", zlib.crc32(out)) + b"LBITEND\0"
    path.write_bytes(out)


def test_littlebit_index_swapping_two_matrices(cli, shared, model_dir, tmp_path):
    cli("littlebit", "compress", model_dir, "--rank", "4", "--no-refine", "--skip-validation", "-o", tmp_path,
        "-n", "m.littlebit", "--no-checkpoints")
    lb = tmp_path / "m.littlebit"
    assert lb.exists()

    def swap(index):
        ts = index["tensors"]
        a = next(t for t in ts if t["name"] == "blk.0.attn_q.weight")
        b = next(t for t in ts if t["name"] == "blk.0.attn_k.weight")
        a["name"], b["name"] = b["name"], a["name"]

    rewrite_littlebit_index(lb, swap)
    assert cli("littlebit", "info", lb).returncode == 0  # well-formed: the checksums hold
    expect(cli, ppl_args(shared, lb), 6, inputs=[lb])


# ---- importance matrices ------------------------------------------------------------------------

def legacy_imatrix(entries, chunks=1):
    out = struct.pack("<i", len(entries))
    for name, ncall, values in entries:
        b = name.encode()
        out += struct.pack("<i", len(b)) + b + struct.pack("<ii", ncall, len(values))
        out += np.asarray(values, dtype=np.float32).tobytes()
    return out + struct.pack("<ii", chunks, 0)


def golden_entries(shared):
    from imatrix_dat import load_dat
    entries, _, _ = load_dat(shared / "golden/stories260K/imatrix-calib.dat")
    return [(k, nc, v.copy()) for k, (nc, v) in entries.items()]


@pytest.mark.parametrize("case", ["nan", "inf", "negative", "ncall_0"])
def test_bad_imatrix_values(cli, shared, stories, tmp_path, case):
    entries = golden_entries(shared)
    name, ncall, values = entries[0]
    if case == "ncall_0":
        ncall = 0
    else:
        values[1] = {"nan": np.nan, "inf": np.inf, "negative": -1.0}[case]
    entries[0] = (name, ncall, values)
    im = tmp_path / "bad.dat"
    im.write_bytes(legacy_imatrix(entries))
    out = tmp_path / "out"
    out.mkdir()
    expect(cli, quant_args(stories, out, level="IQ2_XS") + ["--imatrix", im], 10, inputs=[im, stories],
           outputs=[out / "q.gguf"])


@pytest.mark.parametrize("case", ["chunk_size_negative", "counts_nan", "counts_0"])
def test_bad_gguf_imatrix(cli, shared, stories, tmp_path, case):
    good = tmp_path / "good.gguf"
    assert cli("analyze", "--in-file", shared / "golden/stories260K/imatrix-calib.dat", "-o", good).returncode == 0
    g = Gguf.read(good)
    if case == "counts_0":
        counts = next(t["name"] for t in g.tensors if t["name"].endswith(".counts"))
        _nan_at(g, counts, 0, 0.0)
    elif case == "chunk_size_negative":
        g.set_kv("imatrix.chunk_size", -1, I32)
    else:
        counts = next(t["name"] for t in g.tensors if t["name"].endswith(".counts"))
        _nan_at(g, counts, 0)
    im = g.write(tmp_path / "bad.gguf")
    out = tmp_path / "out"
    out.mkdir()
    expect(cli, quant_args(stories, out, level="IQ2_XS") + ["--imatrix", im], 10, inputs=[im],
           outputs=[out / "q.gguf"])


def test_gguf_imatrix_of_unknown_chunk_size_means_what_it_says(cli, shared, stories, tmp_path):
    # chunk_size 0 (converted from the legacy layout, which has none): the same
    # importance as the legacy file, so the same bytes; never a NaN model.
    legacy = shared / "golden/stories260K/imatrix-calib.dat"
    as_gguf = tmp_path / "i.gguf"
    assert cli("analyze", "--in-file", legacy, "-o", as_gguf).returncode == 0
    g = Gguf.read(as_gguf)
    assert g.kv("imatrix.chunk_size")[2] == 0
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    assert cli(*quant_args(stories, a, level="IQ2_XS"), "--imatrix", legacy).returncode == 0
    assert cli(*quant_args(stories, b, level="IQ2_XS"), "--imatrix", as_gguf).returncode == 0
    # Same tensors (the metadata names the imatrix file, which differs).
    ta, tb = Gguf.read_any(a / "q.gguf"), Gguf.read_any(b / "q.gguf")
    assert [(t["name"], t["type"], t["data"]) for t in ta] == [(t["name"], t["type"], t["data"]) for t in tb]


def test_imatrix_of_another_model(cli, shared, stories, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    im = shared / "golden/synthetic-a/imatrix.dat"
    expect(cli, quant_args(stories, out, level="IQ2_XS") + ["--imatrix", im], 10, outputs=[out / "q.gguf"])


# ---- hangs --------------------------------------------------------------------------------------

def test_fifo_inputs_are_refused_at_once(cli, shared, model_dir, tmp_path):
    fifo = tmp_path / "x.gguf"
    os.mkfifo(fifo)
    expect(cli, ["info", fifo], 6, timeout=30)
    d = tmp_path / "model"
    shutil.copytree(model_dir, d)
    (d / "model.safetensors").unlink()
    os.mkfifo(d / "model.safetensors")
    expect(cli, ["info", d], 6, timeout=30)
    text = tmp_path / "calib.txt"
    os.mkfifo(text)
    expect(cli, ["analyze", model_dir, "--calibration-data", text, "-o", tmp_path / "i.dat"], 15,
           outputs=[tmp_path / "i.dat"], timeout=30)


def test_catastrophic_regex_in_a_profile(cli, model_dir, tmp_path):
    profile = tmp_path / "evil.dqprofile"
    profile.write_text(json.dumps({"format": "libquant.dqprofile", "version": 1, "profile_name": "evil",
                                   "description": "", "strategy": "custom", "default_type": "Q8_0",
                                   "rules": [{"tensor": "^(((((.*)*)*)*)*)*[$]$", "type": "Q4_0"}]}))
    out = tmp_path / "out"
    out.mkdir()
    start = time.monotonic()
    proc = cli.timed("quantize", model_dir, "gguf", "-q", "dynamic", "--profile", profile, "-o", out,
                     "--no-checkpoints", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert time.monotonic() - start < 30
    bad = tmp_path / "bad.dqprofile"
    bad.write_text(profile.read_text().replace("[$]$", "(?P=x)"))
    expect(cli, ["profile", "validate", bad, model_dir], 13)


def test_thread_creation_failure_is_reported(cli, model_dir, tmp_path, sanitized):
    if sanitized:
        pytest.skip("ASan reserves terabytes of address space: an address-space limit cannot apply")
    out = tmp_path / "out"
    out.mkdir()
    # 1 GiB of address space holds far fewer than 1000 thread stacks.
    proc = cli.timed(*quant_args(model_dir, out), "--threads", "1000", timeout=60, limit_address_space=1 << 30)
    assert proc.returncode == 5, proc.stderr
    assert "threads" in proc.stderr and not (out / "q.gguf").exists()


# ---- data loss ----------------------------------------------------------------------------------

def test_outputs_never_overwrite_inputs(cli, shared, model_dir, stories, tmp_path):
    work = tmp_path / "w"
    work.mkdir()
    g = work / "m.gguf"
    shutil.copy(stories, g)
    im = work / "i.gguf"
    assert cli("analyze", "--in-file", shared / "golden/stories260K/imatrix-calib.dat", "-o", im).returncode == 0
    text = work / "t.txt"
    text.write_text((shared / "data/calib.txt").read_text()[:20000])
    hf = work / "hf"
    shutil.copytree(model_dir, hf)
    (hf / "notes.gguf").write_bytes(b"a file of the checkpoint directory")
    both = [g, im, text, hf]
    expect(cli, ["quantize", g, "gguf", "-q", "Q8_0", "-o", work, "-n", "m.gguf", "--no-checkpoints"], 2, both)
    expect(cli, ["quantize", g, "gguf", "-q", "Q8_0", "-o", work, "-n", "m.gguf"], 2, both)
    expect(cli, ["quantize", g, "gguf", "-q", "Q8_0", "-o", work, "-n", "m.gguf", "--quality-report"], 2, both)
    expect(cli, ["quantize", g, "gguf", "-q", "IQ2_XS", "--imatrix", im, "-o", work, "-n", "i.gguf"], 2, both)
    expect(cli, ["quantize", hf, "gguf", "-q", "Q8_0", "-o", hf, "-n", "notes.gguf"], 2, both)
    expect(cli, ["analyze", g, "--calibration-data", text, "-o", g], 2, both)
    expect(cli, ["analyze", g, "--calibration-data", text, "-o", text], 2, both)
    expect(cli, ["analyze", "--in-file", im, "-o", im], 2, both)
    expect(cli, ["littlebit", "compress", g, "--rank", "2", "-o", work, "-n", "m.gguf", "--format", "gguf-ext"], 2,
           both)
    expect(cli, ["quality", "report", g, g, "--data", text, "--chunks", "1", "--ctx", "64", "-o", text], 2, both)
    expect(cli, ["quality", "perplexity", g, "--data", text, "--ctx", "64", "--save-logits", g], 2, both)
    expect(cli, ["quantize", hf, "smoothquant", "-o", work, "-n", "hf"], 2, both)
    expect(cli, ["quantize", hf, "smoothquant", "-o", hf, "-n", "w8a8"], 2, both)
    expect(cli, ["quantize", hf, "smoothquant", "-o", tmp_path, "-n", "w"], 2, both)  # would replace hf's parent


@pytest.mark.parametrize("name", ["/", "..", "../../x", "a/b.gguf", "."])
def test_output_name_is_a_plain_file_name(cli, model_dir, tmp_path, name):
    out = tmp_path / "o"
    out.mkdir()
    root_file_before = Path("/.gguf").exists()
    expect(cli, ["quantize", model_dir, "gguf", "-q", "Q8_0", "-o", out, "-n", name], 2, [model_dir])
    assert list(out.iterdir()) == [] and Path("/.gguf").exists() == root_file_before


def test_tampered_checkpoint_is_not_resumed(cli, shared, tmp_path):
    src = shared / "golden/synthetic-a/model-f32.gguf"
    ckpt, out = tmp_path / "ckpt", tmp_path / "out"
    out.mkdir()
    args = ["quantize", src, "gguf", "-q", "Q8_0", "-o", out, "-n", "m.gguf"]
    env = dict(os.environ, LLM_QUANTIZE_TEST_KILL_AT_BYTES="400000")
    assert cli(*args, "--checkpoint-dir", ckpt, env=env).returncode < 0
    part = next(ckpt.glob("*.gguf.part"))
    data = bytearray(part.read_bytes())
    data[len(data) // 3] ^= 0x10  # inside a tensor the record says is finished
    part.write_bytes(data)
    proc = expect(cli, [*args, "--resume", ckpt], 7, outputs=[out / "m.gguf"])
    assert "changed" in proc.stderr


# ---- exit codes and flags -------------------------------------------------------------------------

FLAG_CASES = [
    ["quantize", "{m}", "gguf", "-q", "dynamic", "--target-bpw", "nan"],
    ["quantize", "{m}", "gguf", "-q", "dynamic", "--target-size-bytes", "-1"],
    ["quantize", "{m}", "gguf", "-q", "Q8_0", "--threads", "-3"],
    ["littlebit", "compress", "{m}", "--refine-steps", "-1"],
    ["littlebit", "compress", "{m}", "--kv-factor", "nan"],
    ["littlebit", "compress", "{m}", "--kv-factor", "inf"],
    ["littlebit", "compress", "{m}", "--rank", "4", "--target-bpw", "1.0"],
    ["littlebit", "compress", "{m}", "--keep-type", "Q4_0"],
    ["littlebit", "compress", "{m}", "--quality-threshold", "-1"],
    ["littlebit", "compress", "{m}", "--format", "zip"],
    ["quantize", "{m}", "gguf", "-q", "Q8_0", "--checkpoint-dir", "{o}/c", "--no-checkpoints"],
    ["tokenize", "{m}"],
    ["quantize", "{m}", "smoothquant", "--alpha", "nan"],
    ["quantize", "{m}", "gptq", "-q", "5bit"],
    ["quantize", "{m}", "gptq", "--group-size", "0"],
    ["quantize", "{m}", "gptq", "--group-size", "32"],  # stories260K's 172 FFN columns
    ["quantize", "{m}", "gptq", "--damp", "nan"],
    ["quantize", "{m}", "gguf", "-q", "Q8_0", "--act-order"],
    ["quantize", "{m}", "smoothquant", "--group-size", "64"],
    # flags given for a format they do nothing for
    ["quantize", "{m}", "gguf", "-q", "Q8_0", "--calibration-samples", "4"],
    ["quantize", "{m}", "gguf", "-q", "Q8_0", "--calibration-data", "{m}/../../data/calib.txt"],
    ["quantize", "{m}", "gptq", "--resume", "{o}/c"],
    ["quantize", "{m}", "awq", "--no-checkpoints"],
    ["quantize", "{m}", "gptq", "--imatrix", "{o}/i.dat"],
    ["quantize", "{m}", "gptq", "--group-size", "-1", "--sym"],
    ["quantize", "{m}", "awq", "--group-size", "-1", "--damp", "0.01"],
    ["quantize", "{m}", "awq", "--group-size", "-1", "--layout", "gptq", "--act-order"],
]


@pytest.mark.parametrize("args", FLAG_CASES, ids=lambda a: " ".join(a[:1] + a[3:]))
def test_bad_flags_exit_2(cli, model_dir, tmp_path, args):
    out = tmp_path / "o"
    out.mkdir()
    expect(cli, [a.format(m=model_dir, o=out) for a in args] + ["-o", out] * (args[0] != "tokenize"), 2,
           [model_dir])
    assert list(out.iterdir()) == []


def test_missing_calibration_file_is_exit_15(cli, model_dir, tmp_path):
    for args in (["analyze", model_dir, "--calibration-data", tmp_path / "none.txt", "-o", tmp_path / "i.dat"],
                 ["quality", "perplexity", model_dir, "--data", tmp_path / "none.txt"],
                 ["quantize", model_dir, "smoothquant", "--smoothquant", "--calibration-data", tmp_path / "none.txt",
                  "-o", tmp_path]):
        expect(cli, args, 15, [model_dir])


def test_identical_runs_at_once_share_nothing_but_the_result(cli, shared, tmp_path):
    """8 identical runs started together in one directory (default ./.checkpoint):
    every run that finishes leaves the lone run's bytes, the others exit 7."""
    src = (shared / "golden/synthetic-a/model-f32.gguf").resolve()
    lone = tmp_path / "lone"
    lone.mkdir()
    # IQ1_S takes ~0.5 s here: long enough for the eight runs to overlap.
    args = ["quantize", src, "gguf", "-q", "IQ1_S", "--imatrix", src.parent / "imatrix.dat", "-n", "m.gguf",
            "--threads", "1"]
    assert cli(*args, "-o", lone, "--no-checkpoints").returncode == 0
    work = tmp_path / "shared-dir"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "LLM_QUANTIZE_CHECKPOINT_DIR"}
    procs = [subprocess.Popen([cli.binary, *map(str, args), "-o", "."], cwd=work, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(8)]
    results = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(rc for rc, _ in results)
    assert set(codes) <= {0, 7}, results
    assert 0 in codes and 7 in codes, codes
    for rc, err in results:
        for mark in SANITIZER_MARKS:
            assert mark not in err, err[-3000:]
        if rc == 7:
            assert "another run" in err
    assert (work / "m.gguf").read_bytes() == (lone / "m.gguf").read_bytes()
    assert sorted(p.name for p in work.iterdir()) == ["m.gguf"]  # no partial files, the checkpoint dir tidied
