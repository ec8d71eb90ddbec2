"""Independent reading of a W8A8 compressed-tensors checkpoint, run with the
PyPI torch + transformers + compressed-tensors stack (a separate virtual
environment, see scripts/install-torch-oracle.sh).

    python ct_oracle.py CHECKPOINT_DIR IDS OUT.json [CHUNKS.json]

Writes:
- runtime_logits: transformers loading the checkpoint as compressed-tensors
  runs it (int8 weights decompressed, activations fake-quantized by the package);
- emulated_logits: weights decompressed by compressed-tensors (dequantize=True),
  activations quantized here in torch with compressed-tensors' rules
  (per token absmax/127.5, or the stored static per-tensor input_scale;
  clamp, round half to even), lm_head left in float;
- reference_quantization_config: what compressed-tensors itself writes for
  llm-compressor's W8A8 preset with the checkpoint's activation scheme;
- runtime_perplexity (with CHUNKS.json, a list of token-id chunks): the
  loaded checkpoint's perplexity over them as llama-perplexity scores a chunk
  (the second half of each, predicting the next token).
"""
import json
import sys

import compressed_tensors
from ct_reference import reference_quantization_config
import torch
from compressed_tensors.quantization import (QuantizationArgs, QuantizationConfig, QuantizationScheme,
                                             QuantizationStatus, preset_name_to_scheme)
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM
from transformers.utils.quantization_config import CompressedTensorsConfig
import glob
import os


def fake_quant(x, scale):
    return torch.round(torch.clamp(x / scale, -128, 127)) * scale


def main():
    ckpt, ids, out = sys.argv[1], [int(t) for t in sys.argv[2].split(",")], sys.argv[3]
    tokens = torch.tensor([ids])
    result = {}

    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32)
    with torch.no_grad():
        result["runtime_logits"] = model(tokens).logits[0].tolist()
        if len(sys.argv) > 4:
            nll, n = 0.0, 0
            for chunk in json.load(open(sys.argv[4])):
                logp = torch.log_softmax(model(torch.tensor([chunk])).logits[0].double(), dim=-1)
                for j in range(len(chunk) // 2, len(chunk) - 1):
                    nll -= logp[j, chunk[j + 1]].item()
                    n += 1
            result["runtime_perplexity"] = float(torch.exp(torch.tensor(nll / n)))

    tensors = {}
    for f in glob.glob(os.path.join(ckpt, "*.safetensors")):
        tensors.update(load_file(f))
    model = AutoModelForCausalLM.from_pretrained(ckpt, dtype=torch.float32,
                                                 quantization_config=CompressedTensorsConfig(run_compressed=False))
    for name, mod in model.named_modules():
        if not isinstance(mod, torch.nn.Linear) or name == "lm_head":
            continue
        static = tensors.get(name + ".input_scale")
        if static is not None:
            s = static.float().reshape(())
            mod.register_forward_pre_hook(lambda m, a, s=s: (fake_quant(a[0], s.to(a[0].dtype)),))
        else:
            def per_token(m, a):
                x = a[0]
                s = (x.abs().amax(dim=-1, keepdim=True) / 127.5).clamp(min=torch.finfo(torch.float32).eps)
                s = s.float().to(x.dtype)  # the scale in f32, as stored and used by an int8 engine
                return (fake_quant(x, s),)
            mod.register_forward_pre_hook(per_token)
    with torch.no_grad():
        result["emulated_logits"] = model(tokens).logits[0].tolist()
        # The same in float64: how far two correct pipelines drift apart when
        # an activation lands on the other side of a rounding step.
        result["emulated_logits_f64"] = model.double()(tokens).logits[0].tolist()

    cfg = json.load(open(os.path.join(ckpt, "config.json")))["quantization_config"]
    dynamic = cfg["config_groups"]["group_0"]["input_activations"]["dynamic"]
    scheme = preset_name_to_scheme("W8A8", ["Linear"])
    if not dynamic:
        scheme.input_activations = QuantizationArgs(num_bits=8, type="int", symmetric=True, strategy="tensor",
                                                    dynamic=False)
    qc = QuantizationConfig(config_groups={"group_0": scheme}, ignore=["lm_head"], format="int-quantized",
                            quantization_status=QuantizationStatus.COMPRESSED)
    result["reference_quantization_config"] = reference_quantization_config(qc)
    result["package_version"] = compressed_tensors.__version__
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main()
