"""Shared fixtures: where the CLI binary and ../shared live, and a helper to run it."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "integration"))
from session_folders import isolate_state_folders  # noqa: E402


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: real-model runs, skipped in sanitizer builds (run in the optimised build)")


@pytest.fixture(scope="session", autouse=True)
def state_folders(tmp_path_factory):
    """Checkpoints and automatic imatrices of every run go to this session's folders."""
    isolate_state_folders(tmp_path_factory)


def pytest_addoption(parser):
    parser.addoption("--llm-quantize", required=True, help="path of the built llm-quantize binary")
    parser.addoption("--shared", required=True, help="path of the shared test-data directory")
    parser.addoption("--codec-tool", default=None, help="path of the built codec_tool helper")
    parser.addoption("--tokenize-tool", default=None, help="path of the built tokenize_tool helper")


@pytest.fixture(scope="session")
def tokenize_tool(request):
    tool = request.config.getoption("--tokenize-tool")
    if not tool:
        pytest.fail("--tokenize-tool is required for tokenizer tests")
    return tool


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
def codec(request, tmp_path_factory):
    """Our block codecs on numpy arrays, through the codec_tool helper."""
    import numpy as np

    tool = request.config.getoption("--codec-tool")
    if not tool:
        pytest.fail("--codec-tool is required for codec tests")
    work = tmp_path_factory.mktemp("codec")

    class Codec:
        @staticmethod
        def quantize(x, qtype, importance=None, scalar=False):
            x = np.ascontiguousarray(x, dtype=np.float32)
            (work / "in.f32").write_bytes(x.tobytes())
            args = [tool, "quantize", qtype, str(x.shape[-1]), str(work / "in.f32"), str(work / "out.bin")]
            if importance is not None:
                (work / "imp.f32").write_bytes(np.ascontiguousarray(importance, dtype=np.float32).tobytes())
                args.append(str(work / "imp.f32"))
            env = dict(os.environ, LLM_QUANTIZE_SIMD="scalar") if scalar else None
            subprocess.run(args, check=True, env=env)
            return np.frombuffer((work / "out.bin").read_bytes(), dtype=np.uint8)

        @staticmethod
        def dequantize(data, qtype):
            (work / "in.bin").write_bytes(np.ascontiguousarray(data, dtype=np.uint8).tobytes())
            subprocess.run([tool, "dequantize", qtype, str(work / "in.bin"), str(work / "out.f32")], check=True)
            return np.frombuffer((work / "out.f32").read_bytes(), dtype=np.float32)

    return Codec


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


@pytest.fixture(scope="session")
def torch_python():
    """The cached venv with torch, transformers, compressed-tensors and tokenizers."""
    default = Path(os.environ.get("LLM_QUANTIZE_CACHE", Path.home() / ".cache/llm-quantize")) / "venv-torch/bin/python"
    py = Path(os.environ.get("LLM_QUANTIZE_TORCH_PYTHON", default))
    if not py.exists():
        pytest.fail(f"{py} is missing: run scripts/install-torch-oracle.sh (scripts/install-deps.sh does)")
    return str(py)


def cached_venv_python(venv, script):
    """The python of a cached oracle venv that scripts/install-deps.sh builds."""
    py = Path(os.environ.get("LLM_QUANTIZE_CACHE", Path.home() / ".cache/llm-quantize")) / venv / "bin/python"
    if not py.exists():
        pytest.fail(f"{py} is missing: run scripts/{script} (scripts/install-deps.sh does)")
    return str(py)


@pytest.fixture(scope="session")
def llmcompressor_python():
    """The cached venv with llm-compressor, layered over the torch oracle's."""
    return cached_venv_python("venv-llmcompressor", "install-llmcompressor-oracle.sh")


@pytest.fixture(scope="session")
def gptqmodel_python():
    """The cached venv with GPTQModel (transformers' GPTQ / AWQ loader), layered over the torch oracle's."""
    return cached_venv_python("venv-gptqmodel", "install-gptqmodel-oracle.sh")
