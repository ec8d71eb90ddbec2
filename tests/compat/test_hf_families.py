"""HF checkpoints of the newer families: random-init models built by
transformers 5.25 from shrunk configs (family_oracle.py, torch venv) —
Gemma 3 (window 8 over 24 positions, layer 5 global, random norm weights so
that HF's 1 + w matters), Gemma 2 (every other layer local, soft-caps), OLMo 2
(norms only on the outputs, q/k norms over all heads, rope_theta in
transformers 5's rope_parameters), Phi-3 (fused projections, 3/4 of each head
rotary, LongRoPE with its long factors past 16 positions, window 16), Granite
(embedding / residual / attention / logit multipliers) and Command-R
(LayerNorm, parallel attention + FFN, adjacent-pair RoPE, logit scale).

Our logits on the HF directory equal transformers' float32 logits within 1e-5
relative; the GGUF we convert carries llama.cpp's names and keys and gives
transformers' logits in our forward and in llama-cpp-python 0.3.36 (for
Gemma within llama.cpp's f16-table GELU, ~5e-4 of the logit range; Phi-3's
window is not applied by llama.cpp, so there both engines agree with each
other). llama.cpp's own convert_hf_to_gguf.py (0.3.36, converter_oracle.py)
writes the same tensors byte for byte and the same architecture keys."""
import json
import random
import subprocess
from pathlib import Path

import gguf
import numpy as np
import pytest

import fetched
import llama_oracle
from gguf_compare import assert_same_tensors

ORACLE = Path(__file__).with_name("family_oracle.py")


FAMILIES = ["gemma2", "gemma3", "olmo2", "phi3", "granite", "cohere"]
SHORT = 12  # Phi-3: a sequence within LongRoPE's original 16 positions (short factors)


def build(torch_python, shared, d, family):
    rng = random.Random(1)
    ids = [1] + [rng.randint(3, 511) for _ in range(23)]
    subprocess.run([torch_python, ORACLE, family, d / "hf", shared / "models/stories260K/tokenizer.model",
                    ",".join(map(str, ids)), d / "ref.json", ",".join(map(str, ids[:SHORT]))],
                   check=True, capture_output=True)
    ref = json.loads((d / "ref.json").read_text())
    return d / "hf", ids, np.array(ref["logits"]), np.array(ref["short_logits"])


@pytest.fixture(scope="module")
def built(torch_python, shared, tmp_path_factory):
    """built(family): its checkpoint directory, ids, logits and short-sequence logits (made once per module)."""
    cache = {}

    def get(family):
        if family not in cache:
            cache[family] = build(torch_python, shared, tmp_path_factory.mktemp(f"{family}_hf"), family)
        return cache[family]
    return get


def logits(cli, model, ids):
    return np.array(json.loads(cli("quality", "logits", model, "--ids", ",".join(map(str, ids))).stdout)["logits"])


@pytest.mark.parametrize("family", FAMILIES)
def test_hf_logits_equal_transformers(cli, built, family):
    hf, ids, ref, short_ref = built(family)
    ours = logits(cli, hf, ids)
    assert np.max(np.abs(ours - ref)) < 1e-5 * np.max(np.abs(ref))
    short = logits(cli, hf, ids[:SHORT])  # Phi-3: LongRoPE's short factors
    assert np.max(np.abs(short - short_ref)) < 1e-5 * np.max(np.abs(short_ref))


def llama_cpp_logits(path, ids):
    llm = llama_oracle.load(path, n_ctx=64, n_batch=64, logits_all=True, verbose=False, type_k=0, type_v=0)
    llm.eval(ids)
    return np.array(llm.scores[: len(ids), :512], dtype=np.float64)


def convert_any(cli, hf, out_dir):
    out_dir.mkdir(exist_ok=True)
    return json.loads(cli("--format", "json", "quantize", hf, "gguf", "-q", "F32", "-o", out_dir).stdout)["output_path"]


def convert(cli, hf, tmp_path, arch):
    """Our F32 GGUF of an HF checkpoint, and its reader (architecture checked)."""
    out = convert_any(cli, hf, tmp_path)
    r = gguf.GGUFReader(out)
    assert bytes(r.fields["general.architecture"].parts[-1]).decode() == arch
    return out, r


def test_olmo2_converted_gguf_equals_transformers_in_both_engines(cli, built, tmp_path):
    hf, ids, ref, _ = built("olmo2")
    out, r = convert(cli, hf, tmp_path, "olmo2")
    assert float(r.fields["olmo2.rope.freq_base"].parts[-1][0]) == 50000.0
    shapes = {t.name: list(t.shape) for t in r.tensors}
    assert shapes["blk.0.attn_q_norm.weight"] == [64] and shapes["blk.0.attn_k_norm.weight"] == [32]
    assert "blk.0.post_attention_norm.weight" in shapes and "blk.0.attn_norm.weight" not in shapes
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 1e-4 * np.max(np.abs(ref))


