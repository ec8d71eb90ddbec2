"""Every file type of the 2026 llama-quantize (llama-cpp-python 0.3.36's tree),
run live beside ours: with and without an importance matrix, on synthetic-a
(rows of 256) and stories260K (rows of 64 and 172, so every k- and i-quant
falls back). Both must agree on refusing (exit 10 for us) and otherwise write
the same bytes. The list of types is read from the binary's own usage text, so
a type llama.cpp adds shows up here as a failure until it is supported.

Known, deliberate difference: where llama-quantize has no fallback for a row
length (Q1_0's 128-blocks on rows of 64) it stops; we write F16 for that
tensor with a warning. Those cases check that we do and that the rest of the
file is unchanged."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from gguf import GGUFReader

import fetched

# Not file types of their own: aliases and "copy".
ALIASES = {"Q3_K", "Q4_K", "Q5_K", "COPY"}


def llama_quantize_types():
    """The types the 2026 llama-quantize's usage text lists ("   2  or  Q4_0 : ...")."""
    proc = subprocess.run([fetched.llama_tools() / "llama-quantize", "--help"], capture_output=True, text=True)
    names = re.findall(r"^\s+\d+\s+or\s+(\w+)\s+:", proc.stdout + proc.stderr, flags=re.M)
    names += re.findall(r"^\s+(\w+)\s+:\s", proc.stdout + proc.stderr, flags=re.M)
    found = [n for n in dict.fromkeys(names) if n.upper() == n and n not in ALIASES]
    assert len(found) >= 35, proc.stdout + proc.stderr
    return found


def run_both(cli, model, qtype, imatrix, out_dir, extra=()):
    """(their exit code, their bytes or None, their log, our exit code, our bytes or None, our stderr)."""
    theirs, ours = out_dir / f"theirs-{qtype}.gguf", out_dir / f"ours-{qtype}.gguf"
    for f in (theirs, ours):
        f.unlink(missing_ok=True)
    im = ["--imatrix", str(imatrix)] if imatrix else []
    t = subprocess.run([fetched.llama_tools() / "llama-quantize", *im, *extra, model, theirs, qtype, "2"],
                       capture_output=True, text=True)
    auto = [] if imatrix else ["--no-auto-imatrix"]  # compare refusals, not our automatic imatrix
    o = cli("quantize", model, "gguf", "-q", qtype, *im, *auto, *extra, "-o", out_dir, "-n", ours.name,
            "--no-checkpoints",
            check=False)
    read = lambda f: f.read_bytes() if f.exists() else None  # noqa: E731
    return t.returncode, read(theirs), t.stdout + t.stderr, o.returncode, read(ours), o.stderr


@pytest.mark.slow  # under a sanitizer: the integration tests cover these paths
@pytest.mark.parametrize("model,imatrix", [
    ("golden/synthetic-a/model-f32.gguf", "golden/synthetic-a/imatrix.dat"),
    ("models/stories260K.gguf", "golden/stories260K/imatrix-calib.dat"),
])
def test_every_type_matches_the_2026_llama_quantize(cli, shared, tmp_path, model, imatrix):
    types = llama_quantize_types()
    mismatches = []
    for qtype in types:
        for im in (None, shared / imatrix):
            trc, tbytes, their_log, orc, obytes, err = run_both(cli, shared / model, qtype, im, tmp_path)
            case = f"{qtype} {'imatrix' if im else 'plain'}"
            if trc != 0:
                if "requires an imatrix" in their_log:
                    if orc != 10 or obytes is not None:
                        mismatches.append(f"{case}: llama-quantize refuses (needs an imatrix), we exit {orc}")
                elif "no tensor type fallback" in their_log:
                    if orc != 0 or "using F16" not in err:
                        mismatches.append(f"{case}: llama-quantize has no fallback; we exit {orc} without F16")
                else:
                    mismatches.append(f"{case}: llama-quantize failed: {their_log[-300:]}")
            elif orc != 0:
                mismatches.append(f"{case}: we exit {orc}: {err[-300:]}")
            elif obytes != tbytes:
                mismatches.append(f"{case}: bytes differ")
    assert not mismatches, "\n".join(mismatches)


