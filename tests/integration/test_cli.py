"""Exit codes, JSON shapes and file hygiene of the CLI (docs/cli.md)."""
import json
import os
import shutil
import struct

import pytest


def error_object(proc):
    obj = json.loads(proc.stdout)
    assert obj["status"] == "error"
    assert set(obj) >= {"error_code", "error_type", "message", "suggestion"}
    assert obj["error_code"] == proc.returncode
    return obj


def test_version_and_help(cli):
    v = cli("--version")
    assert v.returncode == 0 and "llm-quantize" in v.stdout
    h = cli("--help")
    assert h.returncode == 0 and "quantize" in h.stdout and "info" in h.stdout
    q = cli("quantize", "--help")
    assert q.returncode == 0 and "--quant-level" in q.stdout


def test_quantize_result_json(cli, model_dir, tmp_path):
    proc, res = cli.json("quantize", model_dir, "gguf", "-q", "F16", "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    for key in ("status", "output_path", "format", "quantization_level", "file_size", "compression_ratio",
                "duration_seconds", "peak_memory_bytes", "validation_status", "metadata"):
        assert key in res
    assert res["status"] == "success" and res["validation_status"] == "valid"
    assert res["file_size"] == os.path.getsize(res["output_path"])
    assert res["metadata"]["original_dtype"] == "float32"
    assert res["metadata"]["layers_processed"] == 5
    assert 0.4 < res["compression_ratio"] < 0.7  # F32 -> F16 halves the 2-D weights
    assert os.path.basename(res["output_path"]) == "stories260K-F16.gguf"


def test_global_options_after_subcommand_and_verbose_tensors(cli, model_dir, tmp_path):
    proc = cli("quantize", model_dir, "gguf", "-q", "Q8_0", "-o", tmp_path, "-n", "x", "--format", "json",
               "--verbosity", "verbose")
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["output_path"].endswith("x.gguf")
    types = {t["name"]: t["type"] for t in res["tensors"]}
    assert types["blk.0.ffn_down.weight"] == "F16"  # 172-wide rows cannot be Q8_0
    assert types["blk.0.attn_q.weight"] == "Q8_0"
    assert types["blk.0.attn_norm.weight"] == "F32"


def test_missing_model_exit_3(cli, tmp_path):
    proc, _ = cli.json("quantize", tmp_path / "nope", "gguf", "-q", "F16", "-o", tmp_path)
    assert proc.returncode == 3
    assert error_object(proc)["error_type"] == "ModelNotFoundError"
    assert cli("info", tmp_path / "nope").returncode == 3


def test_bad_arguments_exit_2(cli, model_dir, tmp_path):
    assert cli("quantize", model_dir, "gguf").returncode == 2                      # -q missing
    proc, _ = cli.json("quantize", model_dir, "gguf", "-q", "Q9_X", "-o", tmp_path)
    assert proc.returncode == 2 and error_object(proc)
    assert cli("--format", "xml", "info", model_dir).returncode == 2
    assert cli("frobnicate").returncode == 2


def test_single_safetensors_file_is_refused_with_advice(cli, model_dir):
    proc, _ = cli.json("info", model_dir / "model.safetensors")
    assert proc.returncode == 2
    assert "directory" in error_object(proc)["suggestion"]


def test_unsupported_format_exit_8(cli, model_dir, tmp_path):
    proc, _ = cli.json("quantize", model_dir, "exl2", "-q", "4bit", "-o", tmp_path)
    assert proc.returncode == 8 and error_object(proc)
    assert list(tmp_path.iterdir()) == []


def test_unwritable_output_exit_1_and_nothing_written(cli, model_dir, tmp_path):
    proc, _ = cli.json("quantize", model_dir, "gguf", "-q", "F16", "-o", tmp_path / "missing-dir")
    assert proc.returncode == 1
    assert "does not exist" in error_object(proc)["message"]
    # A directory that exists but refuses new files, even for root.
    proc, _ = cli.json("quantize", model_dir, "gguf", "-q", "F16", "-o", "/proc/self")
    assert proc.returncode == 1
    assert "cannot create output file" in error_object(proc)["message"]


def test_corrupt_inputs_exit_6_and_leave_no_output(cli, shared, model_dir, tmp_path):
    src = tmp_path / "model"
    shutil.copytree(model_dir, src)
    st = src / "model.safetensors"
    data = st.read_bytes()
    st.write_bytes(data[: len(data) - 1000])  # truncated
    out = tmp_path / "out"
    out.mkdir()
    proc, _ = cli.json("quantize", src, "gguf", "-q", "F16", "-o", out)
    assert proc.returncode == 6
    assert "past the end" in error_object(proc)["message"]
    assert list(out.iterdir()) == []

    gguf = tmp_path / "bad.gguf"
    raw = bytearray((shared / "models/stories260K.gguf").read_bytes())
    raw[0:4] = b"GGUX"
    gguf.write_bytes(bytes(raw))
    proc, _ = cli.json("info", gguf)
    assert proc.returncode == 6 and "magic" in error_object(proc)["message"]


