"""libquant.gguf's block codecs: known values, byte identity with the CLI's
files, and the errors of bad input."""
import numpy as np
import pytest

import libquant
from libquant import gguf


def test_q8_0_of_integer_rows_is_exact():
    # Q8_0 stores d = amax / 127 per 32 values; rows of integers with amax 127
    # give d = 1 and decode to themselves exactly.
    rows = np.tile(np.arange(-127, 129, dtype=np.float32)[:256], (3, 1))
    rows[:, 31::32] = 127.0  # every block reaches the full scale
    data = gguf.quantize(rows, "Q8_0")
    assert len(data) == 3 * gguf.row_size("Q8_0", 256) == 3 * 8 * 34
    np.testing.assert_array_equal(gguf.dequantize(data, "Q8_0", 256), rows)


def test_block_layout_of_q4_0():
    # One Q4_0 block: f16 scale d = max / -8 (the signed extreme), then 16 bytes of nibbles.
    row = np.linspace(-8.0, 7.0, 32, dtype=np.float32)
    data = gguf.quantize(row, "Q4_0")
    assert len(data) == 18
    assert np.frombuffer(data[:2], dtype=np.float16)[0] == np.float16(1.0)
    np.testing.assert_allclose(gguf.dequantize(data, "Q4_0", 32)[0], np.round(row), atol=0)


@pytest.mark.parametrize("qtype", ["Q4_0", "Q5_1", "Q8_0", "IQ4_NL"])
def test_equal_to_the_cli_on_stories260k(qtype, stories_gguf, stories_imatrix, cli, tmp_path):
    imatrix = stories_imatrix.record["output_path"]
    out = tmp_path / f"stories-{qtype}.gguf"
    cli("quantize", stories_gguf, "gguf", "-q", qtype, "--imatrix", imatrix,
        "-o", tmp_path, "-n", out.name)
    src, dst = gguf.GgufFile(stories_gguf), gguf.GgufFile(out)
    compared = 0
    for name in dst.tensor_names():
        if dst.tensor_type(name) != qtype:
            continue
        weights = src.read_f32(name)
        importance = stories_imatrix.mean(name) if name in stories_imatrix else None
        ours = gguf.quantize(weights.reshape(-1, weights.shape[-1]), qtype, importance)
        assert ours == dst.tensor(name).tobytes(), name
        compared += 1
    assert compared >= 10


def test_k_quant_mixture_equal_to_the_cli_on_smollm2(smollm2, cli, tmp_path):
    # Q4_K_S on SmolLM2 (576-column rows fall back to legacy types, as llama.cpp's do).
    out = tmp_path / "smol-q4_k_s.gguf"
    cli("quantize", smollm2, "gguf", "-q", "Q4_K_S", "--allow-requantize", "-o", tmp_path, "-n", out.name)
    src, dst = gguf.GgufFile(smollm2), gguf.GgufFile(out)
    seen = set()
    for name in dst.tensor_names():
        qtype = dst.tensor_type(name)
        if len(dst.tensor_shape(name)) != 2 or qtype in ("F32", "F16"):
            continue
        assert gguf.quantize(src.read_f32(name), qtype) == dst.tensor(name).tobytes(), name
        seen.add(qtype)
    assert "Q4_K" in seen and len(seen) >= 3  # the k-quant, its fallbacks and the embedding's type


def test_fake_quantize_keeps_the_shape_and_is_close():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 512)).astype(np.float32)
    y = gguf.fake_quantize(x, "Q6_K")
    assert y.shape == x.shape and y.dtype == np.float32
    assert 0 < np.abs(x - y).max() < 0.1


def test_types_and_sizes():
    names = gguf.types()
    assert {"Q4_0", "Q4_K", "Q6_K", "IQ2_XS", "IQ4_XS", "TQ1_0"} <= set(names)
    assert gguf.block_size("Q4_K") == 256 and gguf.row_size("Q4_K", 512) == 2 * 144
    assert gguf.needs_imatrix("IQ2_XS") and not gguf.needs_imatrix("Q4_K")


def test_errors_carry_the_cli_codes():
    row = np.ones(256, dtype=np.float32)
    with pytest.raises(libquant.InvalidArgumentError) as e:
        gguf.quantize(row, "Q9_9")
    assert e.value.code == libquant.ExitCode.INVALID_ARGUMENT == 2 and e.value.suggestion
    assert isinstance(e.value, ValueError)
    with pytest.raises(libquant.InvalidArgumentError, match="256-value blocks"):
        gguf.quantize(np.ones(100, dtype=np.float32), "Q4_K")
    with pytest.raises(libquant.InvalidArgumentError, match="needs importance"):
        gguf.quantize(row, "IQ2_XS")
    with pytest.raises(libquant.InvalidArgumentError, match="imatrix has 3 values"):
        gguf.quantize(row, "IQ4_XS", np.ones(3, dtype=np.float32))
    bad = row.copy()
    bad[7] = np.nan
    with pytest.raises(libquant.ValidationError) as e:
        gguf.quantize(bad, "Q8_0")
    assert e.value.code == 6
    with pytest.raises(libquant.InvalidArgumentError, match="not whole Q8_0 rows"):
        gguf.dequantize(b"\0" * 35, "Q8_0", 32)
