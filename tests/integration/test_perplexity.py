"""`quality perplexity` against llama-perplexity's golden results
(golden/stories260K/perplexity.json): within 0.1% for the F32 model and 0.5%
for llama-quantize's files, on the full evaluation text."""
import json
import math

import pytest

GOLDEN = "golden/stories260K/perplexity.json"


def golden_runs(shared):
    runs = json.loads((shared / GOLDEN).read_text())["llama_cpp"]
    return [r for r in runs if r["file"] == "eval-tinystories.txt"]


def model_path(shared, name):
    if name == "F32":
        return shared / "models/stories260K.gguf"
    return shared / f"golden/stories260K/quantized/stories260K-{name}.gguf"


def run_ppl(cli, model, data, ctx, *extra):
    args = ["--data", data, "--ctx", ctx] if data else []
    proc, res = cli.json("quality", "perplexity", model, *args, "--batch", "8", *extra)
    assert proc.returncode == 0, proc.stderr
    return res


def pytest_generate_tests(metafunc):
    if "golden_run" in metafunc.fixturenames:
        from pathlib import Path
        shared = Path(metafunc.config.getoption("--shared"))
        runs = golden_runs(shared)
        metafunc.parametrize("golden_run", runs, ids=[f"{r['model']}-c{r['ctx']}" for r in runs])


@pytest.mark.slow
def test_matches_llama_perplexity(cli, shared, golden_run):
    res = run_ppl(cli, model_path(shared, golden_run["model"]), shared / "data/eval-tinystories.txt", golden_run["ctx"])
    assert res["chunks"] == golden_run["chunks"]
    tol = 0.001 if golden_run["model"] == "F32" else 0.005
    assert abs(res["perplexity"] / golden_run["ppl"] - 1) < tol
    assert abs(res["perplexity_error"] / golden_run["ppl_err"] - 1) < 0.05


def test_hf_directory_equals_gguf_and_streaming_equals_whole(cli, shared):
    data = shared / "data/eval-tinystories.txt"
    a = run_ppl(cli, shared / "models/stories260K", data, 256, "--chunks", "40")
    b = run_ppl(cli, shared / "models/stories260K.gguf", data, 256, "--chunks", "40", "--whole-model")
    assert a["chunks"] == 40 and a["n_tokens"] == 149185
    assert a["perplexity"] == pytest.approx(b["perplexity"], rel=1e-6)


def test_too_short_data_exit_15(cli, shared, tmp_path):
    short = tmp_path / "short.txt"
    short.write_text("Once upon a time there was a cat.")
    proc, res = cli.json("quality", "perplexity", shared / "models/stories260K", "--data", short, "--ctx", "256")
    assert proc.returncode == 15 and res["error_type"] == "CalibrationDataError"


def test_kl_divergence_mode(cli, shared, tmp_path):
    """--save-logits writes llama-perplexity's KL base layout; --kl-base compares against it."""
    base = tmp_path / "base.kl"
    data = shared / "data/eval-tinystories.txt"
    ref = run_ppl(cli, shared / "models/stories260K.gguf", data, 128, "--chunks", "30", "--save-logits", base)
    n_vocab, ctx, chunks = 512, 128, 30
    rows = chunks * (ctx - 1 - ctx // 2)
    assert base.stat().st_size == 8 + 12 + 4 * ctx * chunks + rows * (2 * ((n_vocab + 1) // 2) + 4) * 2
    assert base.read_bytes()[:8] == b"_logits_"

    same = run_ppl(cli, shared / "models/stories260K", None, 0, "--kl-base", base)
    assert same["ctx"] == ctx and same["chunks"] == chunks
    kl = same["kl_divergence"]
    assert kl["mean_kld"] < 1e-4          # only the 16-bit storage of log-probs differs
    assert kl["same_top_p"] == 1.0
    assert kl["perplexity_base"] == pytest.approx(ref["perplexity"], rel=1e-3)

    q4 = run_ppl(cli, shared / "golden/stories260K/quantized/stories260K-Q4_0.gguf", None, 0, "--kl-base", base)
    kq = q4["kl_divergence"]
    assert 0.01 < kq["mean_kld"] < 1.0
    assert 0.5 < kq["same_top_p"] < 1.0
    assert kq["mean_ln_ppl_ratio"] == pytest.approx(math.log(q4["perplexity"] / kq["perplexity_base"]), abs=1e-3)