def test_gemma3_converted_gguf_equals_transformers_in_both_engines(cli, built, tmp_path):
    hf, ids, ref, _ = built("gemma3")
    out, r = convert(cli, hf, tmp_path, "gemma3")
    assert int(r.fields["gemma3.attention.sliding_window"].parts[-1][0]) == 8
    assert int(r.fields["gemma3.attention.key_length"].parts[-1][0]) == 16
    assert not bool(r.fields["tokenizer.ggml.add_space_prefix"].parts[-1][0])
    names = {t.name for t in r.tensors}
    assert {"blk.5.post_attention_norm.weight", "blk.5.ffn_norm.weight", "blk.5.post_ffw_norm.weight",
            "blk.5.attn_q_norm.weight"} <= names
    assert "output.weight" not in names  # tied
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 2e-3 * np.max(np.abs(ref))
    assert (got.argmax(-1) == ref.argmax(-1)).all()


def test_gemma2_converted_gguf_equals_transformers_in_both_engines(cli, built, tmp_path):
    hf, ids, ref, _ = built("gemma2")
    out, r = convert(cli, hf, tmp_path, "gemma2")
    assert float(r.fields["gemma2.attn_logit_softcapping"].parts[-1][0]) == 5.0
    assert float(r.fields["gemma2.final_logit_softcapping"].parts[-1][0]) == 3.0
    assert int(r.fields["gemma2.attention.sliding_window"].parts[-1][0]) == 8
    assert "gemma2.attention.sliding_window_pattern" not in r.fields  # llama.cpp's default: every 2nd layer global
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 2e-3 * np.max(np.abs(ref))
    assert (got.argmax(-1) == ref.argmax(-1)).all()


def field(r, key):
    return r.fields[key].contents()


@pytest.mark.parametrize("family", ["granite", "cohere"])
def test_granite_and_command_r_converted_gguf_equal_transformers_in_both_engines(cli, built, family, tmp_path):
    hf, ids, ref, _ = built(family)
    arch = {"granite": "granite", "cohere": "command-r"}[family]
    out, r = convert(cli, hf, tmp_path, arch)
    if family == "granite":  # llama.cpp divides the logits by logit_scale
        assert [field(r, f"granite.{k}") for k in ("embedding_scale", "residual_scale", "attention.scale", "logit_scale")] \
            == pytest.approx([3.0, 0.5, 0.1, 4.0])
    else:
        assert field(r, "command-r.logit_scale") == 0.5 and "command-r.attention.layer_norm_epsilon" in r.fields
        assert "blk.0.ffn_norm.weight" not in {t.name for t in r.tensors}  # one norm feeds both branches
    assert np.max(np.abs(logits(cli, out, ids) - ref)) < 1e-5 * np.max(np.abs(ref))
    got = llama_cpp_logits(out, ids)
    assert np.max(np.abs(got - ref)) < 1e-4 * np.max(np.abs(ref))


def test_phi3_converted_gguf_runs_as_llama_cpp_runs_it(cli, built, tmp_path):
    """Fused Q|K|V and gate|up, 12 of 16 dimensions rotary, LongRoPE's long
    factors (24 positions > 16) and attention factor: our forward on the GGUF
    equals llama-cpp-python's. llama.cpp runs Phi-3 without its window (it
    says so when loading), and so does our forward on Phi-3 GGUF files; on the
    HF checkpoint we apply it, as transformers does, hence the difference."""
    hf, ids, ref, _ = built("phi3")
    out, r = convert(cli, hf, tmp_path, "phi3")
    assert field(r, "phi3.rope.dimension_count") == 12 and field(r, "phi3.attention.sliding_window") == 16
    assert field(r, "phi3.rope.scaling.original_context_length") == 16
    assert field(r, "phi3.rope.scaling.attn_factor") == pytest.approx(np.sqrt(1 + np.log(256 / 16) / np.log(16)))
    shapes = {t.name: list(t.shape) for t in r.tensors}
    assert shapes["blk.0.attn_qkv.weight"] == [64, 128] and shapes["blk.0.ffn_up.weight"] == [64, 256]
    assert shapes["rope_factors_long.weight"] == [6] and "blk.0.ffn_gate.weight" not in shapes
    ours, got = logits(cli, out, ids), llama_cpp_logits(out, ids)
    assert np.max(np.abs(ours - got)) < 1e-5 * np.max(np.abs(got))
    assert np.max(np.abs(ours - ref)) > 1e-2 * np.max(np.abs(ref))  # the window matters past 16 positions
    prefix = logits(cli, out, ids[:16])  # within the window: the GGUF agrees with transformers' HF model
    hf_prefix = logits(cli, hf, ids[:16])
    assert np.max(np.abs(prefix - hf_prefix)) < 1e-5 * np.max(np.abs(hf_prefix))


