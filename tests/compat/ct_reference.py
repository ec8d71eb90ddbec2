"""What compressed-tensors itself writes into config.json for a
QuantizationConfig (its ModelCompressor.update_config, keys as it dumps them);
shared by the oracles run in the torch venv."""
import json
import os
import tempfile

from compressed_tensors.compressors import ModelCompressor


def reference_quantization_config(qc):
    with tempfile.TemporaryDirectory() as d:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump({}, f)
        ModelCompressor(quantization_config=qc).update_config(d)
        return json.load(open(os.path.join(d, "config.json")))["quantization_config"]
