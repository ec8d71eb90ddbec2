"""Tiny synthetic Qwen2/Qwen3 checkpoints (random weights, byte-level BPE
tokenizer.json) and an independent numpy forward pass in HF conventions
(rotate-half RoPE, GQA, SwiGLU, qkv bias / q-k RMSNorm), written from the
transformers modelling equations."""
import json

import numpy as np
from safetensors.numpy import save_file


def bytes_to_unicode():
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


QWEN2_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
LLAMA3_SPLIT = r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"


def write_tokenizer(d, split=QWEN2_SPLIT):
    byte_tokens = [bytes_to_unicode()[b] for b in range(256)]
    vocab = {t: i for i, t in enumerate(byte_tokens)}
    merges = [("Ġ", "t"), ("h", "e"), ("Ġt", "he"), ("i", "n")]
    for a, b in merges:
        vocab[a + b] = len(vocab)
    added = [{"id": len(vocab), "content": "<|endoftext|>", "special": True},
             {"id": len(vocab) + 1, "content": "<|im_start|>", "special": True}]
    tok = {
        "version": "1.0", "added_tokens": added,
        "pre_tokenizer": {"type": "Sequence", "pretokenizers": [
            {"type": "Split", "pattern": {"Regex": split}, "behavior": "Isolated", "invert": False},
            {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": False, "use_regex": False}]},
        "model": {"type": "BPE", "vocab": vocab, "merges": [f"{a} {b}" for a, b in merges]},
    }
    (d / "tokenizer.json").write_text(json.dumps(tok))
    (d / "tokenizer_config.json").write_text(json.dumps({"add_bos_token": False, "chat_template": "{{ messages }}"}))
    return len(vocab) + len(added), vocab, merges


LLAMA31_SCALING = {"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                   "original_max_position_embeddings": 64}


def make_model(d, arch, seed=0, split=QWEN2_SPLIT, rope_scaling=None):
    n_vocab, vocab, merges = write_tokenizer(d, split)
    cfg = dict(architectures=[arch], model_type=arch.replace("ForCausalLM", "").lower(), hidden_size=64,
               intermediate_size=96, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
               head_dim=16, vocab_size=n_vocab, max_position_embeddings=256, rms_norm_eps=1e-6,
               rope_theta=500000.0 if rope_scaling else 1000000.0, tie_word_embeddings=True,
               bos_token_id=n_vocab - 2, eos_token_id=n_vocab - 2, torch_dtype="float32",
               rope_scaling=rope_scaling)
    (d / "config.json").write_text(json.dumps(cfg))
    rng = np.random.default_rng(seed)
    h, f, hd, nh, nkv = 64, 96, 16, 4, 2
    W = {"model.embed_tokens.weight": rng.standard_normal((n_vocab, h)), "model.norm.weight": 1 + 0.1 * rng.standard_normal(h)}
    for i in range(2):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(h)
        W[p + "post_attention_layernorm.weight"] = 1 + 0.1 * rng.standard_normal(h)
        W[p + "self_attn.q_proj.weight"] = 0.15 * rng.standard_normal((nh * hd, h))
        W[p + "self_attn.k_proj.weight"] = 0.15 * rng.standard_normal((nkv * hd, h))
        W[p + "self_attn.v_proj.weight"] = 0.15 * rng.standard_normal((nkv * hd, h))
        W[p + "self_attn.o_proj.weight"] = 0.15 * rng.standard_normal((h, nh * hd))
        W[p + "mlp.gate_proj.weight"] = 0.15 * rng.standard_normal((f, h))
        W[p + "mlp.up_proj.weight"] = 0.15 * rng.standard_normal((f, h))
        W[p + "mlp.down_proj.weight"] = 0.15 * rng.standard_normal((h, f))
        if arch == "Qwen2ForCausalLM":
            for n, k in (("q", nh), ("k", nkv), ("v", nkv)):
                W[p + f"self_attn.{n}_proj.bias"] = 0.1 * rng.standard_normal(k * hd)
        if arch == "Qwen3ForCausalLM":
            W[p + "self_attn.q_norm.weight"] = 1 + 0.1 * rng.standard_normal(hd)
            W[p + "self_attn.k_norm.weight"] = 1 + 0.1 * rng.standard_normal(hd)
    W = {k: v.astype(np.float32) for k, v in W.items()}
    save_file(W, str(d / "model.safetensors"), metadata={"format": "pt"})
    return cfg, W, vocab, merges


def rope_inv_freq(cfg):
    """HF's default inverse frequencies, with Llama 3.1 ("llama3") scaling when configured."""
    hd = cfg["head_dim"]
    inv = 1.0 / cfg["rope_theta"] ** (np.arange(0, hd, 2) / hd)
    rs = cfg.get("rope_scaling")
    if not rs or rs.get("rope_type") != "llama3":
        return inv
    old, lo, hi, factor = rs["original_max_position_embeddings"], rs["low_freq_factor"], rs["high_freq_factor"], rs["factor"]
    wavelen = 2 * np.pi / inv
    smooth = (old / wavelen - lo) / (hi - lo)
    scaled = np.where(wavelen > old / lo, inv / factor, inv)
    mid = (wavelen <= old / lo) & (wavelen >= old / hi)
    return np.where(mid, (1 - smooth) * inv / factor + smooth * inv, scaled)


def rmsnorm(x, w, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * w


def forward(cfg, W, ids):
    """Logits [T, vocab] of one causal sequence, float64."""
    W = {k: v.astype(np.float64) for k, v in W.items()}
    nh, nkv, hd, eps = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"], cfg["rms_norm_eps"]
    T = len(ids)
    x = W["model.embed_tokens.weight"][ids]
    inv = rope_inv_freq(cfg)
    ang = np.outer(np.arange(T), inv)
    cos, sin = np.cos(np.concatenate([ang, ang], -1)), np.sin(np.concatenate([ang, ang], -1))

    def rope(q):
        rot = np.concatenate([-q[..., hd // 2:], q[..., : hd // 2]], -1)
        return q * cos[:, None, :] + rot * sin[:, None, :]

    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{i}."
        hs = rmsnorm(x, W[p + "input_layernorm.weight"], eps)
        proj = lambda n: hs @ W[p + f"self_attn.{n}_proj.weight"].T + W.get(p + f"self_attn.{n}_proj.bias", 0)
        q = proj("q").reshape(T, nh, hd)
        k = proj("k").reshape(T, nkv, hd)
        v = proj("v").reshape(T, nkv, hd)
        if p + "self_attn.q_norm.weight" in W:
            q = rmsnorm(q, W[p + "self_attn.q_norm.weight"], eps)
            k = rmsnorm(k, W[p + "self_attn.k_norm.weight"], eps)
        q, k = rope(q), rope(k)
        k = np.repeat(k, nh // nkv, axis=1)
        v = np.repeat(v, nh // nkv, axis=1)
        att = np.einsum("thd,shd->hts", q, k) / np.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        att /= att.sum(-1, keepdims=True)
        o = np.einsum("hts,shd->thd", att, v).reshape(T, nh * hd)
        x = x + o @ W[p + "self_attn.o_proj.weight"].T
        hs = rmsnorm(x, W[p + "post_attention_layernorm.weight"], eps)
        g = hs @ W[p + "mlp.gate_proj.weight"].T
        x = x + ((g / (1 + np.exp(-g))) * (hs @ W[p + "mlp.up_proj.weight"].T)) @ W[p + "mlp.down_proj.weight"].T
    x = rmsnorm(x, W["model.norm.weight"], eps)
    return x @ W["model.embed_tokens.weight"].T
