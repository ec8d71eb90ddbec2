"""Run in the torch venv: a compressed-tensors `pack-quantized` (weight-only,
W{bits}A16) checkpoint written with the package's own quantize and
pack_to_int32 from a float checkpoint; the weights as the package decodes them
(unpack_from_int32 + dequantize) in OUT.json's "decoded" (a safetensors file);
for symmetric schemes also transformers' float32 logits on the checkpoint
(compressed-tensors decompressing it at load; transformers 5.25 cannot load
packed zero points, so asymmetric checkpoints are checked by their decoding).

  packed_oracle.py SRC_HF_DIR OUT_DIR BITS GROUP(0 = per channel) SYM(1|0) IDS OUT.json
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32, unpack_from_int32
from compressed_tensors.quantization import (QuantizationArgs, QuantizationConfig, QuantizationScheme,
                                             QuantizationStatus)
from compressed_tensors.quantization.lifecycle.forward import dequantize, quantize
from compressed_tensors.quantization.utils.helpers import calculate_qparams
from safetensors.torch import load_file, save_file
from transformers import AutoModelForCausalLM


def main():
    src, out, bits, group, sym, ids, logits_path = sys.argv[1:8]
    bits, group, sym = int(bits), int(group), sym == "1"
    out = Path(out)
    out.mkdir(parents=True)
    args = QuantizationArgs(num_bits=bits, type="int", symmetric=sym, strategy="group" if group else "channel",
                            group_size=group or None)
    scheme = QuantizationScheme(targets=["Linear"], weights=args)
    state = {}
    for f in Path(src).glob("*.safetensors"):
        state.update(load_file(f))
    packed, decoded = {}, {}
    for name, w in state.items():
        if not (name.endswith("proj.weight") and w.ndim == 2):
            packed[name] = w
            continue
        module = name[: -len(".weight")]
        cols = w.reshape(w.shape[0], -1, group) if group else w.unsqueeze(1)
        scale, zp = calculate_qparams(cols.amin(-1), cols.amax(-1), args)
        q = quantize(w, scale, zp, args, dtype=torch.int8)
        packed[module + ".weight_packed"] = pack_to_int32(q, bits)
        packed[module + ".weight_scale"] = scale.to(w.dtype)
        packed[module + ".weight_shape"] = torch.tensor(w.shape)
        if not sym:
            packed[module + ".weight_zero_point"] = pack_to_int32(zp.to(torch.int8), bits, packed_dim=0)
        # The package's own decoding of what it packed.
        q_back = unpack_from_int32(packed[module + ".weight_packed"], bits, w.shape)
        zp_back = None if sym else unpack_from_int32(packed[module + ".weight_zero_point"], bits, scale.shape,
                                                     packed_dim=0)
        decoded[name] = dequantize(q_back, packed[module + ".weight_scale"], zp_back, args).float().contiguous()
    save_file(packed, out / "model.safetensors", metadata={"format": "pt"})
    save_file(decoded, str(logits_path) + ".decoded.safetensors")
    config = json.load(open(Path(src) / "config.json"))
    qc = QuantizationConfig(config_groups={"group_0": scheme}, ignore=["lm_head"], format="pack-quantized",
                            quantization_status=QuantizationStatus.COMPRESSED)
    config["quantization_config"] = qc.model_dump(exclude_none=False)
    config["quantization_config"]["quant_method"] = "compressed-tensors"
    json.dump(config, open(out / "config.json", "w"), indent=2, default=str)
    for f in ("tokenizer.model", "tokenizer.json", "tokenizer_config.json"):
        if (Path(src) / f).exists():
            shutil.copy(Path(src) / f, out / f)
    result = {"decoded": str(logits_path) + ".decoded.safetensors"}
    if sym:
        model = AutoModelForCausalLM.from_pretrained(out, dtype=torch.float32).eval()
        with torch.no_grad():
            result["logits"] = model(torch.tensor([[int(x) for x in ids.split(",")]])).logits[0].double().tolist()
    json.dump(result, open(logits_path, "w"))


if __name__ == "__main__":
    main()
