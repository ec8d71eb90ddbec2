"""Run in the torch venv: a random-init Gemma 3 checkpoint built by
transformers from a shrunk config (local window shorter than the sequence,
norm weights random so that the 1 + w convention matters), and its float32
logits for the given ids.

  gemma3_oracle.py OUT_DIR TOKENIZER_MODEL IDS(comma-separated) LOGITS.json
"""
import json
import shutil
import sys

import torch
from transformers import Gemma3ForCausalLM, Gemma3TextConfig


def main():
    out, tokenizer_model, ids, logits_path = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    cfg = Gemma3TextConfig(vocab_size=512, hidden_size=64, intermediate_size=128, num_hidden_layers=6,
                           num_attention_heads=4, num_key_value_heads=2, head_dim=16, sliding_window=8,
                           max_position_embeddings=256, query_pre_attn_scalar=16, bos_token_id=1, eos_token_id=2,
                           pad_token_id=0)
    torch.manual_seed(0)
    model = Gemma3ForCausalLM(cfg).float().eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.copy_(0.3 * torch.randn_like(p))
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(tokenizer_model, f"{out}/tokenizer.model")
    ids = [int(x) for x in ids.split(",")]
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double().tolist()
    json.dump({"logits": logits}, open(logits_path, "w"))


if __name__ == "__main__":
    main()
