"""W8A8 checkpoints against the PyPI compressed-tensors + transformers stack:
its config is what compressed-tensors writes for llm-compressor's W8A8
preset, transformers loads it, and its logits equal ours. Where an
activation sits on an int8 rounding boundary, an ulp of difference between
two float pipelines flips it one step and the change travels to every later
position; so the first position must agree to float precision, and the rest
within the drift the oracle itself shows between float32 and float64.
"""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

IDS = "1,400,20,30,50,60,70,80,90,100,200,300,35,45,55,65"


def logits(cli, model):
    out = cli("quality", "logits", model, "--ids", IDS).stdout
    return np.array(json.loads(out)["logits"], dtype=np.float64)


@pytest.mark.parametrize("source,flags", [
    ("models/stories260K", ["--smoothquant"]),
    ("models/stories260K", ["--smoothquant", "--alpha", "auto", "--static-activations"]),
    ("models/stories260K.gguf", ["--smoothquant", "--alpha", "0.8"]),
    ("models/stories260K.gguf", []),
])
def test_w8a8_checkpoint_matches_compressed_tensors(cli, shared, tmp_path, torch_python, source, flags):
    cli("quantize", shared / source, "smoothquant", *flags, "-o", tmp_path, "-n", "w8a8",
        "--calibration-samples", "8", "--calibration-seq-len", "128")
    ckpt = tmp_path / "w8a8"
    oracle = tmp_path / "oracle.json"
    subprocess.run([torch_python, str(Path(__file__).with_name("ct_oracle.py")), str(ckpt), IDS, str(oracle)],
                   check=True, capture_output=True, text=True)
    ref = json.loads(oracle.read_text())

    ours_cfg = json.loads((ckpt / "config.json").read_text())["quantization_config"]
    ref_cfg = ref["reference_quantization_config"]
    # The version we write is the pinned oracle's (scripts/requirements-torch.txt); after
    # upgrading the pin, check the layout below, then move CompressedTensorsConfig::version.
    assert ours_cfg.pop("version") == ref_cfg.pop("version") == ref["package_version"], \
        "compressed-tensors pin and the version our writer targets differ"
    assert ours_cfg == ref_cfg

    ours = logits(cli, ckpt)
    emulated = np.array(ref["emulated_logits"])
    noise = np.abs(np.array(ref["emulated_logits_f64"]) - emulated).mean()
    assert np.abs(np.array(ref["runtime_logits"]) - emulated).mean() <= noise  # the package runs what we emulate
    assert emulated.shape == ours.shape
    assert np.abs(ours[0] - emulated[0]).max() < 1e-4  # no mixing yet: only float rounding differs
    diff = np.abs(ours - emulated).mean()
    assert diff <= 1.5 * noise + 1e-3, (diff, noise)
    assert (emulated.argmax(-1) == ours.argmax(-1)).mean() >= 0.8
    # W8A8 changes the model measurably more than the disagreement does.
    original = logits(cli, shared / source)
    assert np.abs(original - emulated).mean() > diff
