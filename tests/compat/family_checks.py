"""What the family tests (test_moe.py, test_ssm.py) share: their checkpoints and F32 GGUFs built once
per family, logits from the CLI, a conversion, and how far two sets of logits are apart."""
import json
import random
import subprocess
from pathlib import Path

import numpy as np


def logits(cli, model, ids):
    return np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])


def convert(cli, model, out_dir, qtype="F32", *extra):
    """`quantize MODEL gguf -q QTYPE` into out_dir (made if absent); returns the output path."""
    out_dir.mkdir(exist_ok=True)
    return json.loads(cli("--format", "json", "quantize", model, "gguf", "-q", qtype, "-o", out_dir,
                          *extra).stdout)["output_path"]


def rel_err(a, b):
    """The largest difference relative to the largest reference value."""
    return np.max(np.abs(a - b)) / np.max(np.abs(b))


def family_builder(torch_python, shared, tmp_path_factory, n_ids, seed):
    """built(family) -> (checkpoint directory, ids, transformers' logits): family_oracle.py run once per
    family on n_ids random ids (the first is BOS)."""
    oracle = Path(__file__).with_name("family_oracle.py")
    cache = {}

    def get(family):
        if family not in cache:
            d = tmp_path_factory.mktemp(f"{family}_hf")
            rng = random.Random(seed)
            ids = [1] + [rng.randint(3, 511) for _ in range(n_ids - 1)]
            subprocess.run([torch_python, oracle, family, d / "hf", shared / "models/stories260K/tokenizer.model",
                            ",".join(map(str, ids)), d / "ref.json"], check=True, capture_output=True)
            cache[family] = d / "hf", ids, np.array(json.loads((d / "ref.json").read_text())["logits"])
        return cache[family]
    return get


def gguf_builder(cli, built, tmp_path_factory):
    """f32_gguf(family) -> our F32 GGUF of built(family)'s checkpoint, converted once."""
    cache = {}

    def get(family):
        if family not in cache:
            cache[family] = convert(cli, built(family)[0], tmp_path_factory.mktemp(f"{family}_gguf"))
        return cache[family]
    return get
