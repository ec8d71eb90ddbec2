"""Ctrl-C during a long job: KeyboardInterrupt, promptly, and nothing left at
the output path (the job's own cleanup runs as for any other failure)."""
import signal
import subprocess
import sys
import time

import pytest

# An importance matrix of SmolLM2-135M over the whole of wiki.test.raw: about
# 600 chunks, far more than ten minutes on two cores. The progress callback
# says when the chunks have started.
JOB = r"""
import sys, libquant
def progress(stage, done, total):
    if stage and not getattr(progress, "said", False):
        progress.said = True
        print("started", stage, total, flush=True)
libquant.analyze(sys.argv[1], sys.argv[2], calibration_data=sys.argv[3], progress=progress)
print("finished", flush=True)
"""


def test_ctrl_c_stops_a_long_job_and_leaves_nothing(smollm2, shared, tmp_path):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    output = out_dir / "smollm2.imatrix.gguf"
    p = subprocess.Popen([sys.executable, "-c", JOB, str(smollm2), str(output), str(shared / "data/wiki.test.raw")],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = p.stdout.readline()
        assert line.startswith("started"), (line, p.stderr.read())
        total = int(line.split()[-1])
        assert total > 100  # really a long job
        time.sleep(1.0)
        sent = time.monotonic()
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=180)
        latency = time.monotonic() - sent
    finally:
        if p.poll() is None:
            p.kill()
    assert p.returncode != 0 and "KeyboardInterrupt" in err, err[-2000:]
    assert "finished" not in err
    assert list(out_dir.iterdir()) == []  # no output, no temporary file
    print(f"stopped {latency:.1f} s after SIGINT")
