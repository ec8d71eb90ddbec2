#!/usr/bin/env python3
"""Writes a synthetic Hugging Face checkpoint with Llama-2-7B shapes, or Gemma 2
9B shapes (--shape gemma2-9b: 256k vocabulary, head size 256, four norms per
layer, tied output), or Qwen3-30B-A3B's (--shape qwen3-30b-a3b: 128 experts of
768, top 8, q/k norms), or Mamba-2 2.7B's (--shape mamba2-2.7b: 64 state-space
layers of 80 heads x 64, state 128, no attention), or Qwen3.5-27B's (--shape qwen3.5-27b: 48
gated-DeltaNet and 16 gated-attention layers, an MTP block, as published under model.language_model), or
fewer layers, into a cache directory, for
conversion throughput / memory benchmarks.

The weights are random bf16 (tiled from a 64 MiB random pool, which is enough
for timing), sharded like transformers does, with config.json and the test
model's tokenizer. Nothing here is committed; run it on demand.
"""
import argparse
import json
import shutil
import struct
from pathlib import Path

import numpy as np

SHAPES_7B = dict(hidden=4096, ffn=11008, layers=32, heads=32, kv_heads=32, vocab=32000)
SHAPES_GEMMA2_9B = dict(hidden=3584, ffn=14336, layers=42, heads=16, kv_heads=8, head_dim=256, vocab=256000,
                        gemma=True)
SHAPES_QWEN3_30B_A3B = dict(hidden=2048, ffn=6144, layers=48, heads=32, kv_heads=4, head_dim=128, vocab=151936,
                            experts=128, experts_used=8, expert_ffn=768)
SHAPES_MAMBA2_2_7B = dict(hidden=2560, ffn=0, layers=64, heads=80, kv_heads=0, vocab=50288, mamba2=True,
                          head_dim=64, groups=1, state=128, taps=4)
# Qwen3.5-27B as published (Qwen3_5ForConditionalGeneration; its vision tower left out, the MTP block kept).
SHAPES_QWEN35_27B = dict(hidden=5120, ffn=17408, layers=64, heads=24, kv_heads=4, head_dim=256, vocab=248320,
                         qwen35=True, key_heads=16, value_heads=48, key_dim=128, taps=4, mtp=1)
SHAPES = {"llama2-7b": SHAPES_7B, "gemma2-9b": SHAPES_GEMMA2_9B, "qwen3-30b-a3b": SHAPES_QWEN3_30B_A3B,
          "mamba2-2.7b": SHAPES_MAMBA2_2_7B, "qwen3.5-27b": SHAPES_QWEN35_27B}


def qwen35_layer(p, cfg, linear):
    h, f, hd = cfg["hidden"], cfg["ffn"], cfg["head_dim"]
    yield p + "input_layernorm.weight", (h,)
    yield p + "post_attention_layernorm.weight", (h,)
    if linear:
        kd, nk, nv = cfg["key_dim"], cfg["key_heads"], cfg["value_heads"]
        qkv = 2 * nk * kd + nv * kd
        a = p + "linear_attn."
        yield a + "in_proj_qkv.weight", (qkv, h)
        yield a + "in_proj_z.weight", (nv * kd, h)
        yield a + "in_proj_b.weight", (nv, h)
        yield a + "in_proj_a.weight", (nv, h)
        yield a + "conv1d.weight", (qkv, 1, cfg["taps"])
        yield a + "dt_bias", (nv,)
        yield a + "A_log", (nv,)
        yield a + "norm.weight", (kd,)
        yield a + "out_proj.weight", (h, nv * kd)
    else:
        a = p + "self_attn."
        yield a + "q_proj.weight", (2 * cfg["heads"] * hd, h)
        yield a + "k_proj.weight", (cfg["kv_heads"] * hd, h)
        yield a + "v_proj.weight", (cfg["kv_heads"] * hd, h)
        yield a + "o_proj.weight", (h, cfg["heads"] * hd)
        yield a + "q_norm.weight", (hd,)
        yield a + "k_norm.weight", (hd,)
    yield p + "mlp.gate_proj.weight", (f, h)
    yield p + "mlp.up_proj.weight", (f, h)
    yield p + "mlp.down_proj.weight", (h, f)