# Keys we write that the 2026 converter leaves out, each holding the value
# llama.cpp assumes when the key is absent, and keys both write that name the
# source differently (general.name is the directory name; the converter
# title-cases it and adds a size label).
def ours_only_is_default(key, value, r):
    arch = field(r, "general.architecture")
    defaults = {f"{arch}.rope.dimension_count": field(r, f"{arch}.attention.key_length")
                if f"{arch}.attention.key_length" in r.fields else field(r, f"{arch}.embedding_length") //
                field(r, f"{arch}.attention.head_count"),
                f"{arch}.vocab_size": len(r.fields["tokenizer.ggml.tokens"].data),
                f"{arch}.rope.freq_base": 10000.0,
                "tokenizer.ggml.add_bos_token": True, "tokenizer.ggml.add_eos_token": False,
                "tokenizer.ggml.unknown_token_id": 0}
    return key in defaults and defaults[key] == pytest.approx(value)


@pytest.mark.parametrize("family", FAMILIES)
def test_converted_like_llama_cpp_converter(cli, torch_python, built, family, tmp_path):
    hf, _, _, _ = built(family)
    theirs_path = tmp_path / "theirs.gguf"
    subprocess.run([torch_python, ORACLE.with_name("converter_oracle.py"), fetched.converter_2026(), hf, theirs_path],
                   check=True, capture_output=True)
    ours = gguf.GGUFReader(convert_any(cli, hf, tmp_path / "ours"))
    theirs = gguf.GGUFReader(theirs_path)
    assert_same_tensors(ours, theirs)
    skip = {"general.name", "general.size_label"}
    ka = {k for k in ours.fields if not k.startswith("GGUF.")} - skip
    kb = {k for k in theirs.fields if not k.startswith("GGUF.")} - skip
    assert kb <= ka, kb - ka
    for k in ka - kb:
        assert ours_only_is_default(k, field(ours, k), ours), (k, field(ours, k))
    for k in kb:
        x, y = field(ours, k), field(theirs, k)
        assert x == pytest.approx(y) if isinstance(y, float) else x == y, k


PROBE = "1,400,20,30,50,60,70,80,90,100,200,300,35,45,55,65"


@pytest.mark.parametrize("family", ["olmo2", "phi3", "granite", "cohere"])
def test_smoothquant_w8a8_follows_each_family_and_loads_in_transformers(cli, shared, torch_python, built, family,
                                                                        tmp_path):
    """Smoothing groups follow the norms: Command-R's one norm smooths q, k, v,
    gate and up together; Phi-3's norms smooth its fused attn_qkv and
    gate|up; OLMo 2 has no input norm, so only down_proj's input (its producer
    up_proj absorbs the scales, --smooth-down) is smoothed and the job says
    so. transformers + compressed-tensors runs the checkpoint as we emulate it,
    and our int8 engine agrees within the oracle's own float32/float64 drift;
    the same from our GGUF of the checkpoint, whose config.json we write."""
    hf = built(family)[0]
    res = json.loads(cli("--format", "json", "quantize", hf, "smoothquant", "--smoothquant", "--smooth-down", "-o",
                         tmp_path, "-n", "w8a8", "--calibration-data", shared / "data/calib.txt",
                         "--calibration-samples", 8, "--calibration-seq-len", 128).stdout)
    notes = " ".join(res["notes"])
    assert ("no norm before attention" in notes) == (family == "olmo2")
    assert ("down_proj's input stays unsmoothed" in notes) == (family == "phi3")
    ckpt = tmp_path / "w8a8"
    subprocess.run([torch_python, ORACLE.with_name("ct_oracle.py"), ckpt, PROBE, tmp_path / "oracle.json"],
                   check=True, capture_output=True)
    ref = json.loads((tmp_path / "oracle.json").read_text())
    emulated, f64 = np.array(ref["emulated_logits"]), np.array(ref["emulated_logits_f64"])
    noise = np.abs(f64 - emulated).mean()
    assert np.abs(np.array(ref["runtime_logits"]) - emulated).mean() <= noise
    ours = logits(cli, ckpt, [int(x) for x in PROBE.split(",")])
    assert np.abs(ours - emulated).mean() <= 1.5 * noise + 1e-6, (np.abs(ours - emulated).mean(), noise)
    assert (ours.argmax(-1) == emulated.argmax(-1)).mean() >= 0.8
    # From our GGUF of it: a config written from the GGUF metadata (Phi-3's LongRoPE factors from its tensors),
    # which transformers reads as the same model.
    gguf_file = convert_any(cli, hf, tmp_path / "gguf")
    cli("quantize", gguf_file, "smoothquant", "-o", tmp_path / "gguf", "-n", "from_gguf")
    from_gguf = tmp_path / "gguf" / "from_gguf"
    subprocess.run([torch_python, ORACLE.with_name("ct_oracle.py"), from_gguf, PROBE, tmp_path / "oracle2.json"],
                   check=True, capture_output=True)
    ref2 = json.loads((tmp_path / "oracle2.json").read_text())
    emulated2 = np.array(ref2["emulated_logits"])
    ours2 = logits(cli, from_gguf, [int(x) for x in PROBE.split(",")])
    noise2 = np.abs(np.array(ref2["emulated_logits_f64"]) - emulated2).mean()
    assert np.abs(ours2 - emulated2).mean() <= 1.5 * noise2 + 1e-6
    assert (ours2.argmax(-1) == emulated2.argmax(-1)).mean() >= 0.8
