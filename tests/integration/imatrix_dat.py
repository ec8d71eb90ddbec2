"""An independent reader of llama.cpp's legacy imatrix (.dat) layout, for tests."""
import struct

import numpy as np


def load_dat(path):
    """Returns ({name: (ncall, values as float64)}, chunk count, dataset name)."""
    b = path.read_bytes()
    o = 0

    def i32():
        nonlocal o
        v = struct.unpack_from("<i", b, o)[0]
        o += 4
        return v

    entries = {}
    for _ in range(i32()):
        n = i32()
        name = b[o:o + n].decode()
        o += n
        ncall, nval = i32(), i32()
        entries[name] = (ncall, np.frombuffer(b, "<f4", nval, o).astype(np.float64))
        o += 4 * nval
    chunks = i32()
    n = i32()
    return entries, chunks, b[o:o + n].decode()
