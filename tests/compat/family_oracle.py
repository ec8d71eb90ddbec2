"""Run in the torch venv: a random-init checkpoint of one family, built by
transformers from a shrunk config (norm weights random so that each family's
norm convention matters), and its float32 logits for the given ids.

  family_oracle.py FAMILY OUT_DIR TOKENIZER_MODEL IDS(comma-separated) LOGITS.json
  FAMILY: gemma3 (local window 8 over the sequence, layer 5 global), gemma2
          (every other layer local, attention / final soft-caps 5 / 3 so that tanh bends) or olmo2
"""
import json
import shutil
import sys

import torch


def build(family):
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
    from transformers import Olmo2Config, Olmo2ForCausalLM
    return Olmo2ForCausalLM(Olmo2Config(num_hidden_layers=3, rope_theta=50000.0, **common))


def main():
    family, out, tokenizer_model, ids, logits_path = sys.argv[1:6]
    torch.manual_seed(0)
    model = build(family).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:  # Gemma scales by 1 + w, OLMo by w
                p.copy_((0.0 if family.startswith("gemma") else 1.0) + 0.3 * torch.randn_like(p))
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(tokenizer_model, f"{out}/tokenizer.model")
    ids = [int(x) for x in ids.split(",")]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double().tolist()
    json.dump({"logits": logits}, open(logits_path, "w"))


if __name__ == "__main__":
    main()
