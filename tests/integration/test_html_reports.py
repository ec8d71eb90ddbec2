"""HTML reports (`quality report|compare --html`, `analyze --html`): every number read back from the page's data-*
attributes equals the JSON record's; headless Chromium renders each page (a screenshot that is not blank and shows the
plots' colours, the expected number of plot elements in the rendered DOM, no console message); an existing page is
kept without --force (exit 9), an unwritable path fails at once (exit 1) and leaves nothing."""
import html.parser
import json
import shutil
import subprocess
import time

import pytest
from PIL import Image

DATA = "data/eval-tinystories.txt"
EVAL = ["--ctx", "128", "--chunks", "4"]
QUANTIZED = "golden/stories260K/quantized/stories260K-{}.gguf"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


class Page(html.parser.HTMLParser):
    """Every start tag with its attributes and the ids of the <svg> and <table> around it."""

    def __init__(self, text):
        super().__init__()
        self.elements, self.svg, self.table = [], None, None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self.svg = a.get("id")
        if tag == "table":
            self.table = a.get("id")
        self.elements.append((tag, a, self.svg, self.table))

    def handle_endtag(self, tag):
        if tag == "svg":
            self.svg = None
        if tag == "table":
            self.table = None

    def marks(self, plot, cls="mark"):
        return [a for _, a, svg, _ in self.elements if svg == plot and cls in a.get("class", "").split()]

    def rows(self, table):
        return [a for tag, a, _, t in self.elements if t == table and tag == "tr" and any(k.startswith("data-") for k in a)]

    def body(self):
        return next(a for tag, a, _, _ in self.elements if tag == "body")


def render(page, tmp_path):
    """(rendered DOM, console lines, screenshot) from headless Chromium."""
    assert CHROMIUM, "chromium is needed to render the reports (scripts/install-deps.sh installs it)"
    args = [CHROMIUM, "--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--enable-logging=stderr",
            "--v=0", f"--user-data-dir={tmp_path / 'chromium-profile'}"]
    dom = subprocess.run(args + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120)
    assert dom.returncode == 0, dom.stderr[-2000:]
    console = [line for line in dom.stderr.splitlines() if ":CONSOLE" in line]
    png = tmp_path / (page.stem + ".png")
    shot = subprocess.run(args + ["--window-size=1000,1600", f"--screenshot={png}", page.as_uri()], capture_output=True,
                          text=True, timeout=120)
    assert shot.returncode == 0 and png.exists(), shot.stderr[-2000:]
    return Page(dom.stdout), console, Image.open(png).convert("RGB")


def pixels_of(image, colour):
    return sum(1 for p in image.getdata() if p == colour)


def non_white_share(image):
    return sum(1 for p in image.getdata() if p != (255, 255, 255)) / (image.width * image.height)


def hex_rgb(text):
    return tuple(int(text[i:i + 2], 16) for i in (1, 3, 5))


def check_rendered(page_file, tmp_path, expect):
    """The page as Chromium shows it: `expect` maps plot ids to their number of marks."""
    dom, console, shot = render(page_file, tmp_path)
    assert console == [], console
    assert shot.size == (1000, 1600)
    assert non_white_share(shot) > 0.03
    for plot, n in expect.items():
        assert len(dom.marks(plot)) == n, plot
    return dom, shot


