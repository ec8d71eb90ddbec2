"""`quantize ... --layout gptq|awq`: GPTQ's qweight/qzeros/scales/g_idx and
AutoAWQ's GEMM tensors, decoded here in numpy from the layouts as AutoGPTQ
and AutoAWQ define them (packing along the inputs vs along the outputs in the
order 0 2 4 6 1 3 5 7, GPTQ's zeros stored minus one), on a tiny Qwen2 whose
float forward pass tiny_models.py computes independently: the integers are
the float weights rounded (round to nearest: within half a step), and the
logits we compute from the checkpoint equal that forward pass on the decoded
weights. transformers loads both (through GPTQModel's CPU kernels, its
venv from scripts/install-gptqmodel-oracle.sh) and computes our logits.
Corrupt tensors exit 6 naming the tensor."""
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from tiny_models import forward, make_model

HERE = Path(__file__).parent
IDS = [5, 40, 7, 99, 12, 250, 3, 64, 31, 18]
AWQ_ORDER = [0, 2, 4, 6, 1, 3, 5, 7]


def unpack(words, n, bits):
    """n unsigned values of `bits` bits from each row's little-endian int32 stream."""
    stream = np.unpackbits(np.ascontiguousarray(words, dtype="<i4").view(np.uint8), axis=-1, bitorder="little")
    stream = stream[..., : n * bits].reshape(*words.shape[:-1], n, bits).astype(np.int64)
    return (stream * (1 << np.arange(bits))).sum(-1)


def decode_gptq(st, module, bits, zeros_minus_one=True):
    qweight, qzeros = st[module + ".qweight"], st[module + ".qzeros"]
    scales, g_idx = st[module + ".scales"].astype(np.float32), st[module + ".g_idx"]
    n_in, n_out = qweight.shape[0] * 32 // bits, qweight.shape[1]
    q = unpack(qweight.T, n_in, bits)                      # [out, in]: each output's values along the inputs
    z = unpack(qzeros, n_out, bits)                        # [groups, out]: along the outputs
    if zeros_minus_one:
        z = (z + 1) & ((1 << bits) - 1)
    w = (q - z[g_idx].T) * scales[g_idx].T
    return w.astype(np.float16).astype(np.float32), q, z, scales, g_idx


def decode_awq(st, module):
    qweight, qzeros, scales = st[module + ".qweight"], st[module + ".qzeros"], st[module + ".scales"].astype(np.float32)
    n_in, n_out = qweight.shape[0], qweight.shape[1] * 8
    group = n_in // scales.shape[0]

    def nibbles(words):  # [rows, out/8] -> [rows, out]
        out = np.zeros((words.shape[0], words.shape[1] * 8), dtype=np.int64)
        u = words.astype(np.int64) & 0xFFFFFFFF
        for k, col in enumerate(AWQ_ORDER):
            out[:, col::8] = (u >> (4 * k)) & 15
        return out

    q, z = nibbles(qweight), nibbles(qzeros)               # [in, out], [groups, out]
    g = np.arange(n_in) // group
    w = ((q - z[g]) * scales[g]).T                         # [out, in]
    return w.astype(np.float16).astype(np.float32), q.T, z, scales, g


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    d = tmp_path_factory.mktemp("qwen2")
    cfg, W, _, _ = make_model(d, "Qwen2ForCausalLM", seed=5)
    return d, cfg, W


LINEARS = ["self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
           "mlp.gate_proj", "mlp.up_proj", "mlp.down_proj"]


def logits(cli, model):
    return np.array(json.loads(cli("--format", "json", "quality", "logits", model, "--ids",
                                   ",".join(map(str, IDS))).stdout)["logits"])


