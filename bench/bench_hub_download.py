#!/usr/bin/env python3
"""Hub download side by side: llm-quantize's client vs huggingface_hub 2.x.

Both fetch the same GGUF (default: the cached SmolLM2-135M Q4_1, 98 MB) from the
mock hub of tests/compat/mock_hub.py on 127.0.0.1 into fresh caches, three
times each; prints the best wall time of each, the ratio, and whether the two
caches hold identical blobs. Then `info` on the same repository (headers only)
and the bytes it transferred.

usage: bench/bench_hub_download.py BUILD/apps/llm-quantize/llm-quantize TORCH_VENV_PYTHON [GGUF]
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests/compat"))
from mock_hub import MockHub  # noqa: E402

binary, torch_python = sys.argv[1], sys.argv[2]
gguf = Path(sys.argv[3] if len(sys.argv) > 3 else Path.home() / ".cache/llm-quantize/models/SmolLM2-135M-Instruct.Q4_1.gguf")
hub = MockHub()
hub.add("bench/model-GGUF", {gguf.name: gguf.read_bytes()})
work = Path(tempfile.mkdtemp(prefix="bench-hub-"))
base_env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
base_env.update(HF_ENDPOINT=hub.endpoint, HF_HOME=str(work / "home"), HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
HF = "import sys; from huggingface_hub import hf_hub_download; hf_hub_download('bench/model-GGUF', sys.argv[1])"


def timed(cmd, cache):
    shutil.rmtree(cache, ignore_errors=True)
    env = dict(base_env, HF_HUB_CACHE=str(cache))
    t = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed, proc


# The download is timed inside a job that needs the whole file (quantize from the
# hub) minus the same job on the local file: the CLI has no download-only command.
out = work / "out"
out.mkdir()
local_q = min(timed([binary, "quantize", str(gguf), "gguf", "-q", "Q8_0", "-o", str(out), "--allow-requantize"],
                    work / "unused")[0] for _ in range(3))
ours_total = min(timed([binary, "quantize", "bench/model-GGUF", "gguf", "-q", "Q8_0", "-o", str(out), "--allow-requantize"],
                       work / "ours")[0] for _ in range(3))
theirs = min(timed([torch_python, "-c", HF, gguf.name], work / "theirs")[0] for _ in range(3))
ours_dl = ours_total - local_q
same = (next((work / "ours").rglob("blobs/*")).read_bytes() == next((work / "theirs").rglob("blobs/*")).read_bytes())
hub.reset()
info_t, info = timed([binary, "--format", "json", "info", "bench/model-GGUF"], work / "info")
print(f"file: {gguf.name} ({gguf.stat().st_size / 1e6:.1f} MB), mock hub on 127.0.0.1")
print(f"llm-quantize download: {ours_dl:.2f} s (quantize from hub {ours_total:.2f} s - local quantize {local_q:.2f} s)")
print(f"huggingface_hub hf_hub_download: {theirs:.2f} s (includes Python start, ~0.5-1 s)")
print(f"ratio huggingface_hub / llm-quantize: {theirs / ours_dl:.2f}x; identical blobs: {same}")
print(f"info over the hub: {info_t:.2f} s, {hub.served_bytes()} bytes transferred "
      f"({100 * hub.served_bytes() / gguf.stat().st_size:.3f} % of the file); parameters {json.loads(info.stdout)['parameter_count']}")
hub.close()
shutil.rmtree(work)
