#!/usr/bin/env python3
"""Perplexity effect of zeroing super weights versus zeroing random weights.

For every weight listed in a super-weights JSON file (written by
`llm-quantize analyze --identify-super-weights`), this zeroes that one weight in
a scratch copy of an F32/F16 GGUF model, measures perplexity with
`llm-quantize quality perplexity`, restores it, and does the same for
`--random` weights drawn (seeded) from the same tensor. The Super Weight paper's
claim is that removing one super weight destroys the model while removing a
random weight of the same tensor changes nothing; this script prints both.

Usage:
  bench/super_weight_ablation.py --llm-quantize BUILD/llm-quantize \
      --model model-f32.gguf --super-weights sw.json --data wiki.test.raw \
      [--chunks 10] [--random 3] [--scratch /var/tmp/ablation.gguf]

The model must store the ablated tensors as F32 or F16 (requantize a quantized
model with `llm-quantize quantize MODEL OUT.gguf F32 --allow-requantize`).
"""
import argparse
import json
import os
import random
import re
import shutil
import subprocess
import sys

from gguf import GGUFReader


def perplexity(binary, model, data, chunks):
    out = subprocess.run([binary, "quality", "perplexity", model, "--data", data,
                          "--chunks", str(chunks)],
                         check=True, capture_output=True, text=True)
    found = re.search(r"PPL = ([0-9.]+) \+/- ([0-9.]+)", out.stdout + out.stderr)
    if not found:
        sys.exit("no perplexity in output:\n" + out.stdout + out.stderr)
    return float(found.group(1)), float(found.group(2))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--llm-quantize", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--super-weights", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--chunks", type=int, default=10)
    ap.add_argument("--random", type=int, default=3, help="random weights per tensor")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--scratch", default=None, help="where the ablated copy lives")
    args = ap.parse_args()

    found = json.load(open(args.super_weights))["super_weights"]
    if not found:
        print("the super-weights file lists no super weight; nothing to ablate")
        return
    scratch = args.scratch or args.model + ".ablation.gguf"
    shutil.copyfile(args.model, scratch)
    try:
        reader = GGUFReader(scratch, "r+")
        tensors = {t.name: t for t in reader.tensors}
        rng = random.Random(args.seed)

        def ablate(label, tensor, row, col):
            data = tensors[tensor].data  # numpy view in (rows, cols) order
            saved = data[row, col].copy()
            data[row, col] = 0
            reader.data.flush()
            ppl = perplexity(args.llm_quantize, scratch, args.data, args.chunks)
            data[row, col] = saved
            reader.data.flush()
            print(f"{label:<14} {tensor}[{row}, {col}] = {float(saved):.4g}: "
                  f"PPL {ppl[0]:.4f} +/- {ppl[1]:.4f}", flush=True)
            return ppl[0]

        base = perplexity(args.llm_quantize, scratch, args.data, args.chunks)
        print(f"baseline       PPL {base[0]:.4f} +/- {base[1]:.4f}", flush=True)
        for sw in found:
            ablate("super weight", sw["tensor"], sw["row"], sw["col"])
            rows, cols = tensors[sw["tensor"]].data.shape
            for _ in range(args.random):
                ablate("random weight", sw["tensor"], rng.randrange(rows), rng.randrange(cols))
        # All super weights at once: the paper's "remove the super weights" row.
        saved = []
        for sw in found:
            data = tensors[sw["tensor"]].data
            saved.append(data[sw["row"], sw["col"]].copy())
            data[sw["row"], sw["col"]] = 0
        reader.data.flush()
        ppl = perplexity(args.llm_quantize, scratch, args.data, args.chunks)
        print(f"all {len(found)} super weights zeroed: PPL {ppl[0]:.4f} +/- {ppl[1]:.4f}")
    finally:
        os.remove(scratch)


if __name__ == "__main__":
    main()
