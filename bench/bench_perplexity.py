#!/usr/bin/env python3
"""Perplexity throughput, us vs llama.cpp (through llama-cpp-python), on the
same GGUF file, text, context and thread count, in one run. Prints both
perplexities (they should agree) and the tokens/s ratio.

  bench/bench_perplexity.py BUILD/apps/llm-quantize/llm-quantize MODEL.gguf TEXT [--ctx 256] [--chunks 100]
"""
import argparse
import json
import math
import subprocess
import time

import numpy as np
import llama_cpp


def ours(binary, model, text, ctx, chunks, threads):
    out = subprocess.run([binary, "--format", "json", "quality", "perplexity", model, "--data", text, "--ctx", str(ctx),
                          "--chunks", str(chunks), "--batch", "8", "--threads", str(threads)],
                         check=True, capture_output=True, text=True).stdout
    r = json.loads(out)
    return r["perplexity"], r["tokens_per_second"]


def llama(model, text, ctx, chunks, threads):
    llm = llama_cpp.Llama(model_path=model, n_ctx=ctx, n_batch=ctx, logits_all=True, verbose=False,
                          n_threads=threads, n_threads_batch=threads)
    tokens = llm.tokenize(open(text, "rb").read(), add_bos=True, special=False)
    chunks = min(chunks, len(tokens) // ctx)
    first, nll, count, elapsed = ctx // 2, 0.0, 0, 0.0
    for c in range(chunks):
        chunk = tokens[c * ctx:(c + 1) * ctx]
        chunk[0] = llm.token_bos()
        llm.reset()
        t0 = time.perf_counter()
        llm.eval(chunk)
        elapsed += time.perf_counter() - t0
        logits = np.asarray(llm.scores[:ctx], dtype=np.float64)
        for j in range(first, ctx - 1):
            row = logits[j]
            m = row.max()
            nll += math.log(np.exp(row - m).sum()) - (row[chunk[j + 1]] - m)
            count += 1
    return math.exp(nll / count), chunks * ctx / elapsed


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("binary")
    ap.add_argument("model")
    ap.add_argument("text")
    ap.add_argument("--ctx", type=int, default=256)
    ap.add_argument("--chunks", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    p1, t1 = ours(a.binary, a.model, a.text, a.ctx, a.chunks, a.threads)
    p2, t2 = llama(a.model, a.text, a.ctx, a.chunks, a.threads)
    print(f"libquant : PPL {p1:.4f}  {t1:9.0f} tokens/s")
    print(f"llama.cpp: PPL {p2:.4f}  {t2:9.0f} tokens/s (llama-cpp-python {llama_cpp.__version__}, decode time only)")
    print(f"ratio (libquant / llama.cpp): {t1 / t2:.2f}x")


if __name__ == "__main__":
    main()
