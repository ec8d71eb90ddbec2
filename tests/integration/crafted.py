"""Crafted bad inputs for the hostile-input tests: a small GGUF and
safetensors reader/writer in plain Python (struct + numpy) that can write
what no well-behaved writer would (sizes that wrap 2^64, shapes that disagree
with the metadata, non-finite weights), starting from the real stories260K
files. Nothing here is committed as a blob: every case is made afresh."""
import json
import shutil
import struct

import numpy as np

# GGUF value types
U8, I8, U16, I16, U32, I32, F32, BOOL, STRING, ARRAY, U64, I64, F64 = range(13)
_SCALAR = {U8: "<B", I8: "<b", U16: "<H", I16: "<h", U32: "<I", I32: "<i", F32: "<f", BOOL: "<?", U64: "<Q",
           I64: "<q", F64: "<d"}
# ggml tensor types used here: (id, block size, bytes per block)
GGML_F32, GGML_F16 = 0, 1
_TYPE_SIZE = {GGML_F32: (1, 4), GGML_F16: (1, 2)}


class _Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.d[self.p:self.p + n].decode("utf-8", "surrogateescape")
        self.p += n
        return s

    def value(self, t):
        if t == STRING:
            return self.string()
        if t == ARRAY:
            et, n = self.take("<i"), self.take("<Q")
            return (et, [self.value(et) for _ in range(n)])
        return self.take(_SCALAR[t])


def _put_value(out, t, v):
    if t == STRING:
        b = v.encode("utf-8", "surrogateescape")
        out += struct.pack("<Q", len(b)) + b
    elif t == ARRAY:
        et, items = v
        out += struct.pack("<iQ", et, len(items))
        if et in _SCALAR and et != BOOL and isinstance(items, (bytes, bytearray)):
            out += items  # raw, pre-packed elements (huge arrays)
        else:
            for item in items:
                _put_value(out, et, item)
    else:
        out += struct.pack(_SCALAR[t], v)


class Gguf:
    """kvs: [key, type, value]; tensors: {name, ne, type, data (bytes)}."""

    def __init__(self, kvs, tensors, alignment=32):
        self.kvs, self.tensors, self.alignment = kvs, tensors, alignment

    @classmethod
    def read(cls, path):
        d = open(path, "rb").read()
        r = _Reader(d)
        assert r.take("<I") == 0x46554747
        r.take("<I")
        n_t, n_kv = r.take("<Q"), r.take("<Q")
        kvs = []
        for _ in range(n_kv):
            k = r.string()
            t = r.take("<i")
            kvs.append([k, t, r.value(t)])
        infos = []
        for _ in range(n_t):
            name = r.string()
            nd = r.take("<I")
            ne = [r.take("<q") for _ in range(nd)]
            infos.append((name, ne, r.take("<i"), r.take("<Q")))
        align = next((v for k, t, v in kvs if k == "general.alignment"), 32)
        base = (r.p + align - 1) // align * align
        tensors = []
        for name, ne, t, off in infos:
            bs, ts = _TYPE_SIZE[t]
            n = int(np.prod(ne)) // bs * ts
            tensors.append({"name": name, "ne": ne, "type": t, "data": d[base + off:base + off + n]})
        return cls(kvs, tensors, align)

    @staticmethod
    def read_any(path):
        """Tensor names, type ids and raw bytes of any GGUF (quantized types too), via gguf-py."""
        from gguf import GGUFReader
        return [{"name": t.name, "type": int(t.tensor_type), "data": bytes(t.data.tobytes())}
                for t in GGUFReader(str(path)).tensors]

    # --- mutations -------------------------------------------------------
    def kv(self, key):
        return next(kv for kv in self.kvs if kv[0] == key)

    def set_kv(self, key, value, t=None):
        for kv in self.kvs:
            if kv[0] == key:
                kv[2] = value
                if t is not None:
                    kv[1] = t
                return self
        self.kvs.append([key, t, value])
        return self

    def tensor(self, name):
        return next(t for t in self.tensors if t["name"] == name)

    def drop(self, name):
        self.tensors = [t for t in self.tensors if t["name"] != name]
        return self

    def values(self, name):
        t = self.tensor(name)
        return np.frombuffer(t["data"], dtype=np.float32 if t["type"] == GGML_F32 else np.float16).copy()

    def set_values(self, name, arr):
        t = self.tensor(name)
        t["data"] = np.ascontiguousarray(arr, dtype=np.float32 if t["type"] == GGML_F32 else np.float16).tobytes()
        return self

    # --- output ----------------------------------------------------------
    def write(self, path, declared_sizes=None):
        """declared_sizes: per tensor name, the byte size offsets are laid out
        with (what a reader computes from the dims, even when it wrapped)."""
        declared_sizes = declared_sizes or {}
        out = bytearray(struct.pack("<IIQQ", 0x46554747, 3, len(self.tensors), len(self.kvs)))
        for k, t, v in self.kvs:
            _put_value(out, STRING, k)
            out += struct.pack("<i", t)
            _put_value(out, t, v)
        a, off, blobs = self.alignment, 0, []
        for t in self.tensors:
            _put_value(out, STRING, t["name"])
            out += struct.pack("<I", len(t["ne"]))
            for n in t["ne"]:
                out += struct.pack("<q", n)
            out += struct.pack("<iQ", t["type"], off)
            size = declared_sizes.get(t["name"], len(t["data"]))
            blobs.append((off, t["data"]))
            off += (size + a - 1) // a * a
        out += b"\0" * (-len(out) % a)
        base = len(out)
        for o, data in blobs:
            end = base + o + len(data)
            if len(out) < end:
                out += b"\0" * (end - len(out))
            out[base + o:end] = data
        out += b"\0" * (-len(out) % a)
        with open(path, "wb") as f:
            f.write(out)
        return path


