"""Vocabulary-only GGUF files built from scratch for tokenizer kinds that have
no llama.cpp test vectors (UGM / t5, RWKV), and a SentencePiece precompiled
character map built from a plain {from: to} table.

The character map is the darts-clone double array SentencePiece stores (and
llama.cpp walks): unit = BASE << 10 | HAS_LEAF << 8 | LABEL, a value unit has
bit 31 set; from a node at index i the walk goes to i ^ BASE, whose
children sit at (i ^ BASE) ^ byte and whose value sits at i ^ BASE.
Building it here, independently of both readers, lets the test compare
llama.cpp's walk and ours on a map whose meaning we know."""
import gguf
import numpy as np


def charsmap(table):
    """bytes of a precompiled charsmap mapping each key (str) to its value (str)."""
    replacements = bytearray()
    offset_of = {}
    for v in sorted(set(table.values())):
        offset_of[v] = len(replacements)
        replacements += v.encode() + b"\0"
    trie = {}  # node: {"kids": {byte: node}, "value": offset or None}

    def node():
        return {"kids": {}, "value": None}

    root = node()
    for k, v in table.items():
        n = root
        for b in k.encode():
            n = n["kids"].setdefault(b, node())
        n["value"] = offset_of[v]
    units = {}
    used_offsets = set()

    def place(n):
        """Choose a free BASE for n's children (and value slot), then recurse."""
        need = list(n["kids"]) + ([0] if n["value"] is not None else [])
        base = 256
        while base in used_offsets or any((base ^ c) in units for c in need) or base >= 1 << 21:
            base += 1
        used_offsets.add(base)
        for c in need:
            units[base ^ c] = None  # reserve
        if n["value"] is not None:
            units[base] = (1 << 31) | n["value"]
        for c, kid in n["kids"].items():
            kid_base = place(kid)
            at = base ^ c  # the stored BASE is relative: the walk goes on at at ^ BASE
            units[at] = ((kid_base ^ at) << 10) | ((1 << 8) if kid["value"] is not None else 0) | c
        return base

    units[0] = None
    units[0] = place(root) << 10
    size = (max(units) // 256 + 1) * 256  # whole 256-unit blocks: every BASE ^ byte stays inside
    array = np.zeros(size, dtype="<u4")
    for i, u in units.items():
        array[i] = u
    blob = array.tobytes()
    return len(blob).to_bytes(4, "little") + blob + bytes(replacements)


def write_vocab(path, model, tokens, types, scores=None, kvs=None):
    """A vocabulary-only GGUF llama.cpp loads with vocab_only=True."""
    w = gguf.GGUFWriter(str(path), "llama")
    w.add_context_length(256)
    w.add_embedding_length(64)
    w.add_block_count(1)
    w.add_feed_forward_length(128)
    w.add_head_count(4)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_tokenizer_model(model)
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    if scores is not None:
        w.add_token_scores([float(s) for s in scores])
    for key, (kind, value) in (kvs or {}).items():
        if kind == "bool":
            w.add_bool(key, value)
        elif kind == "u32":
            w.add_uint32(key, value)
        elif kind == "charsmap":
            w.add_precompiled_charsmap(value)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
