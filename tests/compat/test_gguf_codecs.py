"""Block codecs against gguf-py's numpy implementations (an independent
port of ggml-quants.c): quantized bytes for every type gguf-py can encode,
decoded floats for every type it can decode, on ordinary and hard inputs
(zero rows, constant rows, huge outliers, subnormals)."""
import numpy as np
import pytest
from gguf import GGMLQuantizationType as T
from gguf.quants import dequantize, quantize

# gguf-py quantizes these (reference paths, no importance weights).
GGUF_PY_QUANTIZE = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "TQ1_0", "TQ2_0", "F16", "BF16"]
# We encode these; gguf-py decodes them all.
OURS = GGUF_PY_QUANTIZE + ["Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS", "IQ3_XXS", "IQ3_S", "IQ2_S", "IQ1_M"]
# Codebook types that refuse to run without importance weights.
NEED_IMPORTANCE = ["IQ2_XXS", "IQ2_XS", "IQ1_S"]
ROW = 512


def rows(kind, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((16, ROW)).astype(np.float32) * 0.02
    if kind == "normal":
        return x
    if kind == "zero":
        x[3] = 0.0
        x[7, :256] = 0.0
        return x
    if kind == "constant":
        x[2] = 0.5
        x[5] = -3.0
        x[9, 256:] = 1e-3
        return x
    if kind == "outliers":
        x[1, 17] = 1e4
        x[4, 300] = -2.5e4
        x[6, ::64] = 60.0
        return x
    if kind == "subnormal":
        x[0] = np.float32(1e-40)
        x[8] = rng.standard_normal(ROW).astype(np.float32) * np.float32(1e-39)
        x[10, ::2] = np.float32(-3e-42)
        return x
    raise ValueError(kind)


KINDS = ["normal", "zero", "constant", "outliers", "subnormal"]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("qtype", GGUF_PY_QUANTIZE)
def test_quantized_bytes_equal_gguf_py(codec, qtype, kind):
    x = rows(kind)
    ours = codec.quantize(x, qtype)
    with np.errstate(all="ignore"):
        theirs = quantize(x, T[qtype]).reshape(-1).view(np.uint8)
    assert ours.size == theirs.size
    if kind == "subnormal" and qtype not in ("F16", "BF16"):
        # 1/d overflows for subnormal blocks: ggml's level codes are then
        # undefined behaviour (float->int of inf), but the stored scale is 0,
        # so both decode to the same values.
        a = dequantize(ours.reshape(x.shape[0], -1), T[qtype])
        b = dequantize(theirs.reshape(x.shape[0], -1), T[qtype])
        np.testing.assert_array_equal(a, b)
        return
    bad = np.flatnonzero(ours != theirs)
    assert bad.size == 0, f"{bad.size} bytes differ, first at {bad[:8]}"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("qtype", OURS + NEED_IMPORTANCE)
def test_decode_equals_gguf_py(codec, qtype, kind):
    x = rows(kind)
    imp = np.linspace(0.1, 3.0, ROW, dtype=np.float32) if qtype in NEED_IMPORTANCE else None
    q = codec.quantize(x, qtype, imp)
    ours = codec.dequantize(q, qtype)
    theirs = dequantize(q.reshape(x.shape[0], -1), T[qtype]).reshape(-1).astype(np.float32)
    assert np.all(np.isfinite(ours))
    # gguf-py computes some products in another order (d * (sc * q) vs
    # (d * sc) * q), so allow one float32 rounding step.
    np.testing.assert_allclose(ours, theirs, rtol=2.5e-7, atol=0)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("qtype", ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL", "IQ4_XS"])
def test_error_is_bounded(codec, qtype, kind):
    """Reconstruction error stays within a fraction of the range of the
    block that shares the stored scale (32 elements, or the 256-element
    super-block), importance weights or not. Catches sign or packing slips
    that round trips through our own decoder would hide."""
    x = rows(kind)
    block = 32 if qtype in ("Q4_0", "Q4_1", "Q5_0", "Q5_1", "IQ4_NL") else 256
    limits = {"Q2_K": 0.75, "Q3_K": 0.45, "Q4_0": 0.2, "Q4_1": 0.2, "IQ4_NL": 0.25, "IQ4_XS": 0.25, "Q4_K": 0.25}
    for imp in (None, np.linspace(0.1, 3.0, ROW, dtype=np.float32)):
        y = dequantize(codec.quantize(x, qtype, imp).reshape(x.shape[0], -1), T[qtype]).reshape(x.shape)
        assert np.all(np.isfinite(y))
        g = x.reshape(-1, block)
        err = np.abs(y.reshape(-1, block) - g).max(axis=1)
        span = np.abs(g).max(axis=1)
        # Blocks below f16's range (subnormal scales) decode to zero.
        meaningful = err > 1e-30
        worst = (err[meaningful] / span[meaningful]).max(initial=0.0)
        assert worst <= limits.get(qtype, 0.12), f"worst relative block error {worst:.3f}"


def test_importance_changes_choices(codec):
    """The weighted path is really used: strongly skewed importance moves
    the error towards the unimportant columns."""
    x = rows("normal")
    imp = np.ones(ROW, dtype=np.float32)
    imp[:64] = 1000.0
    for qtype in ("Q4_K", "Q3_K", "IQ4_XS", "Q4_0"):
        plain = dequantize(codec.quantize(x, qtype).reshape(16, -1), T[qtype]).reshape(x.shape)
        weighted = dequantize(codec.quantize(x, qtype, imp).reshape(16, -1), T[qtype]).reshape(x.shape)
        e_plain = np.square(plain - x)[:, :64].mean()
        e_weighted = np.square(weighted - x)[:, :64].mean()
        assert e_weighted < e_plain, qtype


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("qtype", ["Q8_0", "Q4_K", "Q5_K", "Q6_K", "IQ2_XS", "IQ3_S", "IQ1_S"])
def test_simd_path_equals_scalar_reference(codec, qtype, kind):
    """The AVX2 fast paths (lane-parallel searches, vectorised neighbour
    scoring) must give the scalar reference's bytes exactly."""
    x = rows(kind, seed=5)
    for imp in (None, np.linspace(0.1, 3.0, ROW, dtype=np.float32)):
        if imp is None and qtype in NEED_IMPORTANCE:
            continue
        fast = codec.quantize(x, qtype, imp)
        ref = codec.quantize(x, qtype, imp, scalar=True)
        if qtype == "Q8_0" and kind == "subnormal":
            # Level codes of a zero-scale block come from float->int of inf
            # (undefined in the reference); compare what they decode to.
            np.testing.assert_array_equal(codec.dequantize(fast, qtype), codec.dequantize(ref, qtype))
            continue
        assert np.array_equal(fast, ref)