# --- safetensors ----------------------------------------------------------
_ST_DTYPE = {"F32": np.float32, "F16": np.float16, "I8": np.int8}


def read_safetensors(path):
    d = open(path, "rb").read()
    n = struct.unpack_from("<Q", d)[0]
    header = json.loads(d[8:8 + n])
    meta = header.pop("__metadata__", None)
    tensors = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        tensors[name] = np.frombuffer(d[8 + n + a:8 + n + b], dtype=_ST_DTYPE[h["dtype"]]).reshape(h["shape"]).copy()
    return tensors, meta


def write_safetensors(path, tensors, meta=None, raw_header=None):
    """tensors: name -> array. raw_header: a header dict written as is (for
    entries no array describes)."""
    header, blob = {}, bytearray()
    if meta is not None:
        header["__metadata__"] = meta
    for name, arr in sorted(tensors.items()):
        arr = np.ascontiguousarray(arr)
        dt = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int8): "I8"}[arr.dtype]
        header[name] = {"dtype": dt, "shape": list(arr.shape), "data_offsets": [len(blob), len(blob) + arr.nbytes]}
        blob += arr.tobytes()
    if raw_header is not None:
        header.update(raw_header)
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + blob)
    return path


def copy_hf(src, dst, config_changes=None, tensor_changes=None):
    """A copy of an HF directory with config.json keys replaced and
    tensor_changes(tensors) -> tensors applied to model.safetensors."""
    shutil.copytree(src, dst)
    if config_changes:
        cfg = json.loads((dst / "config.json").read_text())
        cfg.update(config_changes)
        (dst / "config.json").write_text(json.dumps(cfg))
    if tensor_changes:
        tensors, meta = read_safetensors(dst / "model.safetensors")
        write_safetensors(dst / "model.safetensors", tensor_changes(tensors), meta)
    return dst


# Changes for copy_hf(tensor_changes=...): a tensor dropped, replaced by zeros of another shape, renamed.
def drop_tensor(name):
    return lambda t: {k: v for k, v in t.items() if k != name}


def reshape_tensor(name, shape):
    def change(t):
        t[name] = np.zeros(shape, dtype=np.float32)
        return t
    return change


def rename_tensor(old, new):
    def change(t):
        t[new] = t.pop(old)
        return t
    return change
