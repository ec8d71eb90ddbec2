"""CLI end-to-end tests: run the built llm-quantize binary as a user would."""
import json
import os
import subprocess
from pathlib import Path

import pytest


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: whole-text runs, skipped in sanitizer builds (run in the optimised build)")


def pytest_addoption(parser):
    parser.addoption("--llm-quantize", required=True, help="path of the built llm-quantize binary")
    parser.addoption("--shared", required=True, help="path of the shared test-data directory")


class Cli:
    def __init__(self, binary):
        self.binary = os.path.abspath(binary)

    def __call__(self, *args, env=None, cwd=None):
        return subprocess.run([self.binary, *map(str, args)], capture_output=True, text=True, env=env, cwd=cwd)

    def json(self, *args, env=None):
        proc = self("--format", "json", *args, env=env)
        return proc, json.loads(proc.stdout) if proc.stdout.strip() else None


@pytest.fixture(scope="session", autouse=True)
def checkpoint_dir(tmp_path_factory):
    """Keep checkpoints of every run out of the working directory."""
    d = tmp_path_factory.mktemp("checkpoints")
    os.environ["LLM_QUANTIZE_CHECKPOINT_DIR"] = str(d)
    return d


@pytest.fixture(scope="session")
def cli(request):
    return Cli(request.config.getoption("--llm-quantize"))


@pytest.fixture(scope="session")
def shared(request):
    return Path(request.config.getoption("--shared"))


@pytest.fixture(scope="session")
def model_dir(shared):
    return shared / "models/stories260K"
