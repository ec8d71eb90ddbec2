"""GGUF block codecs and files.

``quantize(rows, "Q4_K", imatrix=...)`` gives the bytes llama-quantize writes
for those rows; ``dequantize(data, "Q4_K", cols)`` decodes them. Together they
simulate GGUF quantization in memory (quantization-aware training, error
studies) with the exact arithmetic of the files.
"""
from __future__ import annotations

from ._core.gguf import (
    GgufFile,
    block_size,
    dequantize,
    needs_imatrix,
    quantize,
    row_size,
    types,
)


def fake_quantize(rows, type: str, imatrix=None):
    """``dequantize(quantize(rows))`` in the rows' shape: the values a GGUF file of `type` would hold."""
    import numpy as np

    a = np.ascontiguousarray(rows, dtype=np.float32)
    cols = a.shape[-1]
    return dequantize(quantize(a.reshape(-1, cols), type, imatrix), type, cols).reshape(a.shape)


__all__ = [
    "GgufFile",
    "block_size",
    "dequantize",
    "fake_quantize",
    "needs_imatrix",
    "quantize",
    "row_size",
    "types",
]
