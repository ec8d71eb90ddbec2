"""Tensor-by-tensor equality of two GGUF files (names, types, shapes, bytes), for the tests that hold our
converted or quantized files against llama.cpp's."""
import gguf


def assert_same_tensors(ours, theirs):
    """ours, theirs: paths or gguf.GGUFReader. Returns our tensors by name."""
    a = {t.name: t for t in (ours if isinstance(ours, gguf.GGUFReader) else gguf.GGUFReader(ours)).tensors}
    b = {t.name: t for t in (theirs if isinstance(theirs, gguf.GGUFReader) else gguf.GGUFReader(theirs)).tensors}
    assert set(a) == set(b), set(a) ^ set(b)
    for name in b:
        assert a[name].tensor_type == b[name].tensor_type, (name, a[name].tensor_type, b[name].tensor_type)
        assert list(a[name].shape) == list(b[name].shape), name
        assert a[name].data.tobytes() == b[name].data.tobytes(), name
    return a
