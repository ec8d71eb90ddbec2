"""The libquant Python package's tests: they import the installed package (a
wheel built by scripts/test-python-package.sh in a fresh venv), never the
source tree."""
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def pytest_addoption(parser):
    parser.addoption("--shared", required=True, help="path of the shared test-data directory")
    parser.addoption("--llm-quantize", required=True, help="the llm-quantize binary (byte-identity checks)")
    parser.addoption("--torch-python", default="", help="a Python with torch (the PyTorch example)")


@pytest.fixture(scope="session")
def shared(request):
    return Path(request.config.getoption("--shared"))


@pytest.fixture(scope="session")
def cli(request):
    binary = request.config.getoption("--llm-quantize")

    def run(*args):
        return subprocess.run([binary, *map(str, args)], check=True, capture_output=True, text=True)

    return run


@pytest.fixture(scope="session")
def stories(shared):
    """The 260K-parameter Llama checkpoint (HF directory) of the shared test data."""
    return shared / "models/stories260K"


@pytest.fixture(scope="session")
def stories_gguf(shared):
    return shared / "models/stories260K.gguf"


@pytest.fixture(scope="session")
def calib(shared):
    return shared / "data/calib.txt"


@pytest.fixture(scope="session")
def smollm2():
    """SmolLM2-135M (Q4_1 GGUF) from the project's model cache (scripts/fetch-models.sh)."""
    out = subprocess.run(["bash", str(ROOT / "scripts/fetch-models.sh")], check=True, capture_output=True, text=True)
    return next(Path(p) for p in out.stdout.split() if Path(p).name.startswith("SmolLM2"))


@pytest.fixture(scope="session")
def stories_imatrix(stories, calib, tmp_path_factory):
    import libquant

    return libquant.analyze(stories, tmp_path_factory.mktemp("imatrix") / "stories.imatrix.gguf",
                            calibration_data=calib, ctx=128, chunks=4)