def qwen35_tensors(cfg):
    h = cfg["hidden"]
    yield "model.language_model.embed_tokens.weight", (cfg["vocab"], h)
    for i in range(cfg["layers"]):
        yield from qwen35_layer(f"model.language_model.layers.{i}.", cfg, (i + 1) % 4 != 0)
    yield "model.language_model.norm.weight", (h,)
    yield "lm_head.weight", (cfg["vocab"], h)
    for i in range(cfg["mtp"]):
        yield from qwen35_layer(f"mtp.layers.{i}.", cfg, False)
    yield "mtp.fc.weight", (h, 2 * h)
    for n in ("pre_fc_norm_embedding", "pre_fc_norm_hidden", "norm"):
        yield f"mtp.{n}.weight", (h,)


def mamba2_tensors(cfg):
    h, inner = cfg["hidden"], cfg["heads"] * cfg["head_dim"]
    conv = inner + 2 * cfg["groups"] * cfg["state"]
    yield "backbone.embeddings.weight", (cfg["vocab"], h)
    for i in range(cfg["layers"]):
        p = f"backbone.layers.{i}."
        yield p + "norm.weight", (h,)
        yield p + "mixer.in_proj.weight", (inner + conv + cfg["heads"], h)
        yield p + "mixer.conv1d.weight", (conv, 1, cfg["taps"])
        yield p + "mixer.conv1d.bias", (conv,)
        for n in ("dt_bias", "A_log", "D"):
            yield p + "mixer." + n, (cfg["heads"],)
        yield p + "mixer.norm.weight", (inner,)
        yield p + "mixer.out_proj.weight", (h, inner)
    yield "backbone.norm_f.weight", (h,)


