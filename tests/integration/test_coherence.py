"""`quality coherence`: a sound model passes; a model whose blocks were
destroyed (all attention/FFN weights zeroed) repeats itself and exits 12."""
import json
import shutil

import numpy as np
from gguf import GGUFReader


def test_sound_model_passes(cli, shared):
    proc, res = cli.json("quality", "coherence", shared / "golden/stories260K/quantized/stories260K-Q8_0.gguf",
                         "--reference", shared / "models/stories260K", "--max-tokens", "32")
    assert proc.returncode == 0, proc.stderr
    assert res["coherence_score"] > 0.8
    assert len(res["samples"]) == 3 and res["samples"][0]["continuation"].startswith(",")


def test_destroyed_model_fails_with_12(cli, shared, tmp_path):
    broken = tmp_path / "broken.gguf"
    shutil.copy(shared / "models/stories260K.gguf", broken)
    reader = GGUFReader(str(broken), "r+")
    for t in reader.tensors:
        if t.name.startswith("blk.") and not t.name.endswith("norm.weight"):
            t.data[...] = 0
    del reader
    proc, res = cli.json("quality", "coherence", broken, "--reference", shared / "models/stories260K.gguf",
                         "--max-tokens", "32")
    assert proc.returncode == 12
    assert res["error_type"] == "CoherenceCheckError" and "coherence" in res["message"]