def test_interrupted_conversion_leaves_no_file(cli, model_dir, tmp_path):
    """A run that fails half-way (here: a tensor that cannot be mapped) leaves nothing at the output path."""
    src = tmp_path / "model"
    shutil.copytree(model_dir, src)
    cfg = json.loads((src / "config.json").read_text())
    cfg["architectures"] = ["GPTNeoXForCausalLM"]
    (src / "config.json").write_text(json.dumps(cfg))
    out = tmp_path / "out"
    out.mkdir()
    proc, _ = cli.json("quantize", src, "gguf", "-q", "F16", "-o", out)
    assert proc.returncode == 8
    assert list(out.iterdir()) == []


def shapes_param_count_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
    total = 0
    for name, e in header.items():
        if name == "__metadata__":
            continue
        count = 1
        for d in e["shape"]:
            count *= d
        total += count
    return total


def test_info_parameter_count_equals_shapes(cli, shared, model_dir, tmp_path):
    proc, info = cli.json("info", model_dir)
    assert proc.returncode == 0
    assert info["parameter_count"] == shapes_param_count_safetensors(model_dir / "model.safetensors")
    assert (info["architecture"], info["hidden_size"], info["num_layers"], info["num_heads"], info["vocab_size"]) == \
        ("LlamaForCausalLM", 64, 5, 8, 512)
    # GGUF: llama.cpp's own file (it carries an extra output.weight copy)
    from gguf import GGUFReader
    reader = GGUFReader(str(shared / "models/stories260K.gguf"))
    proc, info = cli.json("info", "--tensors", shared / "models/stories260K.gguf")
    assert proc.returncode == 0
    assert info["parameter_count"] == sum(int(t.n_elements) for t in reader.tensors)
    assert info["file_size"] == os.path.getsize(shared / "models/stories260K.gguf")
    assert len(info["tensors"]) == len(reader.tensors)
    assert info["bits_per_weight"] == pytest.approx(32.0)


def test_info_human_lists_tensors(cli, shared):
    proc = cli("info", "--tensors", shared / "golden/stories260K/quantized/stories260K-Q4_K_M.gguf")
    assert proc.returncode == 0
    assert "Q4_K_M" in proc.stdout  # general.file_type name
    assert "blk.0.ffn_down.weight" in proc.stdout


def test_requantize_gguf_input(cli, shared, tmp_path):
    """A GGUF input (llama.cpp's F32 file) converts too; metadata is carried over."""
    proc, res = cli.json("quantize", shared / "models/stories260K.gguf", "gguf", "-q", "F16", "-o", tmp_path)
    assert proc.returncode == 0, proc.stderr
    from gguf import GGUFReader
    r = GGUFReader(res["output_path"])
    assert int(r.fields["general.file_type"].parts[-1][0]) == 1
    assert len(r.tensors) == 48


def test_unknown_family_info_prints_what_it_can_and_calibrated_commands_exit_8(cli, model_dir, tmp_path):
    """A checkpoint of a family we cannot convert: `info` reads its config and
    safetensors headers and says why it stops there; commands that need the
    forward pass exit 8 naming the architecture and the supported list."""
    ckpt = tmp_path / "stablelm"
    shutil.copytree(model_dir, ckpt)
    cfg = json.loads((ckpt / "config.json").read_text())
    cfg["architectures"] = ["StableLmForCausalLM"]
    (ckpt / "config.json").write_text(json.dumps(cfg))
    proc, res = cli.json("info", ckpt, "--tensors")
    assert proc.returncode == 0, proc.stderr
    assert res["architecture"] == "StableLmForCausalLM" and res["num_layers"] == cfg["num_hidden_layers"]
    assert res["hidden_size"] == cfg["hidden_size"] and res["parameter_count"] > 0
    assert "model.layers.0.self_attn.q_proj.weight" in {t["name"] for t in res["tensors"]}
    assert "not supported" in res["note"] and "Phi3ForCausalLM" in res["note"]
    for args in (("quality", "perplexity", ckpt, "--data", model_dir / "tokenizer.model", "--ctx", "16"),
                 ("analyze", ckpt, "-o", tmp_path / "x.dat")):
        proc = cli(*args)
        assert proc.returncode == 8, args
        assert "StableLmForCausalLM" in proc.stderr and "GraniteForCausalLM" in proc.stderr
