"""Run in the torch venv: a random-init checkpoint of one family, built by
transformers from a shrunk config (norm weights random so that each family's
norm convention matters), and its float32 logits for the given ids.

  family_oracle.py FAMILY OUT_DIR TOKENIZER_MODEL IDS(comma-separated) LOGITS.json
  FAMILY: gemma3 (local window 8 over the sequence, layer 5 global), gemma2
          (every other layer local, attention / final soft-caps 5 / 3 so that tanh bends), olmo2,
          phi3 (window 16, 3/4 of each head rotary, LongRoPE beyond 16 positions), granite (every
          multiplier away from 1), cohere (Command-R: LayerNorm, parallel block, logit scale 0.5), or a
          mixture of experts (8 experts, top 2, 2 layers, every width 256 so that the 256-element blocks
          of K- and IQ-quants fit its rows): mixtral, qwen2moe (shared expert with its sigmoid gate,
          top-k weights not renormalised, as llama.cpp runs it) or qwen3moe (q/k norms, renormalised
          top-k weights, as llama.cpp runs it), or the state-space mamba2 (2 layers, hidden 256, 8 heads of
          64, 2 groups, state 16, scan chunks of 16 tokens so that transformers' chunked form spans several),
          or the hybrid qwen35 (Qwen3.5: three gated-DeltaNet layers then one gated full-attention layer;
          2 key heads and 4 value heads of 32, so that the converter reorders V heads), or qwen35vl (the same
          text model as the published Qwen3.5 checkpoints hold it: the multimodal class with a one-block vision
          tower, and a random multi-token-prediction block added as mtp.*), or qwen35moe (Qwen3.5-MoE: the
          same layers with 8 experts, top 2, a shared expert), or qwen3next (Qwen3-Next: the same, with HF's
          fused in_proj_qkvz and in_proj_ba)
  Extra ids after LOGITS.json: a second, shorter sequence whose logits go under "short_logits".

The MoE routers are scaled up (x 20) so that the top-2 choices are decisive:
transformers' init leaves router logits so close that engines agreeing to
1e-7 could still pick different experts for a token.
"""
import json
import shutil
import sys

import torch


def build_moe(family):
    common = dict(vocab_size=512, hidden_size=256, intermediate_size=256, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=256, bos_token_id=1, eos_token_id=2, pad_token_id=0, num_hidden_layers=2,
                  num_experts_per_tok=2)
    if family == "mixtral":
        from transformers import MixtralConfig, MixtralForCausalLM
        return MixtralForCausalLM(MixtralConfig(num_local_experts=8, **common))
    if family == "qwen2moe":
        from transformers import Qwen2MoeConfig, Qwen2MoeForCausalLM
        return Qwen2MoeForCausalLM(Qwen2MoeConfig(num_experts=8, moe_intermediate_size=256,
                                                  shared_expert_intermediate_size=512, norm_topk_prob=False, **common))
    from transformers import Qwen3MoeConfig, Qwen3MoeForCausalLM
    return Qwen3MoeForCausalLM(Qwen3MoeConfig(num_experts=8, moe_intermediate_size=256, norm_topk_prob=True, **common))


def build_mamba2():
    from transformers import Mamba2Config, Mamba2ForCausalLM
    return Mamba2ForCausalLM(Mamba2Config(vocab_size=512, hidden_size=256, num_hidden_layers=2, expand=2, head_dim=64,
                                          num_heads=8, n_groups=2, state_size=16, conv_kernel=4, chunk_size=16,
                                          bos_token_id=1, eos_token_id=2, pad_token_id=0))


QWEN35_TEXT = dict(vocab_size=512, hidden_size=256, intermediate_size=256, num_hidden_layers=4, num_attention_heads=4,
                   num_key_value_heads=2, head_dim=64, linear_num_key_heads=2, linear_num_value_heads=4,
                   linear_key_head_dim=32, linear_value_head_dim=32, linear_conv_kernel_dim=4,
                   max_position_embeddings=1024, bos_token_id=1, eos_token_id=2, pad_token_id=0,
                   rope_parameters=dict(rope_type="default", rope_theta=10000.0, partial_rotary_factor=0.25,
                                        mrope_section=[3, 3, 2], mrope_interleaved=True))


