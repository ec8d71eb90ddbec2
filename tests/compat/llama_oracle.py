"""llama-cpp-python as a test oracle.

Every model goes through load(): llama.cpp 0.3.36's extra CPU buffer types
(AMX and repacked weights) crash in llama_decode on Q8_0 tensors with 64-wide
rows on AMX CPUs (Sapphire Rapids and later; stories260K's llama-quantize
Q8_0 golden file is enough), so the oracle runs ggml's plain CPU kernels:
same arithmetic on the machines without AMX, no crash on those with it.
"""
import llama_cpp
from llama_cpp import llama_cpp as _c

_default_params = _c.llama_model_default_params


def _plain_cpu_params():
    params = _default_params()
    params.use_extra_bufts = False
    return params


_c.llama_model_default_params = _plain_cpu_params


def load(path, **kwargs):
    return llama_cpp.Llama(model_path=str(path), **kwargs)