def tensors(cfg):
    if cfg.get("qwen35"):
        yield from qwen35_tensors(cfg)
        return
    if cfg.get("mamba2"):
        yield from mamba2_tensors(cfg)
        return
    h, f, v = cfg["hidden"], cfg["ffn"], cfg["vocab"]
    hd = cfg.get("head_dim", h // cfg["heads"])
    q, kv = hd * cfg["heads"], hd * cfg["kv_heads"]
    gemma = cfg.get("gemma", False)
    yield "model.embed_tokens.weight", (v, h)
    for i in range(cfg["layers"]):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", (h,)
        yield p + "self_attn.q_proj.weight", (q, h)
        yield p + "self_attn.k_proj.weight", (kv, h)
        yield p + "self_attn.v_proj.weight", (kv, h)
        yield p + "self_attn.o_proj.weight", (h, q)
        yield p + "post_attention_layernorm.weight", (h,)
        if gemma:
            yield p + "pre_feedforward_layernorm.weight", (h,)
            yield p + "post_feedforward_layernorm.weight", (h,)
        if cfg.get("experts"):
            yield p + "self_attn.q_norm.weight", (hd,)
            yield p + "self_attn.k_norm.weight", (hd,)
            yield p + "mlp.gate.weight", (cfg["experts"], h)
            for e in range(cfg["experts"]):
                yield p + f"mlp.experts.{e}.gate_proj.weight", (cfg["expert_ffn"], h)
                yield p + f"mlp.experts.{e}.up_proj.weight", (cfg["expert_ffn"], h)
                yield p + f"mlp.experts.{e}.down_proj.weight", (h, cfg["expert_ffn"])
            continue
        yield p + "mlp.gate_proj.weight", (f, h)
        yield p + "mlp.up_proj.weight", (f, h)
        yield p + "mlp.down_proj.weight", (h, f)
    yield "model.norm.weight", (h,)
    if not gemma:
        yield "lm_head.weight", (v, h)


def config_json(cfg):
    if cfg.get("qwen35"):  # Qwen3.5-27B's text_config (full attention every 4th layer)
        text = dict(hidden_size=cfg["hidden"], intermediate_size=cfg["ffn"], num_hidden_layers=cfg["layers"],
                    num_attention_heads=cfg["heads"], num_key_value_heads=cfg["kv_heads"], head_dim=cfg["head_dim"],
                    vocab_size=cfg["vocab"], linear_conv_kernel_dim=cfg["taps"], linear_key_head_dim=cfg["key_dim"],
                    linear_value_head_dim=cfg["key_dim"], linear_num_key_heads=cfg["key_heads"],
                    linear_num_value_heads=cfg["value_heads"], full_attention_interval=4,
                    mtp_num_hidden_layers=cfg["mtp"], max_position_embeddings=262144, rms_norm_eps=1e-6,
                    model_type="qwen3_5_text", tie_word_embeddings=False, bos_token_id=1, eos_token_id=2,
                    rope_parameters=dict(rope_type="default", rope_theta=10000000.0, partial_rotary_factor=0.25,
                                         mrope_section=[11, 11, 10], mrope_interleaved=True))
        return dict(architectures=["Qwen3_5ForConditionalGeneration"], model_type="qwen3_5", text_config=text,
                    tie_word_embeddings=False, torch_dtype="bfloat16")
    if cfg.get("mamba2"):  # state-spaces/mamba2-2.7b's sizes, tied output
        return dict(architectures=["Mamba2ForCausalLM"], model_type="mamba2", hidden_size=cfg["hidden"],
                    num_hidden_layers=cfg["layers"], vocab_size=cfg["vocab"], expand=2, head_dim=cfg["head_dim"],
                    num_heads=cfg["heads"], n_groups=cfg["groups"], state_size=cfg["state"], conv_kernel=cfg["taps"],
                    layer_norm_epsilon=1e-5, use_bias=False, use_conv_bias=True, tie_word_embeddings=True,
                    torch_dtype="bfloat16", bos_token_id=1, eos_token_id=2)
    common = dict(hidden_size=cfg["hidden"], intermediate_size=cfg["ffn"], num_hidden_layers=cfg["layers"],
                  num_attention_heads=cfg["heads"], num_key_value_heads=cfg["kv_heads"], vocab_size=cfg["vocab"],
                  torch_dtype="bfloat16", bos_token_id=2 if cfg.get("gemma") else 1,
                  eos_token_id=1 if cfg.get("gemma") else 2)
    if cfg.get("gemma"):  # Gemma 2 9B's config
        return dict(common, architectures=["Gemma2ForCausalLM"], model_type="gemma2", head_dim=cfg["head_dim"],
                    max_position_embeddings=8192, rms_norm_eps=1e-6, rope_theta=10000.0, sliding_window=4096,
                    query_pre_attn_scalar=256, attn_logit_softcapping=50.0, final_logit_softcapping=30.0,
                    hidden_activation="gelu_pytorch_tanh", tie_word_embeddings=True)
    if cfg.get("experts"):  # Qwen3-30B-A3B's config
        return dict(common, architectures=["Qwen3MoeForCausalLM"], model_type="qwen3_moe", head_dim=cfg["head_dim"],
                    num_experts=cfg["experts"], num_experts_per_tok=cfg["experts_used"],
                    moe_intermediate_size=cfg["expert_ffn"], norm_topk_prob=True, max_position_embeddings=40960,
                    rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False)
    return dict(common, architectures=["LlamaForCausalLM"], model_type="llama", max_position_embeddings=4096,
                rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False)


def write_shard(path, entries, pool):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in entries:
        n = int(np.prod(shape)) * 2
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    blob = json.dumps(header, separators=(",", ":")).encode()
    blob += b" " * ((8 - len(blob) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(blob)))
        f.write(blob)
        pos = 0
        for name, shape in entries:
            left = int(np.prod(shape)) * 2
            while left:
                k = min(left, pool.nbytes - pos)
                f.write(pool[pos // 2:(pos + k) // 2].tobytes())
                left -= k
                pos = (pos + k) % pool.nbytes


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("out", type=Path)
    ap.add_argument("--shape", choices=sorted(SHAPES), default="llama2-7b")
    ap.add_argument("--layers", type=int, help="fewer layers than the shape has")
    ap.add_argument("--shard-gb", type=float, default=5.0)
    ap.add_argument("--tokenizer-from", type=Path, required=True, help="directory with tokenizer.model")
    args = ap.parse_args()
    shape = SHAPES[args.shape]
    cfg = dict(shape, layers=args.layers or shape["layers"])
    out = args.out
    if (out / "config.json").exists():
        print(f"{out} exists; reusing it")
        return
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    pool = (rng.standard_normal(32 << 20, dtype=np.float32) * 0.02).view(np.uint32)
    pool = (pool >> 16).astype(np.uint16)  # bf16 patterns (truncated)

    shards, cur, cur_bytes = [], [], 0
    limit = int(args.shard_gb * 1e9)
    for name, shape in tensors(cfg):
        n = int(np.prod(shape)) * 2
        if cur and cur_bytes + n > limit:
            shards.append(cur)
            cur, cur_bytes = [], 0
        cur.append((name, shape))
        cur_bytes += n
    shards.append(cur)
    weight_map, total = {}, 0
    for i, entries in enumerate(shards):
        fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
        write_shard(out / fname, entries, pool)
        for name, shape in entries:
            weight_map[name] = fname
            total += int(np.prod(shape)) * 2
        print(f"wrote {fname}")
    (out / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2))
    (out / "config.json").write_text(json.dumps(config_json(cfg), indent=2))
    shutil.copy(args.tokenizer_from / "tokenizer.model", out / "tokenizer.model")


if __name__ == "__main__":
    main()
