"""Our GGUF files read back with gguf-py (an independent reader) must hold
exactly the source tensors: renamed, Q/K rows permuted as llama.cpp's
converter does, and encoded as the level asks."""
import json

import numpy as np
import pytest
from gguf import GGUFReader, GGMLQuantizationType
from gguf.quants import dequantize, quantize
from safetensors.numpy import load_file

HF_TO_GGUF = {
    "model.embed_tokens.weight": "token_embd.weight",
    "model.norm.weight": "output_norm.weight",
}
LAYER = {
    "input_layernorm": "attn_norm", "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v", "self_attn.o_proj": "attn_output", "post_attention_layernorm": "ffn_norm",
    "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up", "mlp.down_proj": "ffn_down",
}


def gguf_name(hf):
    if hf in HF_TO_GGUF:
        return HF_TO_GGUF[hf]
    parts = hf.split(".")
    layer, stem = parts[2], ".".join(parts[3:-1])
    return f"blk.{layer}.{LAYER[stem]}.weight"


def llama_permute(w, n_head):
    # written from llama.cpp's convert_hf_to_gguf.py description: [h][2][d/2] -> [h][d/2][2]
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def expected_tensors(shared):
    cfg = json.loads((shared / "models/stories260K/config.json").read_text())
    out = {}
    for name, w in load_file(str(shared / "models/stories260K/model.safetensors")).items():
        if name.endswith("q_proj.weight"):
            w = llama_permute(w, cfg["num_attention_heads"])
        elif name.endswith("k_proj.weight"):
            w = llama_permute(w, cfg["num_key_value_heads"])
        out[gguf_name(name)] = w
    return out


def tensor_values(t):
    qt = GGMLQuantizationType(t.tensor_type)
    data = np.asarray(t.data)
    if qt in (GGMLQuantizationType.F32, GGMLQuantizationType.F16):
        return data.astype(np.float32)
    return dequantize(data, qt)


@pytest.mark.parametrize("level", ["F32", "F16", "BF16", "Q8_0"])
def test_every_tensor_matches_source(converted, shared, level):
    reader = GGUFReader(str(converted[level]))
    expected = expected_tensors(shared)
    got = {t.name: t for t in reader.tensors}
    assert set(got) == set(expected)
    for name, w in expected.items():
        t = got[name]
        qt = GGMLQuantizationType(t.tensor_type)
        if w.ndim == 1 or name.endswith("_norm.weight"):
            assert qt == GGMLQuantizationType.F32, name
            np.testing.assert_array_equal(np.asarray(t.data), w)
            continue
        if level == "F32":
            assert qt == GGMLQuantizationType.F32
            np.testing.assert_array_equal(np.asarray(t.data), w)
        elif level == "F16":
            assert qt == GGMLQuantizationType.F16
            np.testing.assert_array_equal(np.asarray(t.data), w.astype(np.float16))
        elif level == "BF16":
            assert qt == GGMLQuantizationType.BF16
            raw = np.asarray(t.data).view(np.uint8).reshape(-1)
            np.testing.assert_array_equal(raw, quantize(w, GGMLQuantizationType.BF16).view(np.uint8).reshape(-1))
        else:
            if w.shape[-1] % 32:  # llama.cpp's converter falls back to F16 for such rows
                assert qt == GGMLQuantizationType.F16, name
                np.testing.assert_array_equal(np.asarray(t.data), w.astype(np.float16))
            else:
                assert qt == GGMLQuantizationType.Q8_0, name
                raw = np.asarray(t.data).view(np.uint8).reshape(-1)
                ref = quantize(w, GGMLQuantizationType.Q8_0).view(np.uint8).reshape(-1)
                np.testing.assert_array_equal(raw, ref)  # gguf-py's Q8_0 is bit-exact with ggml


@pytest.mark.parametrize("level", ["F32", "F16", "BF16", "Q8_0"])
def test_metadata_llama_needs(converted, level):
    reader = GGUFReader(str(converted[level]))
    f = reader.fields

    def scalar(key):
        field = f[key]
        return field.parts[field.data[0]][0]

    assert bytes(f["general.architecture"].parts[-1]).decode() == "llama"
    assert scalar("llama.block_count") == 5
    assert scalar("llama.embedding_length") == 64
    assert scalar("llama.attention.head_count_kv") == 4
    assert scalar("general.file_type") == {"F32": 0, "F16": 1, "BF16": 32, "Q8_0": 7}[level]
    assert len(f["tokenizer.ggml.tokens"].data) == 512


def test_vocabulary_equals_llama_cpp_conversion(converted, shared):
    """llama.cpp's own stories260K.gguf holds the same tokenizer (from tok512.bin)."""
    ours = GGUFReader(str(converted["F32"])).fields
    ref = GGUFReader(str(shared / "models/stories260K.gguf")).fields
    for key in ("tokenizer.ggml.tokens", "tokenizer.ggml.scores", "tokenizer.ggml.token_type"):
        a = [bytes(ours[key].parts[i]) for i in ours[key].data]
        b = [bytes(ref[key].parts[i]) for i in ref[key].data]
        assert a == b, key


def test_tensors_equal_llama_cpp_conversion(converted, shared):
    """Independent oracle: llama.cpp converted the same weights (from llama2.c's
    original layout); every tensor we write must be bit-identical to its file."""
    ours = {t.name: np.asarray(t.data) for t in GGUFReader(str(converted["F32"])).tensors}
    ref = {t.name: np.asarray(t.data) for t in GGUFReader(str(shared / "models/stories260K.gguf")).tensors}
    assert set(ours) == set(ref) - {"output.weight"}  # tied embeddings: llama.cpp falls back to token_embd
    for name, data in ours.items():
        np.testing.assert_array_equal(data, ref[name], err_msg=name)