def crafted_model(shared, path):
    """synthetic-a with hostile magnitudes written over three tensors in place:
    zero blocks, values small enough for subnormal E4M3 / E8M0 scales, values
    past E4M3's 448 x 6, exact ties between FP4 levels, negative zeros."""
    src = shared / "golden/synthetic-a/model-f32.gguf"
    data = bytearray(src.read_bytes())
    reader = GGUFReader(src)
    rng = np.random.default_rng(7)
    for t in reader.tensors:
        if t.name not in ("blk.0.ffn_down.weight", "blk.0.attn_q.weight", "blk.1.ffn_up.weight"):
            continue
        n = int(np.prod(t.shape))
        v = rng.standard_normal(n).astype(np.float32)
        v[:256] = 0.0                                   # whole zero blocks
        v[256:512] *= 1e-6                              # subnormal scales
        v[512:768] *= 1e4                               # clamped scales
        v[768:1024] = rng.choice([0.25, 0.5, 0.75, 1.0, 1.25, -0.25, -1.75, 3.0], 256)  # level ties
        v[1024:1088] = -0.0
        v[1088:1152] = np.float32(1e-30)                # tiny but non-zero
        data[t.data_offset:t.data_offset + 4 * n] = v.tobytes()
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("codec", ["nvfp4", "mxfp4", "q1_0", "q2_0", "tq1_0", "iq4_nl"])
def test_block_codecs_on_hostile_values_match(cli, shared, tmp_path, codec):
    """Each codec on the crafted tensors through --tensor-type, bytes equal to the 2026 ggml's."""
    model = crafted_model(shared, tmp_path / "crafted.gguf")
    overrides = ["--tensor-type", f"ffn_down={codec}", "--tensor-type", f"attn_q={codec}",
                 "--tensor-type", f"ffn_up={codec}"]
    trc, tbytes, their_log, orc, obytes, err = run_both(cli, model, "Q8_0", None, tmp_path, overrides)
    assert trc == 0 and orc == 0, err
    assert re.search(rf"blk\.0\.ffn_down\.weight .* converting to {codec}", their_log, flags=re.I), their_log
    assert obytes == tbytes


def test_tensor_type_file_matches(cli, shared, tmp_path):
    """--tensor-type-file in llama-quantize's format (entries split by spaces and newlines) gives its bytes."""
    spec = tmp_path / "types.txt"
    spec.write_text("attn_q=q1_0  ffn_down=nvfp4\nffn_up=q2_0\n  blk\\.1\\.attn_v=q8_0\n")
    extra = ["--tensor-type-file", str(spec)]
    trc, tbytes, log, orc, obytes, err = run_both(cli, shared / "golden/synthetic-a/model-f32.gguf", "Q4_K_M", None,
                                                  tmp_path, extra)
    assert trc == 0 and orc == 0, log + err
    assert "q1_0" in log and obytes == tbytes


@pytest.mark.slow  # under a sanitizer: the integration tests cover these paths
@pytest.mark.parametrize("qtype", ["Q4_K_M", "Q3_K_M", "IQ2_XS"])
@pytest.mark.parametrize("extra", [
    ["--prune-layers", "0"],
    ["--prune-layers", "1"],
    ["--override-kv", "general.name=str:edited", "--override-kv", "foo.count=int:-7",
     "--override-kv", "foo.scale=float:0.25", "--override-kv", "general.file_type=bool:true"],
    ["--include-weights", "attn", "--include-weights", "ffn_up"],
    ["--exclude-weights", "blk.0."],
    ["--prune-layers", "0", "--exclude-weights", "ffn_down", "--override-kv", "llama.context_length=int:256"],
], ids=["prune-0", "prune-1", "override-kv", "include", "exclude", "combined"])
def test_llama_quantize_options_match(cli, shared, tmp_path, qtype, extra):
    """The 2026 llama-quantize's output-editing options give its bytes (block renumbering, block_count, keys
    moved last when set again, int overrides as UINT32, imatrix entries filtered by name parts)."""
    golden = shared / "golden/synthetic-a"
    trc, tbytes, log, orc, obytes, err = run_both(cli, golden / "model-f32.gguf", qtype, golden / "imatrix.dat",
                                                  tmp_path, extra)
    if trc != 0:  # IQ2_XS with a tensor's imatrix entry filtered out: both refuse
        assert "Missing importance matrix for tensor" in log and orc == 10 and obytes is None, log + err
        return
    assert orc == 0, err
    assert obytes == tbytes