def test_render_checks_can_fail(tmp_path):
    """The checks above catch what they are for: a script's console message, a blocked fetch, a blank page."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><html><head><meta http-equiv=\"Content-Security-Policy\" content=\"default-src "
                   "'none'\"></head><body><img src=\"http://example.invalid/a.png\"></body></html>")
    _, console, shot = render(bad, tmp_path)
    assert any("Content Security Policy" in line for line in console)
    assert non_white_share(shot) < 0.001
    noisy = tmp_path / "noisy.html"
    noisy.write_text("<!DOCTYPE html><html><body><script>console.error('boom')</script></body></html>")
    assert any("boom" in line for line in render(noisy, tmp_path)[1])


def analyze(cli, shared, tmp_path, *extra):
    proc, res = cli.json("analyze", shared / "models/stories260K", "--data", shared / "data/calib.txt", "--ctx", "128",
                         "--chunks", "4", "--identify-super-weights", "-o", tmp_path / "imatrix.dat", *extra)
    assert proc.returncode == 0, proc.stderr
    return res


def test_quality_report_page(cli, shared, tmp_path, sanitized):
    analyze(cli, shared, tmp_path)
    # stories260K has no super weight: two are written into analyze's file (the page draws what the file holds).
    sw_file = tmp_path / "imatrix.dat.super_weights.json"
    sw = json.loads(sw_file.read_text())
    sw["super_weights"] = [{"tensor": f"blk.{l}.ffn_down.weight", "layer": l, "row": r, "col": c, "value": v,
                            "activation": 40.0, "input_activation": 3.0, "share": 0.9, "kind": "activation_spike"}
                           for l, r, c, v in ((1, 7, 100, -2.5), (3, 12, 5, 1.75))]
    sw_file.write_text(json.dumps(sw))
    page_file = tmp_path / "report.html"
    proc, res = cli.json("quality", "report", shared / "models/stories260K", shared / QUANTIZED.format("Q4_0"),
                         "--data", shared / DATA, *EVAL, "--include-layers", "--imatrix", tmp_path / "imatrix.dat",
                         "--super-weights", tmp_path / "imatrix.dat.super_weights.json", "--html", page_file)
    assert proc.returncode == 0, proc.stderr
    page = Page(page_file.read_text())
    # The summary: every metric of the JSON record, exactly.
    summary = {r["data-key"]: float(r["data-value"]) for r in page.rows("summary")}
    assert summary == {k: float(v) for k, v in res["metrics"].items() if not isinstance(v, str)}
    # The per-token KL divergence: order statistics and histogram.
    d = res["kld_distribution"]
    assert {r["data-key"]: float(r["data-value"]) for r in page.rows("kld-distribution")} == \
        {k: v for k, v in d.items() if k != "histogram"}
    hist = page.marks("plot-kld-histogram")
    assert [(float(m["data-lower"]), int(m["data-tokens"])) for m in hist] == \
        [(b["lower"], b["tokens"]) for b in d["histogram"]]
    # Per-layer errors, in order, exactly.
    marks = page.marks("plot-layer-error")
    assert [m["data-layer"] for m in marks] == [l["layer_name"] for l in res["layer_errors"]]
    for m, l in zip(marks, res["layer_errors"]):
        assert float(m["data-relative-error"]) == l["relative_error"] and float(m["data-mse"]) == l["mse"]
        assert float(m["data-max-error"]) == l["max_error"] and float(m["data-bit-width"]) == l["bit_width"]
    assert len(page.marks("plot-layer-mse")) == 5
    # Bits: one segment per tensor of a block; a bar's segments add up to the layer's bits per weight.
    bits = page.marks("plot-bits")
    in_layers = [t for t in res["tensors"] if t["layer"] >= 0]
    assert [(b["data-tensor"], b["data-type"], int(b["data-bytes"])) for b in bits] == \
        [(t["name"], t["type"], t["bytes"]) for t in in_layers]
    for i, l in enumerate(res["layer_errors"]):
        seg = [t for t in in_layers if t["layer"] == i]
        assert 8 * sum(t["bytes"] for t in seg) / sum(t["parameters"] for t in seg) == pytest.approx(l["bit_width"])
    assert {r["data-tensor"] for r in page.rows("other-tensors")} == {t["name"] for t in res["tensors"] if t["layer"] < 0}
    # Importance per layer and the super weights from analyze's files.
    assert len(page.marks("plot-importance")) == 5
    assert len(page.marks("plot-importance", "marker")) == len(sw["super_weights"]) > 0
    assert [(int(r["data-row"]), int(r["data-col"])) for r in page.rows("super-weights")] == \
        [(s["row"], s["col"]) for s in sw["super_weights"]]
    assert "quality report" in page_file.read_text() and page.body()["data-report"] == "quality-report"
    if sanitized:
        return  # rendering does not depend on the build; the optimised build's run covers it
    dom, shot = check_rendered(page_file, tmp_path, {"plot-kld-histogram": 9, "plot-layer-error": 5, "plot-layer-mse": 5,
                                                     "plot-bits": len(in_layers), "plot-importance": 5})
    assert pixels_of(shot, hex_rgb("#0072b2")) > 2000  # the bars are drawn


def test_quality_compare_page(cli, shared, tmp_path, sanitized):
    types = ["Q8_0", "Q4_0", "Q2_K"]
    page_file = tmp_path / "compare.html"
    proc, res = cli.json("quality", "compare", shared / "models/stories260K.gguf",
                         *[shared / QUANTIZED.format(t) for t in types], "--data", shared / DATA, *EVAL,
                         "--html", page_file)
    assert proc.returncode == 0, proc.stderr
    page = Page(page_file.read_text())
    for plot, key in (("plot-ppl-size", "perplexity_quantized"), ("plot-kld-size", "mean_kld")):
        points = page.marks(plot)
        assert [p["data-quantized-model"] for p in points] == [m["quantized_model"] for m in res["models"]]
        for p, m in zip(points, res["models"]):
            assert float(p["data-" + key.replace("_", "-")]) == m["metrics"][key]
            assert int(p["data-file-size"]) == m["metrics"]["file_size"]
    # Labels are llama.cpp's names of the files' types (general.file_type).
    assert [r["data-file-type"] for r in page.rows("models")] == types
    assert [m["metrics"]["file_type"] for m in res["models"]] == types
    if not sanitized:
        _, shot = check_rendered(page_file, tmp_path, {"plot-ppl-size": 3, "plot-kld-size": 3})
        assert pixels_of(shot, hex_rgb("#d55e00")) > 100  # the points are drawn


def test_analyze_page(cli, shared, tmp_path, sanitized):
    page_file = tmp_path / "analyze.html"
    res = analyze(cli, shared, tmp_path, "--html", page_file)
    page = Page(page_file.read_text())
    cells = page.marks("plot-importance-map")
    assert {c["data-weight"]: float(c["data-mean"]) for c in cells} == {l["name"]: l["mean"] for l in res["layers"]}
    assert len(page.rows("super-weights")) == len(res["super_weights"])
    summary = {r["data-key"]: float(r["data-value"]) for r in page.rows("summary")}
    assert summary["global_mean"] == res["global_statistics"]["mean"] and summary["tokens"] == res["tokens"]
    if not sanitized:
        check_rendered(page_file, tmp_path, {"plot-importance-map": len(res["layers"])})


def test_existing_unwritable_and_hostile_outputs(cli, shared, tmp_path, sanitized):
    args = ["quality", "report", shared / "models/stories260K", shared / QUANTIZED.format("Q4_0"), "--data",
            shared / DATA, *EVAL]
    page_file = tmp_path / "r.html"
    page_file.write_text("keep me")
    start = time.monotonic()
    proc, res = cli.json(*args, "--html", page_file)
    assert proc.returncode == 9 and res["error_type"] and "--force" in res["suggestion"]
    assert "Evaluating" not in proc.stderr and time.monotonic() - start < 30  # refused before any work
    assert page_file.read_text() == "keep me"
    proc = cli(*args, "--html", page_file, "--force")
    assert proc.returncode == 0, proc.stderr
    assert page_file.read_text().startswith("<!DOCTYPE html>")
    missing = tmp_path / "no-such-dir" / "r.html"
    proc = cli(*args, "--html", missing)
    assert proc.returncode == 1 and not missing.parent.exists()
    assert "Evaluating" not in proc.stderr
    under_a_file = tmp_path / "r.html" / "r.html"  # a path whose directory is a file
    proc = cli(*args, "--html", under_a_file)
    assert proc.returncode == 1 and "Evaluating" not in proc.stderr
    proc = cli(*args, "--html", shared / DATA)  # an input is never overwritten
    assert proc.returncode == 2
    # A file name that is markup stays text.
    hostile = tmp_path / 'q"><b onmouseover=x>.gguf'
    shutil.copy(shared / QUANTIZED.format("Q4_0"), hostile)
    out = tmp_path / "hostile.html"
    proc = cli("quality", "report", shared / "models/stories260K", hostile, "--data", shared / DATA, *EVAL, "--html", out)
    assert proc.returncode == 0, proc.stderr
    page = Page(out.read_text())
    assert not any(tag == "b" for tag, *_ in page.elements)
    assert page.body()["data-quantized"] == str(hostile)
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".html") == ["hostile.html", "r.html"]
    if not sanitized:
        check_rendered(out, tmp_path, {"plot-bits": 5 * 9})  # 5 blocks of 9 tensors
