#!/usr/bin/env bash
# Tokenizer throughput side by side with llama-cpp-python 0.3.36 (the pinned
# oracle) on the same vocabulary and text, one thread each, best of 5 runs,
# vocabulary loading excluded; prints both and the ratio.
#   bench/tokenizer_vs_llama_cpp.sh [TEXT] [BYTES]     (default: 1 MB of wiki.test.raw)
# Models: Gemma 3 270M (SentencePiece) and SmolLM2-135M (byte-level BPE) from
# scripts/fetch-models.sh. Needs the bench preset built (bench_tokenize).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
text=${1:-$root/../shared/data/wiki.test.raw}
bytes=${2:-1000000}
bin=$root/build/bench/bench/bench_tokenize
mapfile -t paths < <(bash "$root/scripts/fetch-models.sh")
for model in "${paths[0]}" "${paths[1]}"; do
  ours=$("$bin" "$model" "$text" "$bytes")
  ref=$(python3 - "$model" "$text" "$bytes" "$root/tests/compat" <<'PY' 2>/dev/null
import sys, time
sys.path.insert(0, sys.argv[4])
import llama_oracle
llm = llama_oracle.load(sys.argv[1], vocab_only=True, verbose=False, n_threads=1)
text = open(sys.argv[2], "rb").read()[: int(sys.argv[3])]
best = min(_t for _t in [(lambda t0: (llm.tokenize(text, add_bos=False, special=False), time.perf_counter() - t0)[1])(time.perf_counter()) for _ in range(5)])
n = len(llm.tokenize(text, add_bos=False, special=False))
print(f"{n} {best:.4f}")
PY
)
  read -r n_ref t_ref <<<"$ref"
  ours_tps=$(sed -E 's/.*: ([0-9]+) tokens\/s.*/\1/' <<<"$ours")
  printf '%-36s libquant %s\n%-36s llama-cpp-python %s tokens in %s s: %.0f tokens/s  ratio %.2fx\n' \
    "$(basename "$model")" "$ours" "" "$n_ref" "$t_ref" "$(echo "$n_ref / $t_ref" | bc -l)" \
    "$(echo "$ours_tps / ($n_ref / $t_ref)" | bc -l)"
done
