#!/usr/bin/env bash
# Side-by-side timing of llm-quantize and a given llama-quantize binary on the
# same F16 GGUF input, same type, same thread count: wall time, peak RSS,
# speed ratio, and whether the outputs are byte-identical.
#   bench/bench_vs_llama_quantize.sh LLAMA_QUANTIZE [TYPE] [LAYERS] [THREADS] [BUILD_DIR]
# The input is a synthetic Llama-2-7B-shaped model (random weights, LAYERS
# blocks; SHAPE=qwen3-30b-a3b for Qwen3-30B-A3B's mixture of 128 experts, or
# any shape of make_synthetic_checkpoint.py) converted to F16 GGUF
# by us; types that need an importance matrix get a synthetic one (legacy
# .dat, random positive values, one run per expert for expert tensors), used
# by both.
# Nothing is downloaded; the llama-quantize binary is yours to provide.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
llama=${1:?path to llama-quantize}
type=${2:-Q4_K_M}
layers=${3:-4}
threads=${4:-2}
build=${5:-$root/build/release}
ours="$build/apps/llm-quantize/llm-quantize"
cache=${LLM_QUANTIZE_CACHE:-$HOME/.cache/llm-quantize}/bench
shape=${SHAPE:-llama2-7b}
tag=$([ "$shape" = llama2-7b ] && echo 7b || echo "$shape")
model=$cache/synthetic-$tag-l$layers
python3 "$root/bench/make_synthetic_checkpoint.py" "$model" --layers "$layers" --shape "$shape" \
  --tokenizer-from "$root/../shared/models/stories260K" >/dev/null
f16=$cache/synthetic-$tag-l$layers-F16.gguf
[ -f "$f16" ] || "$ours" --verbosity quiet quantize "$model" gguf -q F16 -o "$cache" -n "$(basename "$f16")" --no-checkpoints >/dev/null
work=$(mktemp -d "$cache/vs.XXXX")
trap 'rm -rf "$work"' EXIT
imatrix_args=()
case "$type" in IQ1_S|IQ1_M|IQ2_XXS|IQ2_XS|IQ2_S|Q2_K_S|IQ*)
  python3 - "$f16" "$work/imatrix.dat" <<'PY'
import struct, sys
import numpy as np
from gguf import GGUFReader
r = GGUFReader(sys.argv[1]); rng = np.random.default_rng(3)
# (GGUF shapes are ggml's: [cols, rows] or [cols, rows, experts]; an expert tensor takes cols x experts values)
ents = [(t.name, int(t.shape[0]) * (int(t.shape[2]) if len(t.shape) == 3 else 1)) for t in r.tensors
        if t.name.startswith("blk.") and len(t.shape) in (2, 3)]
with open(sys.argv[2], "wb") as f:
    f.write(struct.pack("<i", len(ents)))
    for name, cols in ents:
        b = name.encode(); f.write(struct.pack("<i", len(b)) + b + struct.pack("<ii", 1, cols))
        f.write(rng.gamma(2.0, 0.5, cols).astype(np.float32).tobytes())
    f.write(struct.pack("<i", 1) + struct.pack("<i", 9) + b"synthetic")
PY
  imatrix_args=(--imatrix imatrix.dat) ;;
esac
sync
cd "$work"
run() {  # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$work/$label.time" "$@" >"$work/$label.log" 2>&1 || { cat "$work/$label.log"; exit 1; }
}
run llama "$llama" "${imatrix_args[@]}" "$f16" "$work/llama.gguf" "$type" "$threads"
run ours "$ours" --verbosity quiet quantize "$f16" gguf -q "$type" -o "$work" -n ours.gguf --threads "$threads" \
  --no-checkpoints "${imatrix_args[@]}"
read -r lt lrss < "$work/llama.time"
read -r ot orss < "$work/ours.time"
same=$(cmp -s "$work/llama.gguf" "$work/ours.gguf" && echo yes || echo NO)
if [ "$same" = NO ]; then  # which part differs: the tensors, or only metadata (llama.cpp versions differ in key types)
  same=$(python3 - "$work/llama.gguf" "$work/ours.gguf" <<'PY'
import sys
from gguf import GGUFReader
a, b = GGUFReader(sys.argv[1]), GGUFReader(sys.argv[2])
ta, tb = {t.name: t for t in a.tensors}, {t.name: t for t in b.tensors}
same = ta.keys() == tb.keys() and all(ta[n].tensor_type == tb[n].tensor_type and
                                      ta[n].data.tobytes() == tb[n].data.tobytes() for n in ta)
keys = sorted(k for k in set(a.fields) | set(b.fields)
              if k not in a.fields or k not in b.fields or a.fields[k].types != b.fields[k].types
              or a.fields[k].contents() != b.fields[k].contents())
print(("NO (tensors differ)" if not same else "tensors yes") + (f"; metadata differs in {keys}" if keys else ""))
PY
)
fi
python3 - "$type" "$layers" "$threads" "$lt" "$lrss" "$ot" "$orss" "$same" "$(stat -c%s "$f16")" "$shape" <<'PY'
import sys
t, layers, th, lt, lrss, ot, orss, same, size = sys.argv[1:10]
lt, ot = float(lt), float(ot)
print(f"{t}: synthetic {sys.argv[10]}-shaped, {layers} layers, F16 input {int(size)/1e9:.2f} GB, {th} threads")
print(f"  llama-quantize {lt:7.2f} s  peak RSS {int(lrss)/1024:7.0f} MiB")
print(f"  llm-quantize   {ot:7.2f} s  peak RSS {int(orss)/1024:7.0f} MiB")
print(f"  speed ratio (llama / ours) {lt/ot:.2f}x   byte-identical: {same}")
PY
