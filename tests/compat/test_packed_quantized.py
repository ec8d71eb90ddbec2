"""Reading compressed-tensors `pack-quantized` checkpoints (the W4A16-style
layout llm-compressor writes for GPTQ, AWQ and RTN), built by the package's
own quantize + pack_to_int32 (packed_oracle.py, torch venv) from random
transformers checkpoints. Symmetric schemes: transformers + compressed-tensors
load the checkpoint and our logits on it equal theirs (Granite: Q/K rows
permuted on the way). Every scheme (2/3/4/8 bits, groups of 16/32 or per
channel, asymmetric zero points packed along the rows): our decoded weights
(`convert ... gguf --dtype f32`) equal the package's unpack + dequantize bit
for bit. Inconsistent shapes or unsupported widths are exit 6 naming the
tensor."""
import glob
import json
import random
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

HERE = Path(__file__).parent
LAYERS = {"self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
          "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
          "mlp.down_proj": "ffn_down"}


@pytest.fixture(scope="module")
def float_models(torch_python, shared, tmp_path_factory):
    out = {}
    for family in ("granite", "olmo2"):
        d = tmp_path_factory.mktemp(family)
        subprocess.run([torch_python, HERE / "family_oracle.py", family, d / "hf",
                        shared / "models/stories260K/tokenizer.model", "1,5,9", d / "unused.json"],
                       check=True, capture_output=True)
        out[family] = d / "hf"
    return out


def pack(torch_python, src, out, bits, group, sym, ids):
    subprocess.run([torch_python, HERE / "packed_oracle.py", src, out, str(bits), str(group), "1" if sym else "0",
                    ",".join(map(str, ids)), str(out) + ".json"], check=True, capture_output=True)
    return json.loads(Path(str(out) + ".json").read_text())


def our_logits(cli, model, ids):
    return np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])


@pytest.mark.parametrize("bits,group", [(4, 32), (8, 0)])
def test_symmetric_checkpoints_give_transformers_logits(cli, torch_python, float_models, tmp_path, bits, group):
    rng = random.Random(bits)
    ids = [1] + [rng.randint(3, 511) for _ in range(15)]
    ref = pack(torch_python, float_models["granite"], tmp_path / "packed", bits, group, True, ids)
    ref_logits = np.array(ref["logits"])
    ours = our_logits(cli, tmp_path / "packed", ids)
    assert np.max(np.abs(ours - ref_logits)) < 1e-5 * np.max(np.abs(ref_logits))
    original = our_logits(cli, float_models["granite"], ids)  # the quantization is there to be read
    assert np.max(np.abs(original - ref_logits)) > 1e-3 * np.max(np.abs(ref_logits))
    info = json.loads(cli("--format", "json", "info", tmp_path / "packed").stdout)
    assert "pack-quantized" in info["quantization"] and info["bits_per_weight"] < 20  # the files, not the f32 view


@pytest.mark.parametrize("bits,group", [(2, 32), (3, 16), (4, 32), (8, 0)])
def test_every_width_decodes_as_the_package_does(cli, torch_python, float_models, tmp_path, bits, group):
    ref = pack(torch_python, float_models["olmo2"], tmp_path / "packed", bits, group, False, [1, 2, 3])
    decoded = load_file(ref["decoded"])
    out = json.loads(cli("--format", "json", "convert", tmp_path / "packed", "gguf", "--dtype", "f32", "-o",
                         tmp_path).stdout)["output_path"]
    ours = {t.name: np.array(t.data) for t in gguf.GGUFReader(out).tensors}
    assert len(decoded) == 3 * 7
    for name, w in decoded.items():
        parts = name.split(".")
        gguf_name = f"blk.{parts[2]}.{LAYERS[parts[3] + '.' + parts[4]]}.weight"
        assert np.array_equal(ours[gguf_name].reshape(w.shape), w), name


def test_inconsistent_packed_tensors_are_exit_6_naming_them(cli, torch_python, float_models, tmp_path):
    ref = pack(torch_python, float_models["olmo2"], tmp_path / "packed", 4, 32, False, [1, 2, 3])
    ckpt = tmp_path / "packed"
    tensors = load_file(ckpt / "model.safetensors")

    def broken(name, value):
        d = tmp_path / name.replace(".", "_")
        d.mkdir()
        for f in ("config.json", "tokenizer.model"):
            (d / f).write_bytes((ckpt / f).read_bytes())
        save_file({**tensors, name: value}, d / "model.safetensors", metadata={"format": "pt"})
        return d

    scale = "model.layers.1.mlp.down_proj.weight_scale"
    zero = "model.layers.0.self_attn.q_proj.weight_zero_point"
    shape = "model.layers.2.mlp.up_proj.weight_shape"
    for name, value in [(scale, tensors[scale][:, :3]), (zero, tensors[zero][:1]),
                        (shape, np.array([128, 63], dtype=np.int64))]:
        proc = cli("quality", "logits", broken(name, value), "--ids", "1,2,3", check=False)
        module = name.rsplit(".", 1)[0]
        assert proc.returncode == 6 and module in proc.stderr, (name, proc.stderr)
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["quantization_config"]["config_groups"]["group_0"]["weights"]["num_bits"] = 5
    (ckpt / "config.json").write_text(json.dumps(cfg))
    proc = cli("quality", "logits", ckpt, "--ids", "1,2,3", check=False)
    assert proc.returncode == 6 and "5-bit" in proc.stderr
