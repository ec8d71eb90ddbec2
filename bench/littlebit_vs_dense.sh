#!/usr/bin/env bash
# LittleBit packed GEMV vs dense f32 (OpenBLAS sgemv) and fp16 GEMV for a
# 4096 x 11008 matrix, one thread each, one run, printed as speed-ups. Usage:
#   bench/littlebit_vs_dense.sh [build/bench/bench/bench_littlebit_gemv]
set -euo pipefail
bin=${1:-build/bench/bench/bench_littlebit_gemv}
json=$(mktemp)
OPENBLAS_NUM_THREADS=1 "$bin" --benchmark_format=json --benchmark_min_time=0.5 > "$json"
python3 - "$json" <<'PY'
import json, sys
runs = {r["name"]: r for r in json.load(open(sys.argv[1]))["benchmarks"]}
sg, f16 = runs["BM_sgemv"]["real_time"], runs["BM_f16_gemv"]["real_time"]
print(f"sgemv (f32, {runs['BM_sgemv']['weight_MB']:.0f} MB): {sg:.0f} us   fp16 GEMV ({runs['BM_f16_gemv']['weight_MB']:.0f} MB): {f16:.0f} us")
print(f"{'target':>7} {'label':>22} {'sign MB':>8} {'us':>8} {'vs sgemv':>9} {'vs fp16':>8}")
for arg in ("10", "50", "100"):
    r = runs[f"BM_littlebit_gemv/{arg}"]
    t = r["real_time"]
    print(f"{int(arg)/100:>7} {r.get('label',''):>22} {r['weight_MB']:8.2f} {t:8.0f} {sg/t:8.1f}x {f16/t:7.1f}x")
PY
rm -f "$json"
