"""The installed package: typed (stubs for the compiled core), versioned, and
its documentation's and examples' code runs as written."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import libquant
from libquant import _core

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = Path(libquant.__file__).parent


def public_functions(module):
    return {n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))}


def test_installed_not_the_source_tree():
    assert ROOT / "python" not in PACKAGE.parents, PACKAGE
    assert (PACKAGE / "py.typed").exists()


def test_stubs_cover_the_compiled_core():
    stubs = {"": (PACKAGE / "_core/__init__.pyi").read_text(), "gguf": (PACKAGE / "_core/gguf.pyi").read_text()}
    for key, module in (("", _core), ("gguf", _core.gguf)):
        for name in public_functions(module):
            assert re.search(rf"^(def|class) {name}\b", stubs[key], re.M), f"{key}.{name} has no stub"
    assert "target_bpw: float | None = None" in stubs[""]
    assert "def quantize(rows: Annotated[NDArray[numpy.float32]" in stubs["gguf"]


def test_version_is_the_projects():
    cmake = (ROOT / "CMakeLists.txt").read_text()
    assert libquant.__version__ == re.search(r"project\(libquant VERSION ([0-9.]+)", cmake).group(1)


def python_blocks(markdown):
    return re.findall(r"```python\n(.*?)```", markdown, re.S)


def test_docs_python_md_runs(shared, tmp_path):
    """docs/python.md's snippets, in order, in one interpreter: paths in them
    are relative to a folder holding the shared test data's models/ and data/."""
    code = "\n".join(python_blocks((ROOT / "docs/python.md").read_text()))
    assert code.count("libquant.") >= 10
    (tmp_path / "models").symlink_to(shared / "models")
    (tmp_path / "data").symlink_to(shared / "data")
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]


def test_torch_example(request, tmp_path):
    """examples/torch_fake_quant.py under a Python with torch: the installed
    package is put on its path (it has no other dependency than numpy)."""
    torch_python = request.config.getoption("--torch-python")
    if not torch_python:
        pytest.skip("no --torch-python given")
    (tmp_path / "libquant").symlink_to(PACKAGE)
    env = dict(os.environ, PYTHONPATH=str(tmp_path))
    r = subprocess.run([torch_python, str(ROOT / "examples/torch_fake_quant.py"), "--steps", "20"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["forward_equals_gguf"] is True and out["max_weight_change"] > 0
    assert out["bytes"] == 128 * libquant.gguf.row_size("Q3_K", 512)
    assert 0 < out["qat_mse"] < 10 * out["ptq_mse"]
