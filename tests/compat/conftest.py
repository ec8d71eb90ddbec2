"""Shared fixtures: where the CLI binary and ../shared live, and a helper to run it."""
import json
import os
import subprocess
from pathlib import Path

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: real-model runs, skipped in sanitizer builds (run in the optimised build)")


def pytest_addoption(parser):
    parser.addoption("--llm-quantize", required=True, help="path of the built llm-quantize binary")
    parser.addoption("--shared", required=True, help="path of the shared test-data directory")


@pytest.fixture(scope="session")
def cli(request):
    binary = request.config.getoption("--llm-quantize")

    def run(*args, check=True):
        proc = subprocess.run([binary, *map(str, args)], capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"llm-quantize {args} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def shared(request):
    return Path(request.config.getoption("--shared"))


@pytest.fixture(scope="session")
def converted(cli, shared, tmp_path_factory):
    """stories260K converted by us to every conversion type, keyed by level."""
    out = tmp_path_factory.mktemp("converted")
    files = {}
    for level in ("F32", "F16", "BF16", "Q8_0"):
        proc = cli("--format", "json", "quantize", shared / "models/stories260K", "gguf", "-q", level, "-o", out)
        files[level] = Path(json.loads(proc.stdout)["output_path"])
    return files
