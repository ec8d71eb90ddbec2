"""`convert`: a GGUF file as a Hugging Face checkpoint and back. stories260K
F32 GGUF -> safetensors -> GGUF gives the same tensor bytes; transformers
loads the safetensors directory and its logits equal the shared golden
logits (a float64 forward of the original checkpoint) within 1e-4; the same
for a Gemma 3 GGUF of a random transformers checkpoint (norms as 1 + w,
sandwich norm names, its config written from the GGUF metadata). An existing
output without --force is exit 9, nothing touched; a GGUF asked to become GGUF
or gptq/awq is exit 8."""
import json
import subprocess
from pathlib import Path

import gguf
import numpy as np

HERE = Path(__file__).parent


def hf_logits(torch_python, ckpt, ids, tmp_path):
    out = tmp_path / "hf_logits.json"
    subprocess.run([torch_python, HERE / "hf_logits_oracle.py", ckpt, ",".join(map(str, ids)), out], check=True,
                   capture_output=True)
    return np.array(json.loads(out.read_text())["logits"])


def test_gguf_to_hf_and_back_is_lossless_and_loads_in_transformers(cli, shared, torch_python, tmp_path):
    src = shared / "models/stories260K.gguf"
    res = json.loads(cli("--format", "json", "convert", src, "hf", "-o", tmp_path).stdout)
    ckpt = Path(res["output_path"])
    assert res["torch_dtype"] == "float32" and {"config.json", "model.safetensors", "tokenizer.model"} <= set(res["files"])
    back = json.loads(cli("--format", "json", "convert", ckpt, "gguf", "-o", tmp_path).stdout)["output_path"]
    a = {t.name: t for t in gguf.GGUFReader(src).tensors}
    b = {t.name: t for t in gguf.GGUFReader(back).tensors}
    assert set(a) == set(b)
    for name in a:
        assert a[name].tensor_type == b[name].tensor_type and a[name].data.tobytes() == b[name].data.tobytes(), name
    golden = np.load(shared / "golden/stories260K/logits-eval64.npy")
    ids = json.loads((shared / "golden/stories260K/logits-eval64.json").read_text())["tokens"]
    got = hf_logits(torch_python, ckpt, ids, tmp_path)
    assert np.max(np.abs(got - golden)) < 1e-4
    # The rebuilt tokenizer.model tokenizes as the GGUF vocabulary does.
    text = "Once upon a time, there was a little dog."
    assert json.loads(cli("tokenize", ckpt, "--text", text).stdout)["ids"] == \
        json.loads(cli("tokenize", src, "--text", text).stdout)["ids"]


def test_gemma3_gguf_to_hf_loads_as_the_same_model(cli, shared, torch_python, tmp_path):
    subprocess.run([torch_python, HERE / "family_oracle.py", "gemma3", tmp_path / "orig",
                    shared / "models/stories260K/tokenizer.model", "1,5,9", tmp_path / "unused.json"],
                   check=True, capture_output=True)
    g = json.loads(cli("--format", "json", "quantize", tmp_path / "orig", "gguf", "-q", "F32", "-o", tmp_path).stdout)
    ckpt = Path(json.loads(cli("--format", "json", "convert", g["output_path"], "hf", "-o", tmp_path, "-n",
                               "back").stdout)["output_path"])
    assert json.loads((ckpt / "config.json").read_text())["model_type"] == "gemma3_text"
    ids = [1, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200, 220, 240, 260]
    ref = hf_logits(torch_python, tmp_path / "orig", ids, tmp_path)
    got = hf_logits(torch_python, ckpt, ids, tmp_path)
    assert np.max(np.abs(got - ref)) < 1e-5 * np.max(np.abs(ref))


def test_existing_output_is_exit_9_and_impossible_pairs_exit_8(cli, shared, tmp_path):
    src = shared / "models/stories260K.gguf"
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    proc = cli("convert", src, "hf", "-o", tmp_path, "-n", "taken", check=False)
    assert proc.returncode == 9 and "--force" in proc.stderr
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"
    for fmt in ("gguf", "gptq", "awq"):
        assert cli("convert", src, fmt, "-o", tmp_path, check=False).returncode == 8, fmt
    assert cli("convert", shared / "models/stories260K", "hf", "-o", tmp_path, check=False).returncode == 8
