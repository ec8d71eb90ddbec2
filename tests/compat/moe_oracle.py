"""Run in the torch venv: a random-init mixture-of-experts checkpoint built by
transformers from a shrunk config (8 experts, top 2, 2 layers, every width 256
so that the 256-element blocks of K- and IQ-quants fit its rows), and its
float32 logits for the given ids.

  moe_oracle.py FAMILY OUT_DIR TOKENIZER_MODEL IDS(comma-separated) LOGITS.json
  FAMILY: mixtral, qwen2moe (shared expert with its sigmoid gate, top-k weights
          not renormalised, as llama.cpp runs it) or qwen3moe (q/k norms,
          renormalised top-k weights, as llama.cpp runs it)

The routers are scaled up (x 20) so that the top-2 choices are decisive:
transformers' init leaves router logits so close that engines agreeing to
1e-7 could still pick different experts for a token.
"""
import json
import shutil
import sys

import torch


def build(family):
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


def main():
    family, out, tokenizer_model, ids, logits_path = sys.argv[1:6]
    torch.manual_seed(0)
    model = build(family).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("mlp.gate.weight"):
                p.mul_(20.0)
            elif "norm" in name:
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(tokenizer_model, f"{out}/tokenizer.model")
    ids = [int(x) for x in ids.split(",")]
    with torch.no_grad():
        json.dump({"logits": model(torch.tensor([ids])).logits[0].double().tolist()}, open(logits_path, "w"))


if __name__ == "__main__":
    main()