@pytest.mark.slow  # under a sanitizer: the integration tests cover these paths
@pytest.mark.parametrize("qtype,extra", [
    ("Q4_K_M", []), ("IQ2_XS", []), ("Q3_K_M", ["--prune-layers", "0"]), ("Q8_0", ["--override-kv", "a.b=int:3"]),
])
def test_split_input_and_keep_split_match(cli, shared, tmp_path, qtype, extra):
    """A split input read whole (one output, split keys dropped) and written back split (--keep-split: the same
    shards, tensors in shard order, split.no / split.count / split.tensors.count) give the 2026 tool's bytes."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from gguf_split_files import split_copy
    golden = shared / "golden/synthetic-a"
    (tmp_path / "in").mkdir()
    shards = split_copy(golden / "model-f32.gguf", tmp_path / "in", 7)
    assert len(shards) == 3
    trc, tbytes, log, orc, obytes, err = run_both(cli, shards[0], qtype, golden / "imatrix.dat", tmp_path, extra)
    assert trc == 0 and orc == 0, log + err
    assert obytes == tbytes
    for who in ("theirs", "ours"):
        (tmp_path / who).mkdir()
    im = ["--imatrix", str(golden / "imatrix.dat")]
    subprocess.run([fetched.llama_tools() / "llama-quantize", "--keep-split", *im, *extra, shards[0],
                    tmp_path / "theirs/out.gguf", qtype, "2"], check=True, capture_output=True)
    cli("quantize", shards[0], "gguf", "-q", qtype, "--keep-split", *im, *extra, "-o", tmp_path / "ours", "-n",
        "out.gguf", "--no-checkpoints")
    theirs = sorted(p.name for p in (tmp_path / "theirs").iterdir())
    assert theirs == [f"out-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert sorted(p.name for p in (tmp_path / "ours").iterdir()) == theirs
    for name in theirs:
        assert (tmp_path / "ours" / name).read_bytes() == (tmp_path / "theirs" / name).read_bytes(), name


@pytest.fixture(scope="module")
def log_flush_preload(tmp_path_factory):
    """llama.cpp's tools log through a background thread of a logger they never destroy (llama.cpp issue 22142):
    a fast exit loses the log, often all of it. A library whose destructor waits 200 ms before the process ends
    lets that thread finish; it is preloaded into the tool."""
    folder = tmp_path_factory.mktemp("preload")
    (folder / "wait.c").write_text("#include <unistd.h>\n"
                                   "__attribute__((destructor)) static void wait_for_log(void) { usleep(200000); }\n")
    subprocess.run(["cc", "-shared", "-fPIC", "-o", folder / "libwait.so", folder / "wait.c"], check=True)
    return folder / "libwait.so"


def llama_imatrix_statistics(model, imatrix, preload):
    """(per-weight rows, per-layer rows) of the 2026 llama-imatrix --show-statistics table."""
    row = (r"^\S*\s*I?\s*(\S+)\t(\S+)\s*\t\s*([-\d.]+)\t\s*([-\d.]+)\t\s*([-\d.]+)\t\s*([-\d.]+)\t"
           r"\s*([-\d.]+)\t\s*([-\d.]+)%\t\s*(\d+)\t\s*([-\d.]+)\t\s*([-\d.]+)%\t\s*([-\d.]+)%\t\s*([-\d.]+)$")
    layer_row = r"^\S*\s*I?\s*(\d+)\t\s*([-\d.]+)\t\s*([-\d.]+)%\t([-\d.]+)$"
    proc = subprocess.run([fetched.llama_tools() / "llama-imatrix", "-m", model, "--show-statistics", "--in-file",
                           imatrix], capture_output=True, text=True, check=True,
                          env={**os.environ, "LD_PRELOAD": str(preload)})
    text = proc.stdout + proc.stderr
    tensors, layers = re.findall(row, text, flags=re.M), re.findall(layer_row, text, flags=re.M)
    n_tensors = re.search(r"Computing statistics for .* \((\d+) tensors\)", text)
    n_layers = re.search(r"Computing weighted average statistics per layer \((\d+) layers\)", text)
    assert n_tensors and n_layers and (len(tensors), len(layers)) == (int(n_tensors[1]), int(n_layers[1])), text
    return tensors, layers


@pytest.mark.parametrize("layout", ["dat", "gguf"])
def test_imatrix_statistics_match_llama_imatrix(cli, shared, tmp_path, layout, log_flush_preload):
    """analyze --show-statistics prints what llama-imatrix --show-statistics prints (to its printed digits)."""
    golden = shared / "golden/synthetic-a"
    imatrix = golden / "imatrix.dat"
    if layout == "gguf":
        cli("analyze", "--in-file", imatrix, "-o", tmp_path / "im.gguf")
        imatrix = tmp_path / "im.gguf"
    theirs, their_layers = llama_imatrix_statistics(golden / "model-f32.gguf", imatrix, log_flush_preload)
    ours = json.loads(cli("--format", "json", "analyze", "--show-statistics", "--in-file", imatrix).stdout)
    assert len(ours["tensors"]) == len(theirs)
    by_key = {(t["layer"], t["tensor"]): t for t in ours["tensors"]}
    for layer, tensor, total, lo, hi, mean, std, active, n, entropy, enorm, zd, cos in theirs:
        t = by_key[(layer, tensor)]
        printed = [(t["sum"], total, 2), (t["min"], lo, 4), (t["max"], hi, 4), (t["mean"], mean, 2),
                   (t["stddev"], std, 2), (100 * t["active"], active, 2), (t["entropy"], entropy, 4),
                   (t["entropy_norm"], enorm, 2), (100 * t["zd"], zd, 2), (t["cossim"], cos, 4)]
        for value, text, digits in printed:
            assert f"{value:.{digits}f}" == text, (layer, tensor, value, text)
        assert t["elements"] == int(n)
    assert [(str(l["layer"]), f"{l['mean_sum']:.2f}", f"{100 * l['zd']:.4f}", f"{l['cossim']:.4f}")
            for l in ours["layers"]] == [tuple(x) for x in their_layers]


def imatrix_means(path):
    """{weight: (calls or tokens, per-column mean)} and the chunk count of an imatrix in either layout."""
    if str(path).endswith(".gguf") or ".gguf.at_" in str(path):
        r = GGUFReader(path)
        tensors = {t.name: np.array(t.data, dtype=np.float64).reshape(-1) for t in r.tensors}
        means = {n[:-len(".in_sum2")]: (float(tensors[n[:-len(".in_sum2")] + ".counts"][0]),
                                        v / tensors[n[:-len(".in_sum2")] + ".counts"][0])
                 for n, v in tensors.items() if n.endswith(".in_sum2")}
        return means, int(r.fields["imatrix.chunk_count"].contents())
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
    from imatrix_dat import load_dat
    entries, chunks, _ = load_dat(Path(path))
    return {n: (float(c), np.asarray(v, dtype=np.float64) / c) for n, (c, v) in entries.items()}, chunks


@pytest.mark.parametrize("layout", ["dat", "gguf"])
def test_analyze_from_chunk_and_save_frequency_match_llama_imatrix(cli, shared, tmp_path, layout):
    """--chunk (skip the first chunks) as the 2026 llama-imatrix: the same weights, counts and chunk count, values
    within 1e-2 relative (our arithmetic is the February 2025 build's, byte for byte; the 2026 build's differs by up
    to 3e-3, while starting at the wrong chunk moves values by 5.7 on this model). --save-frequency N: the same
    OUT.at_N files, each our matrix after N whole chunks -- byte for byte what a run with --chunks N writes.
    (llama-imatrix saves as soon as the first weight evaluated reaches N chunks, so its copies hold the other
    weights one chunk behind; ours do not.)"""
    model = shared / "golden/synthetic-a/model-f32.gguf"
    theirs, ours = tmp_path / f"theirs.{layout}", tmp_path / f"ours.{layout}"
    subprocess.run([fetched.llama_tools() / "llama-imatrix", "-m", model, "-f", "tinystories_val.txt", "-c", "256",
                    "-b", "256", "--no-ppl", "-o", theirs, "--output-format", layout, "--chunk", "3", "--chunks", "5",
                    "--save-frequency", "2"], cwd=shared / "data", check=True, capture_output=True)

    def analyze(out, chunks, *extra):
        cli("analyze", model, "--calibration-data", shared / "data/tinystories_val.txt", "--dataset-name",
            "tinystories_val.txt", "--ctx", "256", "-o", out, "--output-format", layout, "--chunk", "3", "--chunks",
            str(chunks), *extra)

    analyze(ours, 5, "--save-frequency", "2")
    (a, a_chunks), (b, b_chunks) = imatrix_means(ours), imatrix_means(theirs)
    assert a_chunks == b_chunks == 5 and a.keys() == b.keys()
    for name in a:
        assert a[name][0] == b[name][0], name
        assert np.max(np.abs(a[name][1] - b[name][1]) / np.maximum(np.abs(b[name][1]), 1e-30)) < 1e-2, name
    for n in (2, 4):
        assert Path(f"{theirs}.at_{n}").exists() and imatrix_means(f"{theirs}.at_{n}")[1] == n
        analyze(tmp_path / f"whole-{n}.{layout}", n)
        assert Path(f"{ours}.at_{n}").read_bytes() == (tmp_path / f"whole-{n}.{layout}").read_bytes()
    assert not Path(f"{ours}.at_5").exists() and not Path(f"{theirs}.at_5").exists()
