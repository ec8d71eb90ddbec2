"""Run in the torch venv: float32 logits of an HF checkpoint directory as
transformers loads it (AutoModelForCausalLM, no quantization).

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
    json.dump({"logits": logits}, open(out, "w"))


if __name__ == "__main__":
    main()
