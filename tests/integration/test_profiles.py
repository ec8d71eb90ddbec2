"""Profiles (`profile list|show|create|validate`, `quantize -q dynamic --profile`)
and super-weight protection, checked with gguf-py on the synthetic model."""
import json
import math
import re

import numpy as np
import pytest
from gguf import GGUFReader
from gguf.quants import dequantize

from imatrix_dat import load_dat

SYN = "golden/synthetic-a"


def types_of(path):
    return {t.name: t.tensor_type.name for t in GGUFReader(str(path)).tensors}


def quantize(cli, shared, out_dir, name, *extra):
    proc, res = cli.json("quantize", shared / SYN / "model-f32.gguf", "gguf", "-q", "dynamic", "-o", out_dir, "-n",
                         name, "--no-checkpoints", *extra)
    return proc, res, out_dir / name


def test_list_and_show(cli):
    proc, res = cli.json("profile", "list")
    assert proc.returncode == 0
    assert {p["name"] for p in res["profiles"]} == {"attention-high", "balanced", "compression-max"}
    proc = cli("--format", "json", "profile", "show", "balanced")
    shown = json.loads(proc.stdout)
    assert shown["format"] == "libquant.dqprofile" and shown["default_type"] == "Q4_K"
    assert cli("profile", "show", "missing-profile").returncode == 13


@pytest.mark.parametrize("preset,expect", [
    # documented in docs/formats/dqprofile.md
    ("attention-high", lambda n, l: "Q4_K" if ".attn_" in n else "Q2_K" if ".ffn_" in n else None),
    ("balanced", lambda n, l: "Q6_K" if (".attn_v" in n or ".ffn_down" in n) and l <= 1 else "Q4_K"),
    ("compression-max", lambda n, l: "Q3_K" if any(c in n for c in (".attn_v", ".ffn_down", ".attn_output"))
     else "Q2_K"),
])
def test_presets_give_the_documented_types(cli, shared, tmp_path, preset, expect):
    proc, res, out = quantize(cli, shared, tmp_path, f"{preset}.gguf", "--profile", preset)
    assert proc.returncode == 0, proc.stderr
    checked = 0
    for name, t in types_of(out).items():
        m = re.match(r"blk\.(\d+)\.", name)
        if not m or name.endswith("norm.weight"):
            continue
        want = expect(name, int(m.group(1)))
        if want:
            assert t == want, name
            checked += 1
    assert checked == 14  # 2 layers x 7 linear weights


def test_bad_profile_files_exit_13(cli, shared, tmp_path):
    model = shared / SYN / "model-f32.gguf"
    bad = tmp_path / "bad.dqprofile"
    for text in ["{", '{"profile_name": "x", "rules": [{"class": "mlp", "type": "Q9_K"}]}',
                 '{"profile_name": "x", "rules": [{"tensor": "(", "type": "Q4_K"}]}']:
        bad.write_text(text)
        proc, res = cli.json("profile", "validate", bad, model)
        assert proc.returncode == 13 and res["error_type"] == "ProfileError", text
        assert quantize(cli, shared, tmp_path, "never.gguf", "--profile", bad)[0].returncode == 13
    assert not (tmp_path / "never.gguf").exists()


def test_validate_reports_matches_and_size(cli, shared, tmp_path):
    proc, res = cli.json("profile", "validate", "attention-high", shared / SYN / "model-f32.gguf")
    assert proc.returncode == 0, proc.stderr
    assert res["valid"] and res["rule_matches"][:2] == [8, 6]
    assert any("matches no tensor" in w for w in res["warnings"])  # tied model: no output.weight
    # the reported size is the size quantizing with the profile gives
    _, _, out = quantize(cli, shared, tmp_path, "ah.gguf", "--profile", "attention-high")
    assert res["file_size"] == out.stat().st_size


@pytest.mark.slow  # optimised build only: the sanitizer build is ~10x slower
def test_created_profile_reproduces_the_allocation(cli, shared, tmp_path):
    imatrix = shared / SYN / "imatrix.dat"
    budget = str((shared / SYN / "quantized/imatrix/Q3_K_M.gguf").stat().st_size)
    proc, _, direct = quantize(cli, shared, tmp_path, "direct.gguf", "--imatrix", imatrix,
                               "--target-size-bytes", budget, "--sample-rows", "32")
    assert proc.returncode == 0, proc.stderr
    prof = tmp_path / "mine.dqprofile"
    proc, res = cli.json("profile", "create", "--name", "mine", "--imatrix", imatrix, "--model",
                         shared / SYN / "model-f32.gguf", "--target-size-bytes", budget, "--sample-rows", "32", "-o", prof)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(prof.read_text())["profile_name"] == "mine"
    proc, _, again = quantize(cli, shared, tmp_path, "again.gguf", "--imatrix", imatrix, "--profile", prof)
    assert proc.returncode == 0, proc.stderr
    assert types_of(again) == types_of(direct)
    # without --model there is nothing to measure
    assert cli("profile", "create", "--name", "x", "--imatrix", imatrix, "--target-bpw", "4").returncode == 2


