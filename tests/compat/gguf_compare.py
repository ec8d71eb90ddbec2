"""Tensor-by-tensor equality of two GGUF files (names, types, shapes, bytes), for the tests that hold our
converted or quantized files against llama.cpp's."""
import gguf
import numpy as np


def assert_same_tensors(ours, theirs, within_one_ulp=()):
    """ours, theirs: paths or gguf.GGUFReader. Returns our tensors by name.
    within_one_ulp: name suffixes of F32 tensors whose values may differ by one unit in the last place
    (values the converter computes with torch's exp, which is not correctly rounded; ours is)."""
    a = {t.name: t for t in (ours if isinstance(ours, gguf.GGUFReader) else gguf.GGUFReader(ours)).tensors}
    b = {t.name: t for t in (theirs if isinstance(theirs, gguf.GGUFReader) else gguf.GGUFReader(theirs)).tensors}
    assert set(a) == set(b), set(a) ^ set(b)
    for name in b:
        assert a[name].tensor_type == b[name].tensor_type, (name, a[name].tensor_type, b[name].tensor_type)
        assert list(a[name].shape) == list(b[name].shape), name
        if name.endswith(tuple(within_one_ulp)) and a[name].tensor_type == gguf.GGMLQuantizationType.F32:
            x, y = (np.asarray(t.data, dtype=np.float32).view(np.int32).astype(np.int64) for t in (a[name], b[name]))
            assert np.abs(x - y).max() <= 1, name
            continue
        assert a[name].data.tobytes() == b[name].data.tobytes(), name
    return a
