"""`--tensor-type` overrides against the 2026 llama-quantize: an override is
the tensor's type, and one whose blocks do not fit the rows falls back by
llama.cpp's table (Q6_K -> Q8_0, IQ4_XS -> IQ4_NL, Q4_K -> Q5_0, or F16 when
that does not fit either); byte-identical files on stories260K, whose rows of
64 and 172 elements divide into no 256-block."""
import json
import subprocess

import pytest

import fetched


@pytest.mark.parametrize("qtype,overrides", [
    ("Q8_0", ["ffn_down=q4_k", "attn_q=q6_k", "ffn_up=iq4_xs"]),
    ("Q4_0", [r"attn_(k|v)\.weight=q5_k", "output=q8_0", "ffn_gate=f16"]),
])
def test_overrides_fall_back_like_llama_quantize(cli, shared, qtype, overrides, tmp_path):
    model = shared / "models/stories260K.gguf"
    flags = [arg for o in overrides for arg in ("--tensor-type", o)]
    proc = cli("--format", "json", "quantize", model, "gguf", "-q", qtype, "-o", tmp_path, "-n", "ours.gguf",
               "--no-checkpoints", *flags)
    assert proc.returncode == 0, proc.stderr
    ours = json.loads(proc.stdout)["output_path"]
    theirs = tmp_path / "theirs.gguf"
    subprocess.run([fetched.llama_tools() / "llama-quantize", *flags, model, theirs, qtype, "2"],
                   check=True, capture_output=True)
    assert open(ours, "rb").read() == theirs.read_bytes()
