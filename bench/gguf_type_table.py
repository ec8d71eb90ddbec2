#!/usr/bin/env python3
"""Quantize a model to every GGUF file type and measure each with our
evaluation engine: file size, bits per weight, perplexity. Prints a markdown
table (docs/gguf-types.md is made with it).

Types that need an importance matrix get one computed by `llm-quantize
analyze` on the calibration text; the others are quantized without one, as
llama-quantize does by default.

    bench/gguf_type_table.py --model ../shared/models/stories260K.gguf \\
        --text ../shared/data/eval-tinystories.txt --calib ../shared/data/calib.txt --ctx 256
"""
import argparse
import json
import subprocess
import tempfile
import time
from pathlib import Path

TYPES = ["F32", "F16", "BF16", "Q8_0", "Q6_K", "Q5_K_M", "Q5_K_S", "Q5_1", "Q5_0", "Q4_K_M", "Q4_K_S", "Q4_1", "Q4_0",
         "IQ4_NL", "IQ4_XS", "Q3_K_L", "Q3_K_M", "Q3_K_S", "IQ3_M", "IQ3_S", "IQ3_XS", "IQ3_XXS", "Q2_K", "Q2_K_S",
         "IQ2_M", "IQ2_S", "IQ2_XS", "IQ2_XXS", "Q2_0", "IQ1_M", "IQ1_S", "Q1_0", "TQ2_0", "TQ1_0"]
# The types whose mixtures the 2026 llama-quantize refuses to run without an imatrix on ordinary models.
NEEDS_IMATRIX = {"Q2_K_S", "IQ3_XS", "IQ3_XXS", "IQ2_XXS", "IQ2_XS", "IQ2_S", "IQ2_M", "IQ1_S", "IQ1_M"}


def run(cmd):
    p = subprocess.run([str(c) for c in cmd], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, cmd))}\n{p.stderr}")
    return p.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--llm-quantize", default=str(Path(__file__).resolve().parents[1] / "build/release/apps/llm-quantize/llm-quantize"))
    ap.add_argument("--model", required=True)
    ap.add_argument("--text", required=True)
    ap.add_argument("--calib", required=True)
    ap.add_argument("--ctx", type=int, default=512)
    ap.add_argument("--chunks", type=int, default=-1)
    ap.add_argument("--imatrix-chunks", type=int, default=32)
    ap.add_argument("--types", nargs="*", default=TYPES)
    ap.add_argument("--allow-requantize", action="store_true", help="the input is already quantized (e.g. Q4_1)")
    a = ap.parse_args()
    q = a.llm_quantize
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        imatrix = tmp / "imatrix.dat"
        run([q, "analyze", a.model, "--calibration-data", a.calib, "--ctx", a.ctx, "--chunks", a.imatrix_chunks, "-o", imatrix])
        rows = []
        for t in a.types:
            extra = ["--imatrix", imatrix] if t in NEEDS_IMATRIX else []
            requant = ["--allow-requantize"] if a.allow_requantize else []
            t0 = time.time()
            res = json.loads(run([q, "--format", "json", "--verbosity", "verbose", "quantize", a.model, "gguf", "-q", t,
                                  "-o", tmp, "-n", f"m-{t}.gguf", "--no-checkpoints", *extra, *requant]))
            secs = time.time() - t0
            params = res["metadata"]["parameter_count"]
            ppl = json.loads(run([q, "--format", "json", "quality", "perplexity", res["output_path"], "--data", a.text,
                                  "--ctx", a.ctx, "--chunks", a.chunks]))
            rows.append((t, res["file_size"], 8 * res["file_size"] / params, ppl["perplexity"], ppl.get("perplexity_error", 0.0),
                         "yes" if extra else "", secs, res.get("fallback_tensors", 0)))
            Path(res["output_path"]).unlink()
            print(f"{t}: {rows[-1]}", flush=True, file=__import__("sys").stderr)
    print("| type | file size | bits/weight (whole file) | perplexity | imatrix | fallback tensors | quantize s |")
    print("|---|---:|---:|---:|:-:|---:|---:|")
    for t, size, bpw, ppl, err, im, secs, fb in rows:
        print(f"| {t} | {size/1e6:.2f} MB | {bpw:.2f} | {ppl:.4f} ± {err:.4f} | {im} | {fb} | {secs:.1f} |")


if __name__ == "__main__":
    main()
