"""CLI end-to-end tests: run the built llm-quantize binary as a user would."""
import json
import os
import resource
import subprocess
import tempfile
from pathlib import Path

import pytest

from session_folders import isolate_state_folders


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: whole-text runs, skipped in sanitizer builds (run in the optimised build)")


@pytest.fixture(scope="session", autouse=True)
def state_folders(tmp_path_factory):
    """Checkpoints and automatic imatrices of every run go to this session's folders."""
    isolate_state_folders(tmp_path_factory)


def pytest_addoption(parser):
    parser.addoption("--llm-quantize", required=True, help="path of the built llm-quantize binary")
    parser.addoption("--sanitized", action="store_true", help="the binary is an ASan/UBSan build")
    parser.addoption("--shared", required=True, help="path of the shared test-data directory")
    parser.addoption("--cuda-plugin", default="", help="a built libquant_cuda plugin for the GPU tests (CMake passes it)")


SIMD_LEVELS = ["scalar", "avx2", "avx512"]


def cpu_simd_level(binary):
    """The best SIMD level the binary's kernels find on this CPU (from --version)."""
    out = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    return out.split("CPU SIMD: ")[1].split(")")[0]


def pytest_report_header(config):
    return f"llm-quantize kernels: CPU SIMD level {cpu_simd_level(config.getoption('--llm-quantize'))}"


def simd_env(level, cpu_level):
    """Environment that runs the CLI's kernels at `level`; skips the test when the CPU lacks it."""
    if SIMD_LEVELS.index(level) > SIMD_LEVELS.index(cpu_level):
        pytest.skip(f"this CPU has no {level} (best: {cpu_level})")
    print(f"kernels: {level} (CPU best: {cpu_level})")
    return {**os.environ, "LLM_QUANTIZE_SIMD": level}


class Cli:
    def __init__(self, binary):
        self.binary = os.path.abspath(binary)

    def __call__(self, *args, env=None, cwd=None):
        return subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd)

    def json(self, *args, env=None):
        proc = self("--format", "json", *args, env=env)
        return proc, json.loads(proc.stdout) if proc.stdout.strip() else None

    def timed(self, *args, timeout, env=None, limit_address_space=None):
        """A run that must end within `timeout` seconds (a hang fails the test)."""
        def limit():
            if limit_address_space:
                resource.setrlimit(resource.RLIMIT_AS, (limit_address_space, limit_address_space))
        try:
            return subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, env=env,
                                  timeout=timeout, preexec_fn=limit)
        except subprocess.TimeoutExpired:
            pytest.fail(f"llm-quantize {' '.join(map(str, args))} still running after {timeout} s")

    def peak_rss(self, *args):
        """(CompletedProcess, peak resident set in bytes) of one run."""
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            p = subprocess.Popen([self.binary, *map(str, args)], stdout=out, stderr=err)
            _, status, usage = os.wait4(p.pid, 0)
            p.returncode = os.waitstatus_to_exitcode(status)
            out.seek(0)
            err.seek(0)
            proc = subprocess.CompletedProcess(p.args, p.returncode, out.read().decode(), err.read().decode())
        return proc, usage.ru_maxrss * 1024


@pytest.fixture(scope="session")
def cli(request):
    return Cli(request.config.getoption("--llm-quantize"))


@pytest.fixture(scope="session")
def sanitized(request):
    return request.config.getoption("--sanitized")


@pytest.fixture(scope="session")
def cpu_simd(request):
    return cpu_simd_level(request.config.getoption("--llm-quantize"))


@pytest.fixture(scope="session")
def shared(request):
    return Path(request.config.getoption("--shared"))


@pytest.fixture(scope="session")
def model_dir(shared):
    return shared / "models/stories260K"
