#!/usr/bin/env bash
# W8A8 GEMM vs f32 sgemm at Llama-7B layer shapes, one run, printed as ratios
# (int8 time / sgemm time < 1 means int8 is faster). Usage:
#   bench/int8_vs_sgemm.sh [build/release/bench/bench_int8_gemm]
set -euo pipefail
bin=${1:-build/release/bench/bench_int8_gemm}
json=$(mktemp)
"$bin" --benchmark_format=json --benchmark_min_time=0.3 > "$json"
python3 - "$json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
t = {}
for r in runs:
    parts = r["name"].split("/")
    key = tuple(parts[1:4])
    kind = parts[0] if parts[0] == "BM_sgemm" else r.get("label", parts[0])
    t[(kind, key)] = r["real_time"]
print(f"{'M':>5} {'K':>6} {'N':>6} {'sgemm ms':>9} {'int8 ms':>9} {'path':>12} {'speed-up':>8}")
for (kind, key), ms in sorted(t.items()):
    if kind == "BM_sgemm":
        continue
    s = t.get(("BM_sgemm", key))
    print(f"{key[0]:>5} {key[1]:>6} {key[2]:>6} {s:9.2f} {ms:9.2f} {kind:>12} {s / ms:7.2f}x")
PY
rm -f "$json"
