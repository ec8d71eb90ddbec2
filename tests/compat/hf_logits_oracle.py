"""Run in the torch venv (or one layered over it): float32 logits of an HF
checkpoint directory as transformers loads it (AutoModelForCausalLM; GPTQ and
AWQ checkpoints through GPTQModel's kernels when run in its venv).

  hf_logits_oracle.py CHECKPOINT_DIR IDS(comma-separated) OUT.json
"""
import json
import sys

import torch
from transformers import AutoModelForCausalLM


def main():
    ckpt, ids, out = sys.argv[1], [int(t) for t in sys.argv[2].split(",")], sys.argv[3]
    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32).eval()
    with torch.no_grad():
        logits = model(torch.tensor([ids])).logits[0].double().tolist()
    # Which module runs the first query projection (a quantized kernel's class for GPTQ / AWQ checkpoints).
    q_proj = next((type(m).__module__ + "." + type(m).__name__ for n, m in model.named_modules() if n.endswith("q_proj")), None)
    json.dump({"logits": logits, "q_proj_class": q_proj}, open(out, "w"))


if __name__ == "__main__":
    main()