def build_qwen35():
    from transformers import Qwen3_5ForCausalLM, Qwen3_5TextConfig
    return Qwen3_5ForCausalLM(Qwen3_5TextConfig(**QWEN35_TEXT))


def build_qwen35_moe():
    from transformers import Qwen3_5MoeForCausalLM, Qwen3_5MoeTextConfig
    text = {k: v for k, v in QWEN35_TEXT.items() if k != "intermediate_size"}
    return Qwen3_5MoeForCausalLM(Qwen3_5MoeTextConfig(num_experts=8, num_experts_per_tok=2, moe_intermediate_size=256,
                                                      shared_expert_intermediate_size=256, **text))


def build_qwen3_next():
    from transformers import Qwen3NextConfig, Qwen3NextForCausalLM
    text = {k: v for k, v in QWEN35_TEXT.items() if k not in ("rope_parameters",)}
    return Qwen3NextForCausalLM(Qwen3NextConfig(num_experts=8, num_experts_per_tok=2, moe_intermediate_size=256,
                                                shared_expert_intermediate_size=256, partial_rotary_factor=0.25,
                                                **text))


def build_qwen35_vl():
    """As the published Qwen3.5 checkpoints are laid out: the multimodal class (a one-block vision tower),
    the text model under model.language_model."""
    from transformers import Qwen3_5Config, Qwen3_5ForConditionalGeneration
    vision = dict(depth=1, hidden_size=32, intermediate_size=64, num_heads=2, out_hidden_size=256,
                  num_position_embeddings=16)
    return Qwen3_5ForConditionalGeneration(Qwen3_5Config(text_config=QWEN35_TEXT, vision_config=vision))


def add_mtp_layer(out, hidden, heads, kv_heads, head_dim, ffn):
    """The multi-token-prediction block the published checkpoints carry (mtp.*: a full-attention layer,
    its input projection and norms) with random weights; transformers neither builds nor reads it."""
    from safetensors.torch import load_file, save_file
    path = f"{out}/model.safetensors"
    tensors = load_file(path)
    g = torch.Generator().manual_seed(11)
    rnd = lambda *shape: 0.05 * torch.randn(*shape, generator=g)
    p = "mtp.layers.0."
    tensors.update({"mtp.fc.weight": rnd(hidden, 2 * hidden), "mtp.pre_fc_norm_embedding.weight": rnd(hidden),
                    "mtp.pre_fc_norm_hidden.weight": rnd(hidden), "mtp.norm.weight": rnd(hidden),
                    p + "input_layernorm.weight": rnd(hidden), p + "post_attention_layernorm.weight": rnd(hidden),
                    p + "self_attn.q_proj.weight": rnd(2 * heads * head_dim, hidden),
                    p + "self_attn.k_proj.weight": rnd(kv_heads * head_dim, hidden),
                    p + "self_attn.v_proj.weight": rnd(kv_heads * head_dim, hidden),
                    p + "self_attn.o_proj.weight": rnd(hidden, heads * head_dim),
                    p + "self_attn.q_norm.weight": rnd(head_dim), p + "self_attn.k_norm.weight": rnd(head_dim),
                    p + "mlp.gate_proj.weight": rnd(ffn, hidden), p + "mlp.up_proj.weight": rnd(ffn, hidden),
                    p + "mlp.down_proj.weight": rnd(hidden, ffn)})
    save_file(tensors, path, metadata={"format": "pt"})
    cfg = json.load(open(f"{out}/config.json"))
    cfg["text_config"]["mtp_num_hidden_layers"] = 1
    json.dump(cfg, open(f"{out}/config.json", "w"), indent=2)


