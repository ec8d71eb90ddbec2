#!/usr/bin/env bash
# LittleBit compression time of one Llama-2-7B decoder layer (4 x 4096^2,
# 2 x 11008x4096, 1 x 4096x11008) on this machine, init only and init +
# refinement, extrapolated to 32 layers. Usage:
#   bench/littlebit_layer_time.sh [build/bench/bench/bench_littlebit_layer] [--benchmark_filter=...]
set -euo pipefail
bin=${1:-build/bench/bench/bench_littlebit_layer}
shift || true
json=$(mktemp)
"$bin" --benchmark_format=json "$@" > "$json"
python3 - "$json" <<'PY'
import json, sys
runs = json.load(open(sys.argv[1]))["benchmarks"]
t = {}
for r in runs:
    if r["name"].startswith("BM_truncated_svd"):
        print(f"SVD 4096x11008 k={r['name'].split('/')[1]} ({r.get('label', '')}): {r['real_time']:.2f} s")
        continue
    m, n, bpw, refine = map(int, r["name"].split("/")[1:5])
    t[(m, n, bpw, refine)] = r["real_time"]
count = {(4096, 4096): 4, (11008, 4096): 2, (4096, 11008): 1}
print(f"{'bpw':>5} {'phase':>12} {'layer s':>9} {'32 layers':>10}")
for bpw in sorted({k[2] for k in t}):
    for refine in (0, 1):
        if not all((m, n, bpw, refine) in t for (m, n) in count):
            continue
        layer = sum(c * t[(m, n, bpw, refine)] for (m, n), c in count.items())
        print(f"{bpw/100:>5} {'init+refine' if refine else 'init':>12} {layer:9.1f} {32*layer/3600:9.2f} h")
PY
rm -f "$json"
