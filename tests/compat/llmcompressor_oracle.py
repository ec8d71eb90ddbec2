"""Run llm-compressor 0.14 on the CPU (venv from
scripts/install-llmcompressor-oracle.sh) for the side-by-side tests and bench:
one 4-bit weight-only scheme on one float HF checkpoint, with the calibration
sequences given as token ids (the ones llm-quantize uses), writing its
compressed-tensors checkpoint and its wall time (llmcompressor_time.json).

    python llmcompressor_oracle.py MODEL_DIR IDS.json METHOD GROUP SYMMETRIC(1|0) OUT_DIR

METHOD: gptq, gptq-actorder (actorder "weight"), awq, rtn.

The dataset is already tokenized; oneshot still insists on a processor, so it
gets a one-word placeholder tokenizer that never runs.
"""
import json
import sys
import time

import torch
from compressed_tensors.quantization import QuantizationArgs, QuantizationScheme
from datasets import Dataset
from tokenizers import Tokenizer, models
from transformers import AutoModelForCausalLM, PreTrainedTokenizerFast


def main():
    # AWQModifier pins its cached activations, which needs a CUDA driver; on a
    # CPU-only machine pinning is meaningless anyway.
    torch.Tensor.pin_memory = lambda self, *a, **k: self
    model_dir, ids_path, method, group, sym, out = sys.argv[1:7]
    chunks = json.load(open(ids_path))
    args = QuantizationArgs(num_bits=4, type="int", symmetric=sym == "1", strategy="group" if int(group) > 0 else "channel",
                            group_size=int(group) if int(group) > 0 else None)
    groups = {"group_0": QuantizationScheme(targets=["Linear"], weights=args)}
    from llmcompressor import oneshot
    from llmcompressor.modifiers.quantization import GPTQModifier, QuantizationModifier
    if method.startswith("gptq"):
        recipe = [GPTQModifier(config_groups=groups, ignore=["lm_head"],
                               actorder="weight" if method == "gptq-actorder" else None)]
    elif method == "awq":
        from llmcompressor.modifiers.awq import AWQModifier
        recipe = [AWQModifier(config_groups=groups, ignore=["lm_head"])]
    else:
        recipe = [QuantizationModifier(config_groups=groups, ignore=["lm_head"])]
    model = AutoModelForCausalLM.from_pretrained(model_dir, dtype=torch.float32)
    ds = Dataset.from_dict({"input_ids": chunks, "attention_mask": [[1] * len(c) for c in chunks]})
    t0 = time.time()
    placeholder = PreTrainedTokenizerFast(tokenizer_object=Tokenizer(models.WordLevel({"<pad>": 0}, unk_token="<pad>")),
                                          pad_token="<pad>")
    oneshot(model=model, processor=placeholder, dataset=ds, recipe=recipe, max_seq_length=len(chunks[0]), num_calibration_samples=len(chunks),
            output_dir=None)
    elapsed = time.time() - t0
    model.save_pretrained(out, save_compressed=True)
    json.dump({"seconds": elapsed}, open(out + "/llmcompressor_time.json", "w"))


if __name__ == "__main__":
    main()