def saliency_rows(w, imp, coverage):
    """Rows holding the top ceil(coverage * n) weights by |w| sqrt(imp) (independent of libquant)."""
    s = np.abs(w) * np.sqrt(imp)[None, :]
    k = math.ceil(coverage * s.size)
    flat = np.argsort(-s.ravel(), kind="stable")[:k]
    return set((flat // w.shape[1]).tolist())


def test_protection_changes_only_protected_rows_and_keeps_the_super_weight(cli, shared, tmp_path):
    planted = json.loads((shared / SYN / "planted.json").read_text())
    sw = next(p for p in planted["planted"] if p["kind"] == "single_huge")
    sw_file = tmp_path / "sw.json"
    sw_file.write_text(json.dumps({"format": "libquant.super_weights", "version": 1, "super_weights": [
        {"tensor": sw["tensor"], "layer": 1, "row": sw["row"], "col": sw["col"], "value": 0.0}]}))
    imatrix = shared / SYN / "imatrix.dat"
    common = ["--imatrix", imatrix, "--target-bpw", "6", "--candidates", "Q4_K"]
    _, _, plain = quantize(cli, shared, tmp_path, "plain.gguf", *common)
    proc, res, prot = quantize(cli, shared, tmp_path, "prot.gguf", *common, "--protect-super-weights",
                               "--super-weights", sw_file, "--protection-coverage", "0.001")
    assert proc.returncode == 0, proc.stderr
    assert res["protected_weights"] > 0
    assert any(e["is_protected"] for e in res["layer_summary"] if e["layer_name"] == sw["tensor"])
    orig = {t.name: np.asarray(t.data, dtype=np.float32) for t in GGUFReader(str(shared / SYN / "model-f32.gguf")).tensors}
    a = {t.name: t for t in GGUFReader(str(plain)).tensors}
    b = {t.name: t for t in GGUFReader(str(prot)).tensors}
    imat, _, _ = load_dat(imatrix)
    changed = 0
    for name, (ncall, vals) in imat.items():
        rows = saliency_rows(orig[name], (vals / ncall).astype(np.float32), 0.001)
        if name == sw["tensor"]:
            rows.add(sw["row"])
        ra, rb = np.asarray(a[name].data), np.asarray(b[name].data)
        for r in range(ra.shape[0]):
            if r not in rows:
                assert (ra[r] == rb[r]).all(), (name, r)  # untouched rows: same bytes
        changed += sum(int((ra[r] != rb[r]).any()) for r in rows)
    assert changed > 0
    # the super weight itself comes back at least as well as without protection
    w = orig[sw["tensor"]][sw["row"], sw["col"]]
    da = dequantize(a[sw["tensor"]].data, a[sw["tensor"]].tensor_type).reshape(orig[sw["tensor"]].shape)
    db = dequantize(b[sw["tensor"]].data, b[sw["tensor"]].tensor_type).reshape(orig[sw["tensor"]].shape)
    assert abs(db[sw["row"], sw["col"]] - w) <= abs(da[sw["row"], sw["col"]] - w)


def test_protection_arguments(cli, shared, tmp_path):
    imatrix = shared / SYN / "imatrix.dat"
    # no imatrix -> 2; no -q dynamic -> 2; a missing super-weight file -> 10
    assert quantize(cli, shared, tmp_path, "a.gguf", "--target-bpw", "5", "--protect-super-weights")[0].returncode == 2
    proc = cli("quantize", shared / SYN / "model-f32.gguf", "gguf", "-q", "Q4_K_M", "--imatrix", imatrix,
               "--protect-super-weights", "--super-weights", imatrix, "-o", tmp_path, "--no-checkpoints")
    assert proc.returncode == 2
    proc, res, out = quantize(cli, shared, tmp_path, "c.gguf", "--target-bpw", "5", "--imatrix", imatrix,
                              "--protect-super-weights", "--super-weights", tmp_path / "none.json")
    assert proc.returncode == 10 and not out.exists()


@pytest.mark.slow
def test_quality_gates_after_quantizing(cli, shared, tmp_path):
    import os
    model = shared / "models/stories260K.gguf"
    args = ["quantize", model, "gguf", "-q", "Q4_0", "-o", tmp_path, "--no-checkpoints", "--quality-report",
            "--quality-data", shared / "data/eval-tinystories.txt", "--quality-chunks", "2"]
    proc, res = cli.json(*args, "-n", "ok.gguf")
    assert proc.returncode == 0, proc.stderr
    q = res["quality_report"]
    # the reported numbers are those `quality report` gives for the written file
    proc2, rep = cli.json("quality", "report", model, tmp_path / "ok.gguf", "--data",
                          shared / "data/eval-tinystories.txt", "--calibration-samples", "2")
    assert proc2.returncode == 0, proc2.stderr
    assert q["perplexity_quantized"] == pytest.approx(rep["metrics"]["perplexity_quantized"], rel=1e-9)
    assert q["perplexity_delta_pct"] > 0
    # above LLM_QUANTIZE_QUALITY_THRESHOLD -> 11, the file is kept
    env = {**os.environ, "LLM_QUANTIZE_QUALITY_THRESHOLD": str(q["perplexity_delta_pct"] / 2)}
    proc, res = cli.json(*args, "-n", "bad.gguf", env=env)
    assert proc.returncode == 11 and res["error_type"] == "QualityDegradationError"
    assert (tmp_path / "bad.gguf").exists()
    # coherence: a score below LLM_QUANTIZE_COHERENCE_THRESHOLD -> 12
    base = ["quantize", model, "gguf", "-q", "Q4_0", "-o", tmp_path, "--no-checkpoints", "--coherence-check"]
    proc, res = cli.json(*base, "-n", "c1.gguf", env={**os.environ, "LLM_QUANTIZE_COHERENCE_THRESHOLD": "0"})
    assert proc.returncode == 0 and 0 < res["coherence_score"] <= 1
    proc, res = cli.json(*base, "-n", "c2.gguf", env={**os.environ, "LLM_QUANTIZE_COHERENCE_THRESHOLD": "1.01"})
    assert proc.returncode == 12
