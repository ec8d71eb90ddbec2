"""Independent reading of a weight-only pack-quantized checkpoint (GPTQ / RTN
W4A16 and friends), run with the PyPI torch + transformers + compressed-tensors
stack (scripts/install-torch-oracle.sh).

    python wo_oracle.py CHECKPOINT_DIR FLOAT_DIR IDS OUT.json

Writes:
- logits: transformers loading the checkpoint (compressed-tensors decompresses
  it), or load_error where transformers cannot (asymmetric schemes);
- reference_quantization_config: what compressed-tensors writes for the
  checkpoint's weight scheme (its own serialisation, keys sorted);
- rtn_mismatch: per quantized linear, the fraction of integers that differ
  from compressed-tensors' own min-max observer + quantize() applied to the
  float model's weight (0 for a round-to-nearest checkpoint written as the
  package would; GPTQ moves many);
- package_version.
"""
import glob
import json
import os
import sys

import compressed_tensors
from ct_reference import reference_quantization_config
import torch
from compressed_tensors.compressors.pack_quantized.helpers import unpack_from_int32
from compressed_tensors.quantization import QuantizationArgs, QuantizationConfig, QuantizationScheme, QuantizationStatus
from compressed_tensors.quantization.lifecycle.forward import quantize
from compressed_tensors.quantization.utils import calculate_qparams
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM


def tensors_of(d):
    out = {}
    for f in glob.glob(os.path.join(d, "*.safetensors")):
        out.update(load_file(f))
    return out


def main():
    ckpt, float_dir, ids, out = sys.argv[1], sys.argv[2], [int(t) for t in sys.argv[3].split(",")], sys.argv[4]
    result = {}
    try:  # transformers 5.25 cannot load packed asymmetric zero points (its shape check fails)
        model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32).eval()
        with torch.no_grad():
            result["logits"] = model(torch.tensor([ids])).logits[0].double().tolist()
    except RuntimeError as e:
        result["load_error"] = str(e)[-300:]

    cfg = json.load(open(os.path.join(ckpt, "config.json")))["quantization_config"]
    w = cfg["config_groups"]["group_0"]["weights"]
    args = QuantizationArgs(**{k: v for k, v in w.items() if v is not None})
    qc = QuantizationConfig(config_groups={"group_0": QuantizationScheme(targets=["Linear"], weights=args)},
                            ignore=["lm_head"], format="pack-quantized", quantization_status=QuantizationStatus.COMPRESSED)
    result["reference_quantization_config"] = reference_quantization_config(qc)
    result["package_version"] = compressed_tensors.__version__

    ours, floats = tensors_of(ckpt), tensors_of(float_dir)
    mismatch = {}
    for name in sorted(k for k in ours if k.endswith(".weight_packed")):
        module = name[: -len(".weight_packed")]
        weight = floats[module + ".weight"].float()
        rows, cols = weight.shape
        group = w["group_size"] if w["strategy"] == "group" else cols
        g = weight.reshape(rows, cols // group, group)
        scale, zero = calculate_qparams(g.amin(-1), g.amax(-1), args)
        q_ref = quantize(weight, scale, zero, args, dtype=torch.int8)
        q_ours = unpack_from_int32(ours[name], w["num_bits"], torch.Size([rows, cols]))
        mismatch[module] = float((q_ref != q_ours).float().mean())
    result["rtn_mismatch"] = mismatch
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
