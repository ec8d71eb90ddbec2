"""The golden GGUF files of ../shared were made by February 2025's
llama-quantize (c392e50). Since llama.cpp PR 14182 the imatrix counts it
records are UINT32, not INT32: the only byte difference between those files
and the 2026 tool's (and ours) for the same input, type and imatrix."""
import struct

GGUF_INT32, GGUF_UINT32 = 5, 4


def as_2026(golden: bytes) -> bytes:
    """The golden with its imatrix counts typed UINT32, as the 2026 tools write them."""
    out = bytearray(golden)
    for key in (b"quantize.imatrix.entries_count", b"quantize.imatrix.chunks_count"):
        at = out.find(struct.pack("<Q", len(key)) + key)
        if at >= 0:
            type_at = at + 8 + len(key)
            assert struct.unpack_from("<I", out, type_at)[0] == GGUF_INT32
            struct.pack_into("<I", out, type_at, GGUF_UINT32)
    return bytes(out)


def differences_beyond_2026_fallbacks(ours, golden):
    """Tensors of `ours` that differ from the 2025 golden for another reason than
    the 2026 fallback table (Q2_K and Q3_K rows that fit no 256-block go to Q4_0,
    where February 2025 chose IQ4_NL): such tensors must be Q4_0 here and IQ4_NL
    there; every other tensor must be equal, and at least one must be compared."""
    from gguf import GGUFReader
    a, b = GGUFReader(ours), GGUFReader(golden)
    assert [t.name for t in a.tensors] == [t.name for t in b.tensors]
    bad, equal = [], 0
    for x, y in zip(a.tensors, b.tensors):
        if x.tensor_type.name == "Q4_0" and y.tensor_type.name == "IQ4_NL":
            continue
        if x.tensor_type != y.tensor_type or bytes(x.data) != bytes(y.data):
            bad.append(x.name)
        else:
            equal += 1
    assert equal > 0
    return bad
