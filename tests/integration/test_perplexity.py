"""`quality perplexity` against llama-perplexity's golden results
(golden/stories260K/perplexity.json): within 0.1% for the F32 model and 0.5%
for llama-quantize's files, on the full evaluation text."""
import json

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
    proc, res = cli.json("quality", "perplexity", model, "--data", data, "--ctx", ctx, "--batch", "8", *extra)
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
