"""Tensors cross into numpy without copies: views of the mapped GGUF file and
of an importance matrix's own storage."""
import gc

import numpy as np
import pytest

import libquant
from libquant import gguf


def test_gguf_tensors_are_views_of_the_mapping(stories_gguf):
    f = gguf.GgufFile(stories_gguf)
    a = f.tensor("blk.0.attn_q.weight")
    b = f.tensor("blk.0.attn_q.weight")
    assert np.shares_memory(a, b)  # the same mapped bytes, not two copies
    assert a.dtype == np.float32 and a.shape == (64, 64) and not a.flags.writeable
    np.testing.assert_array_equal(a, f.read_f32("blk.0.attn_q.weight"))
    assert not np.shares_memory(a, f.read_f32("blk.0.attn_q.weight"))  # read_f32 decodes into new memory
    with pytest.raises(ValueError):
        a[0, 0] = 1.0
    # The view keeps the file alive after the last Python reference to it goes.
    expected = a.copy()
    del f, b
    gc.collect()
    np.testing.assert_array_equal(a, expected)


def test_quantized_tensors_are_uint8_rows(smollm2):
    f = gguf.GgufFile(smollm2)
    name = "blk.0.ffn_down.weight"
    raw = f.tensor(name)
    rows, cols = f.tensor_shape(name)
    assert f.tensor_type(name) == "Q4_1" and raw.dtype == np.uint8
    assert raw.shape == (rows, gguf.row_size("Q4_1", cols))
    np.testing.assert_array_equal(gguf.dequantize(raw, "Q4_1", cols), f.read_f32(name))


def test_imatrix_sums_are_writable_views(stories_imatrix, tmp_path):
    name = "blk.1.ffn_down.weight"
    s1 = stories_imatrix.sums(name)
    s2 = stories_imatrix.sums(name)
    assert np.shares_memory(s1, s2) and s1.flags.writeable and s1.shape == (172,)
    before = s1.copy()
    m = libquant.ImportanceMatrix.load(stories_imatrix.record["output_path"])
    view = m.sums(name)
    view *= 2.0  # edits the matrix itself
    np.testing.assert_array_equal(m.sums(name), 2.0 * before)
    m.save(tmp_path / "doubled.imatrix.gguf")
    np.testing.assert_array_equal(libquant.ImportanceMatrix.load(tmp_path / "doubled.imatrix.gguf").sums(name),
                                  2.0 * before)


def test_errors_of_files(tmp_path):
    with pytest.raises(libquant.Error) as e:
        gguf.GgufFile(tmp_path / "missing.gguf")
    assert e.value.code in (libquant.ExitCode.MODEL_NOT_FOUND, libquant.ExitCode.GENERAL)
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(b"GGUF" + b"\xff" * 60)
    with pytest.raises(libquant.ValidationError):
        gguf.GgufFile(bad)
    with pytest.raises(libquant.ImportanceMatrixError) as e:
        libquant.ImportanceMatrix.load(bad)
    assert e.value.code == 10
