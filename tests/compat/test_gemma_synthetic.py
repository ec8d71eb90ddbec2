"""Gemma 2 and Gemma 3 blocks against llama.cpp on small random GGUF models
written here with gguf-py (F32 weights, F32 KV cache in llama.cpp): sandwich
norms, GeGLU, scaled embeddings, q/k norms (Gemma 3), local attention over a
window shorter than the sequence with each family's global/local layer pattern
and RoPE bases, query scale, and soft-capping of attention scores and logits
(Gemma 2, with caps small enough that tanh bends). Our logits (`quality
logits`) must equal llama-cpp-python 0.3.36's."""
import json

import gguf
import numpy as np
import pytest

import llama_oracle

D, FF, HEADS, KV, HEAD_DIM, VOCAB, WINDOW, T = 64, 128, 4, 2, 16, 300, 8, 24


def vocab():
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    tokens += [f"\u2581w{i}" for i in range(VOCAB - len(tokens))]
    types = [2, 3, 3] + [6] * 256 + [1] * (VOCAB - 259)
    scores = [0.0] * 259 + [-float(i) for i in range(VOCAB - 259)]
    return tokens, types, scores


def write_model(path, arch, layers, rng):
    w = gguf.GGUFWriter(str(path), arch)
    w.add_context_length(64)
    w.add_embedding_length(D)
    w.add_block_count(layers)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV)
    w.add_key_length(HEAD_DIM)
    w.add_value_length(HEAD_DIM)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_sliding_window(WINDOW)
    if arch == "gemma2":
        w.add_rope_freq_base(10000.0)
        w.add_float32(f"{arch}.attn_logit_softcapping", 5.0)
        w.add_float32(f"{arch}.final_logit_softcapping", 3.0)
    else:
        w.add_rope_freq_base(1000000.0)  # global layers; local ones use llama.cpp's 10000
        w.add_uint32(f"{arch}.attention.sliding_window_pattern", 3)  # layers 2 and 5 global
    tokens, types, scores = vocab()
    w.add_tokenizer_model("llama")
    w.add_tokenizer_pre("default")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_scores(scores)

    def t(name, *shape, norm=False):
        x = (1.0 + 0.2 * rng.standard_normal(shape)) if norm else 0.15 * rng.standard_normal(shape)
        w.add_tensor(name, x.astype(np.float32))

    t("token_embd.weight", VOCAB, D)
    t("output_norm.weight", D, norm=True)
    for l in range(layers):
        p = f"blk.{l}."
        t(p + "attn_norm.weight", D, norm=True)
        t(p + "attn_q.weight", HEADS * HEAD_DIM, D)
        t(p + "attn_k.weight", KV * HEAD_DIM, D)
        t(p + "attn_v.weight", KV * HEAD_DIM, D)
        t(p + "attn_output.weight", D, HEADS * HEAD_DIM)
        t(p + "post_attention_norm.weight", D, norm=True)
        t(p + "ffn_norm.weight", D, norm=True)
        t(p + "ffn_gate.weight", FF, D)
        t(p + "ffn_up.weight", FF, D)
        t(p + "ffn_down.weight", D, FF)
        t(p + "post_ffw_norm.weight", D, norm=True)
        if arch == "gemma3":
            t(p + "attn_q_norm.weight", HEAD_DIM, norm=True)
            t(p + "attn_k_norm.weight", HEAD_DIM, norm=True)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


@pytest.mark.parametrize("arch,layers", [("gemma2", 4), ("gemma3", 6)])
def test_logits_equal_llama_cpp(cli, tmp_path, arch, layers):
    rng = np.random.default_rng(5)
    path = tmp_path / f"{arch}.gguf"
    write_model(path, arch, layers, rng)
    ids = [1] + [int(x) for x in rng.integers(3, VOCAB, T - 1)]
    ours = np.array(json.loads(cli("quality", "logits", path, "--ids", ",".join(map(str, ids))).stdout)["logits"])
    llm = llama_oracle.load(path, n_ctx=64, n_batch=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    ref = np.array(llm.scores[:T, :VOCAB], dtype=np.float64)
    assert ours.shape == ref.shape
    # llama.cpp's CPU GELU reads an f16 table (input and output rounded to f16); ours is the exact tanh form
    # (as transformers): that alone moves these logits by up to ~8e-4 of their range. With the f16 table
    # emulated, the two agree within 2e-4 (checked while developing); a structural error (window, pattern,
    # RoPE base, caps, norms) moves them by O(1).
    assert np.max(np.abs(ours - ref)) < 2e-3 * max(1.0, np.max(np.abs(ref))), np.max(np.abs(ours - ref))
    assert (ours.argmax(-1) == ref.argmax(-1)).all()
