"""`quality report` / `quality compare`: consistent with `quality perplexity`
on the same chunks, exact zeros when a model is compared with itself."""
import csv
import io
import json

import pytest

DATA = "data/eval-tinystories.txt"


def report(cli, shared, original, quantized, *extra, chunks=12):
    proc, res = cli.json("quality", "report", original, quantized, "--data", shared / DATA, "--ctx", "128",
                         "--chunks", str(chunks), *extra)
    assert proc.returncode == 0, proc.stderr
    return res


def test_report_matches_perplexity_and_has_layers(cli, shared, tmp_path):
    q4 = shared / "golden/stories260K/quantized/stories260K-Q4_0.gguf"
    out = tmp_path / "report.json"
    res = report(cli, shared, shared / "models/stories260K", q4, "--include-layers", "-o", out)
    assert json.loads(out.read_text()) == res
    m = res["metrics"]
    _, p_q = cli.json("quality", "perplexity", q4, "--data", shared / DATA, "--ctx", "128", "--chunks", "12")
    _, p_o = cli.json("quality", "perplexity", shared / "models/stories260K", "--data", shared / DATA, "--ctx", "128",
                      "--chunks", "12")
    assert m["perplexity_quantized"] == pytest.approx(p_q["perplexity"], rel=1e-6)
    assert m["perplexity_original"] == pytest.approx(p_o["perplexity"], rel=1e-6)
    assert m["perplexity_delta_pct"] == pytest.approx(100 * (m["perplexity_quantized"] / m["perplexity_original"] - 1))
    assert 0.01 < m["mean_kld"] < 1 and 0.5 < m["same_top_p"] < 1
    assert m["file_size"] == q4.stat().st_size
    assert len(res["layer_errors"]) == 5
    assert all(l["mse"] > 0 and 0 < l["relative_error"] < 1 for l in res["layer_errors"])


def test_model_against_itself_is_exact(cli, shared):
    res = report(cli, shared, shared / "models/stories260K", shared / "models/stories260K.gguf", "--include-layers")
    m = res["metrics"]
    assert m["mean_kld"] < 1e-9 and m["same_top_p"] == 1.0
    assert m["perplexity_delta_pct"] == pytest.approx(0.0, abs=1e-9)
    assert all(l["mse"] < 1e-12 for l in res["layer_errors"])


def test_compare_csv_and_json(cli, shared):
    qs = [shared / f"golden/stories260K/quantized/stories260K-{t}.gguf" for t in ("Q8_0", "Q4_0")]
    args = ["quality", "compare", shared / "models/stories260K.gguf", *qs, "--data", shared / DATA, "--ctx", "128",
            "--chunks", "6"]
    proc = cli("--format", "csv", *args)
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert [r["model"] for r in rows] == [str(q) for q in qs]
    assert float(rows[0]["mean_kld"]) < float(rows[1]["mean_kld"])  # Q8_0 is closer than Q4_0
    proc, res = cli.json(*args)
    assert [m["quantized_model"] for m in res["models"]] == [str(q) for q in qs]


def test_kl_distribution_against_kl_base_mode(cli, shared, tmp_path):
    """The report's per-token KL order statistics: the largest equals what `quality perplexity --kl-base` (llama-
    perplexity's method, base log-probs stored in 16 bits) finds on the same chunks; the histogram holds every token."""
    base = tmp_path / "base.kl"
    original, q4 = shared / "models/stories260K.gguf", shared / "golden/stories260K/quantized/stories260K-Q4_0.gguf"
    proc, _ = cli.json("quality", "perplexity", original, "--data", shared / DATA, "--ctx", "128", "--chunks", "6",
                       "--save-logits", base)
    assert proc.returncode == 0, proc.stderr
    _, kl = cli.json("quality", "perplexity", q4, "--kl-base", base)
    res = report(cli, shared, original, q4, chunks=6)
    d = res["kld_distribution"]
    assert sum(b["tokens"] for b in d["histogram"]) == res["metrics"]["scored_tokens"] == 6 * 63
    assert d["min"] <= d["median"] <= d["p90"] <= d["p95"] <= d["p99"] <= d["p99_9"] <= d["max"]
    assert d["max"] == pytest.approx(kl["kl_divergence"]["max_kld"], rel=2e-2)
    assert res["metrics"]["mean_kld"] == pytest.approx(kl["kl_divergence"]["mean_kld"], rel=2e-2)
    assert d["median"] < res["metrics"]["mean_kld"] < d["max"]  # a long tail: the mean sits above the median


def test_compare_checks_every_file_first(cli, shared, tmp_path):
    """A missing last file fails before the first is evaluated (exit 3), and no page is written."""
    page = tmp_path / "c.html"
    proc, res = cli.json("quality", "compare", shared / "models/stories260K.gguf",
                         shared / "golden/stories260K/quantized/stories260K-Q8_0.gguf", tmp_path / "missing.gguf",
                         "--data", shared / DATA, "--html", page)
    assert proc.returncode == 3 and res["error_type"] == "ModelNotFoundError"
    assert "Evaluating" not in proc.stderr and not page.exists()


def test_compare_metrics_pick_the_columns(cli, shared):
    """--metrics chooses the table's columns (the CSV header says which); an unknown name exits 2."""
    args = ["quality", "compare", shared / "models/stories260K.gguf",
            shared / "golden/stories260K/quantized/stories260K-Q8_0.gguf", "--data", shared / DATA, "--ctx", "128",
            "--chunks", "2"]
    for metrics, header in (("size,bpw", "model,file_size,bpw"), ("perplexity", "model,perplexity,delta_pct"),
                            ("kld", "model,mean_kld,same_top_p"),
                            ("all", "model,perplexity,delta_pct,mean_kld,same_top_p,file_size,bpw")):
        proc = cli("--format", "csv", *args, "--metrics", metrics)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[0] == header
    human = cli(*args, "--metrics", "size").stdout.splitlines()
    assert human[0].split() == ["model", "size"] and not human[0].endswith(" ")
    assert cli(*args, "--metrics", "ppl").returncode == 2