def build(family):
    if family == "mamba2":
        return build_mamba2()
    if family == "qwen35":
        return build_qwen35()
    if family == "qwen35vl":
        return build_qwen35_vl()
    if family == "qwen35moe":
        return build_qwen35_moe()
    if family == "qwen3next":
        return build_qwen3_next()
    if family in ("mixtral", "qwen2moe", "qwen3moe"):
        return build_moe(family)
    common = dict(vocab_size=512, hidden_size=64, intermediate_size=128, num_attention_heads=4, num_key_value_heads=2,
                  max_position_embeddings=256, bos_token_id=1, eos_token_id=2, pad_token_id=0)
    if family == "gemma3":
        from transformers import Gemma3ForCausalLM, Gemma3TextConfig
        return Gemma3ForCausalLM(Gemma3TextConfig(num_hidden_layers=6, head_dim=16, sliding_window=8,
                                                  query_pre_attn_scalar=16, **common))
    if family == "gemma2":
        from transformers import Gemma2Config, Gemma2ForCausalLM
        return Gemma2ForCausalLM(Gemma2Config(num_hidden_layers=4, head_dim=16, sliding_window=8,
                                              query_pre_attn_scalar=16, attn_logit_softcapping=5.0,
                                              final_logit_softcapping=3.0, **common))
    if family == "olmo2":
        from transformers import Olmo2Config, Olmo2ForCausalLM
        return Olmo2ForCausalLM(Olmo2Config(num_hidden_layers=3, rope_theta=50000.0, **common))
    if family == "phi3":
        from transformers import Phi3Config, Phi3ForCausalLM
        g = torch.Generator().manual_seed(7)
        short, long = (1.0 + 3.0 * torch.rand(6, generator=g)).tolist(), (1.0 + 9.0 * torch.rand(6, generator=g)).tolist()
        return Phi3ForCausalLM(Phi3Config(num_hidden_layers=3, original_max_position_embeddings=16, sliding_window=16,
                                          rope_parameters=dict(rope_type="longrope", rope_theta=10000.0,
                                                               partial_rotary_factor=0.75, short_factor=short,
                                                               long_factor=long), **common))
    if family == "granite":
        from transformers import GraniteConfig, GraniteForCausalLM
        return GraniteForCausalLM(GraniteConfig(num_hidden_layers=3, embedding_multiplier=3.0, residual_multiplier=0.5,
                                                attention_multiplier=0.1, logits_scaling=4.0, **common))
    from transformers import CohereConfig, CohereForCausalLM
    return CohereForCausalLM(CohereConfig(num_hidden_layers=3, logit_scale=0.5, **common))


def main():
    family, out, tokenizer_model, ids, logits_path = sys.argv[1:6]
    torch.manual_seed(0)
    model = build(family).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("mlp.gate.weight"):  # MoE routers
                p.mul_(20.0)
            elif "norm" in name:  # Gemma scales by 1 + w, OLMo by w
                p.copy_((0.0 if family.startswith("gemma") else 1.0) + 0.3 * torch.randn_like(p))
    model.save_pretrained(out, safe_serialization=True)
    if family == "qwen35vl":
        t = QWEN35_TEXT
        add_mtp_layer(out, t["hidden_size"], t["num_attention_heads"], t["num_key_value_heads"], t["head_dim"],
                      t["intermediate_size"])
    shutil.copy(tokenizer_model, f"{out}/tokenizer.model")
    ids = [int(x) for x in ids.split(",")]
    with torch.no_grad():
        out = {"logits": model(torch.tensor([ids])).logits[0].double().tolist()}
        if len(sys.argv) > 6:
            short = [int(x) for x in sys.argv[6].split(",")]
            out["short_logits"] = model(torch.tensor([short])).logits[0].double().tolist()
    json.dump(out, open(logits_path, "w"))


if __name__ == "__main__":
    main()
