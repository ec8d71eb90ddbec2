"""Side by side with llm-compressor 0.14 (the tool people use for these
checkpoints; llmcompressor_oracle.py in its own cached venv) on stories260K
with the same calibration token sequences: our GPTQ (per channel, groups,
activation order) and round-to-nearest checkpoints hold llm-compressor's
scales exactly and its integers but for float-rounding ties (one flipped value
moves the rest of its row through GPTQ's error feedback, and the next blocks'
inputs with it: still over 99.9% equal in the first block, over 97% overall;
several configurations come out bit-identical); our AWQ scores at most 0.5%
above its AWQ in perplexity on held-out text (the two search on different
error targets)."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

# Numbers against another tool: the optimised build's business (the sanitizer
# pass covers the same code paths through integration/test_gptq.py).
pytestmark = pytest.mark.slow

HERE = Path(__file__).parent
SAMPLES, SEQ = 16, 128


@pytest.fixture(scope="module")
def calibration(cli, shared, tmp_path_factory):
    """Our calibration sequences: the text's tokens in consecutive chunks, BOS first."""
    ids = json.loads(cli("tokenize", shared / "models/stories260K", "--file", shared / "data/calib.txt").stdout)["ids"]
    chunks = [ids[i * SEQ:(i + 1) * SEQ] for i in range(SAMPLES)]
    for c in chunks:
        c[0] = ids[0]
    path = tmp_path_factory.mktemp("calib") / "ids.json"
    path.write_text(json.dumps(chunks))
    return path


def values(st, packed_name, bits=4):
    """The integers of a packed weight (value i at bit i * bits of its row's stream)."""
    words = st[packed_name]
    n = int(st[packed_name.replace("_packed", "_shape")][1])
    stream = np.unpackbits(np.ascontiguousarray(words, dtype="<i4").view(np.uint8), axis=-1, bitorder="little")
    stream = stream[..., : n * bits].reshape(*words.shape[:-1], n, bits).astype(np.int64)
    return (stream * (1 << np.arange(bits))).sum(-1)


def theirs(llmcompressor_python, model, ids, method, group, sym, out):
    subprocess.run([llmcompressor_python, HERE / "llmcompressor_oracle.py", model, ids, method, str(group),
                    "1" if sym else "0", out], check=True, capture_output=True)
    return load_file(out / "model.safetensors")


def ours(cli, shared, model, fmt, flags, out):
    cli("quantize", model, fmt, *flags, "-o", out.parent, "-n", out.name, "--calibration-data", shared / "data/calib.txt",
        "--calibration-samples", SAMPLES, "--calibration-seq-len", SEQ)
    return load_file(out / "model.safetensors")


@pytest.mark.parametrize("method,group,sym,flags", [
    ("gptq", -1, True, ["gptq", "--group-size", "-1"]),
    ("gptq", 4, True, ["gptq", "--group-size", "4"]),
    ("gptq-actorder", 4, True, ["gptq", "--group-size", "4", "--act-order"]),
    ("gptq", 4, False, ["gptq", "--group-size", "4", "--asym"]),
    ("rtn", 4, False, ["gptq", "--group-size", "4", "--asym", "--rtn"]),
])
def test_same_integers_as_llmcompressor(cli, shared, llmcompressor_python, calibration, tmp_path, method, group, sym,
                                        flags):
    model = shared / "models/stories260K"
    ref = theirs(llmcompressor_python, model, calibration, method, group, sym, tmp_path / "theirs")
    got = ours(cli, shared, model, flags[0], flags[1:], tmp_path / "ours")
    assert set(ref) == set(got)
    packed = [k for k in ref if k.endswith(".weight_packed")]
    assert len(packed) == 35
    equal = {k: values(ref, k) == values(got, k) for k in packed}
    first = np.concatenate([e.ravel() for k, e in equal.items() if k.startswith("model.layers.0.")])
    assert first.mean() > 0.999
    assert np.concatenate([e.ravel() for e in equal.values()]).mean() > 0.97
    for k in ref:
        if not k.endswith(".weight_packed"):
            assert np.array_equal(ref[k], got[k]), k  # scales, zero points (fixed before the sweep), shapes, floats


@pytest.mark.slow
def test_awq_quality_matches_llmcompressor(cli, shared, llmcompressor_python, calibration, tmp_path):
    model = shared / "models/stories260K"
    theirs(llmcompressor_python, model, calibration, "awq", -1, False, tmp_path / "theirs")
    (tmp_path / "theirs/tokenizer.model").write_bytes((model / "tokenizer.model").read_bytes())
    ours(cli, shared, model, "awq", ["--group-size", "-1", "--awq-search-samples", str(SAMPLES)], tmp_path / "ours")

    def ppl(m):
        out = cli("--format", "json", "quality", "perplexity", m, "--data", shared / "data/eval-tinystories.txt", "--ctx",
                  "128", "--chunks", "32").stdout
        return json.loads(out)["perplexity"]

    rtn_asym = tmp_path / "rtn"
    cli("quantize", model, "gptq", "--rtn", "--asym", "--group-size", "-1", "-o", tmp_path, "-n", "rtn")
    p_theirs, p_ours, p_rtn = ppl(tmp_path / "theirs"), ppl(tmp_path / "ours"), ppl(rtn_asym)
    assert p_ours <= 1.005 * p_theirs, (p_ours, p_theirs)
    assert p_ours < p_rtn
