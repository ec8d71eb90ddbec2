"""What the family tests (test_moe.py, test_ssm.py) ask of the CLI: logits for ids, a conversion, and
how far two sets of logits are apart."""
import json

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