@pytest.mark.parametrize("fmt,flags,bits", [
    ("gptq", ["--rtn", "--group-size", "32"], 4),
    ("gptq", ["--rtn", "-q", "8bit", "--group-size", "-1", "--asym"], 8),
    ("gptq", ["--rtn", "-q", "2bit", "--group-size", "16", "--asym"], 2),
    ("gptq", ["--group-size", "16", "--calibration-samples", "4", "--calibration-seq-len", "32"], 4),
])
def test_gptq_layout_decodes_to_what_we_compute(cli, shared, tiny, tmp_path, fmt, flags, bits):
    d, cfg, W = tiny
    result = json.loads(cli("--format", "json", "quantize", d, fmt, *flags, "--layout", "gptq", "-o", tmp_path, "-n", "q",
                            "--calibration-data", shared / "data/calib.txt").stdout)
    assert result["quantization_level"].endswith(", GPTQ layout")
    ckpt = tmp_path / "q"
    qc = json.loads((ckpt / "config.json").read_text())["quantization_config"]
    group = int(flags[flags.index("--group-size") + 1])
    assert qc["quant_method"] == "gptq" and qc["bits"] == bits and qc["group_size"] == group
    assert qc["sym"] == ("--asym" not in flags) and qc["checkpoint_format"] == "gptq" and qc["desc_act"] is False
    st = load_file(ckpt / "model.safetensors")
    decoded = dict(W)
    for layer in range(2):
        for lin in LINEARS:
            m = f"model.layers.{layer}.{lin}"
            assert m + ".weight" not in st and st[m + ".scales"].dtype == np.float16
            w, q, z, scales, g_idx = decode_gptq(st, m, bits)
            n_out, n_in = W[m + ".weight"].shape
            assert q.shape == (n_out, n_in) and q.min() >= 0 and q.max() < (1 << bits)
            assert np.array_equal(g_idx, np.arange(n_in) // (group if group > 0 else n_in))
            if "--asym" not in flags:
                assert (z == 1 << (bits - 1)).all()        # symmetric: the middle of the range (0x77777777 at 4 bits)
            if "--rtn" in flags:                           # the nearest step to each float weight
                step = scales[g_idx].T                     # (f16 scales and products: a little over half a step)
                assert (np.abs(w - W[m + ".weight"]) <= 0.502 * step + 1e-3 * np.abs(W[m + ".weight"])).all()
            decoded[m + ".weight"] = w
    for k in st:                                           # the float tensors as written
        if not k.endswith((".qweight", ".qzeros", ".scales", ".g_idx")):
            decoded[k] = st[k].astype(np.float32)
    theirs = forward(cfg, decoded, IDS)
    ours = logits(cli, ckpt)
    assert np.abs(ours - theirs).max() < 1e-4 * np.abs(theirs).max()
    assert np.abs(forward(cfg, W, IDS) - theirs).max() > 1e-3 * np.abs(theirs).max()  # quantization is visible


@pytest.mark.parametrize("flags", [[], ["--sym"]])
def test_awq_layout_decodes_to_what_we_compute(cli, shared, tiny, tmp_path, flags):
    d, cfg, W = tiny
    cli("quantize", d, "awq", "--group-size", "32", *flags, "--layout", "awq", "-o", tmp_path, "-n", "q",
        "--calibration-data", shared / "data/calib.txt", "--calibration-samples", "4", "--calibration-seq-len", "32")
    ckpt = tmp_path / "q"
    qc = json.loads((ckpt / "config.json").read_text())["quantization_config"]
    assert qc == {"bits": 4, "group_size": 32, "modules_to_not_convert": None, "quant_method": "awq",
                  "version": "gemm", "zero_point": True}
    st = load_file(ckpt / "model.safetensors")
    decoded = {k: v.astype(np.float32) for k, v in st.items() if not k.endswith((".qweight", ".qzeros", ".scales"))}
    decoded["model.embed_tokens.weight"] = decoded.get("model.embed_tokens.weight", W["model.embed_tokens.weight"])
    for layer in range(2):
        for lin in LINEARS:
            m = f"model.layers.{layer}.{lin}"
            w, q, z, scales, _ = decode_awq(st, m)
            assert q.shape == W[m + ".weight"].shape and scales.shape == (W[m + ".weight"].shape[1] // 32, q.shape[0])
            if flags:
                assert (z == 8).all()
            decoded[m + ".weight"] = w
    theirs = forward(cfg, decoded, IDS)
    assert np.abs(logits(cli, ckpt) - theirs).max() < 1e-4 * np.abs(theirs).max()


@pytest.mark.slow
@pytest.mark.parametrize("fmt,flags", [("gptq", ["--group-size", "32"]), ("gptq", ["--group-size", "32", "--asym"]),
                                       ("awq", ["--group-size", "32"])])
def test_transformers_loads_them_through_gptqmodel(cli, shared, tiny, gptqmodel_python, tmp_path, fmt, flags):
    d, _, _ = tiny
    cli("quantize", d, fmt, *flags, "--layout", fmt, "-o", tmp_path, "-n", "q", "--calibration-data",
        shared / "data/calib.txt", "--calibration-samples", "4", "--calibration-seq-len", "32")
    out = tmp_path / "theirs.json"
    subprocess.run([gptqmodel_python, HERE / "hf_logits_oracle.py", tmp_path / "q", ",".join(map(str, IDS)), out],
                   check=True, capture_output=True)
    ref = json.loads(out.read_text())
    assert ref["q_proj_class"].startswith("gptqmodel.")    # their quantized kernel ran, not a float fallback
    theirs = np.array(ref["logits"])
    # Their CPU kernels keep the product scale * (q - zero) in f32, ours rounds it to f16 as the GPU kernels do.
    assert np.abs(logits(cli, tmp_path / "q") - theirs).max() < 2e-4 * np.abs(theirs).max()


def test_shapes_the_layouts_cannot_hold_exit_2(cli, shared, tmp_path):
    """stories260K's 172-wide feed-forward: 4-bit GPTQ words and AWQ's groups of 8 outputs do not fit."""
    for fmt, extra in (("gptq", ["--rtn"]), ("awq", [])):
        proc = cli("--format", "json", "quantize", shared / "models/stories260K", fmt, *extra, "--group-size", "4",
                   "--layout", fmt, "-o", tmp_path, check=False)
        assert proc.returncode == 2, proc.stderr
        err = json.loads(proc.stdout or proc.stderr)
        assert "ffn" in err["message"] and "compressed-tensors" in err["suggestion"]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("corrupt,names", [
    ("g_idx", "g_idx"), ("qzeros", "qzeros"), ("scales", "scales"), ("bits", "5-bit"),
])
def test_corrupt_checkpoints_exit_6_naming_the_tensor(cli, tiny, tmp_path, corrupt, names):
    d, _, _ = tiny
    cli("quantize", d, "gptq", "--rtn", "--group-size", "32", "--layout", "gptq", "-o", tmp_path, "-n", "q")
    ckpt = tmp_path / "q"
    st = load_file(ckpt / "model.safetensors")
    m = "model.layers.1.mlp.down_proj"
    if corrupt == "g_idx":
        st[m + ".g_idx"] = st[m + ".g_idx"].copy()
        st[m + ".g_idx"][7] = 3                            # 96 inputs in groups of 32: groups 0..2
    elif corrupt == "qzeros":
        st[m + ".qzeros"] = st[m + ".qzeros"][:, :-1].copy()
    elif corrupt == "scales":
        st[m + ".scales"] = st[m + ".scales"][:, :5].copy()
    else:
        cfg = json.loads((ckpt / "config.json").read_text())
        cfg["quantization_config"]["bits"] = 5
        (ckpt / "config.json").write_text(json.dumps(cfg))
    save_file(st, str(ckpt / "model.safetensors"), metadata={"format": "pt"})
    proc = cli("--format", "json", "quality", "logits", ckpt, "--ids", "1,2,3", check=False)
    assert proc.returncode == 6, proc.stderr
    message = json.loads(proc.stdout or proc.stderr)["message"]
    assert names in message and (corrupt == "bits" or m in message)
