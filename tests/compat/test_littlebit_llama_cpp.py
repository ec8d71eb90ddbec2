"""LittleBit's gguf-lossy output loads in llama.cpp (llama-cpp-python), and
llama.cpp running the dense reconstruction gives the logits our engine gets
from the packed signs of the .littlebit file (an independent forward)."""
import json

import numpy as np

import llama_oracle


def test_gguf_lossy_runs_in_llama_cpp_like_our_packed_forward(cli, shared, tmp_path):
    model = shared / "models/stories260K"
    flags = ["--rank", "16", "--refine-steps", "20", "--calibration-samples", "4", "--calibration-seq-len", "128",
             "--skip-validation", "-o", tmp_path]
    cli("littlebit", "compress", model, "-n", "m.littlebit", *flags)
    cli("littlebit", "convert", tmp_path / "m.littlebit", "gguf-lossy", "--gguf-quant", "F32", "--force",
        "-o", tmp_path, "-n", "m-f32.gguf")
    cli("littlebit", "convert", tmp_path / "m.littlebit", "gguf-lossy", "--gguf-quant", "Q8_0", "--force",
        "-o", tmp_path, "-n", "m-q8.gguf")
    ids = json.loads((shared / "golden/stories260K/logits-eval64.json").read_text())["tokens"]
    ours = np.array(json.loads(cli("quality", "logits", tmp_path / "m.littlebit", "--ids", ",".join(map(str, ids))).stdout)
                    ["logits"], dtype=np.float64)

    def llama(path):
        llm = llama_oracle.load(str(path), n_ctx=128, n_batch=128, logits_all=True, verbose=False,
                              type_k=0, type_v=0, n_threads=2, seed=0)
        llm.eval(ids)
        return np.array(llm.scores[: len(ids), : llm.n_vocab()], dtype=np.float64)

    f32 = llama(tmp_path / "m-f32.gguf")
    assert f32.shape == ours.shape
    assert np.max(np.abs(f32 - ours)) < 2e-3
    q8 = llama(tmp_path / "m-q8.gguf")  # the default-style lossy path: requantized, close but not equal
    assert (q8.argmax(-1) == ours.argmax(-1)).mean() >= 0.9
