"""`--device auto|cpu|cuda`: the CPU always works, `cuda` fails with exit 8 and
the reason when the plugin cannot be used (missing, wrong ABI, no GPU), and
`auto` falls back to the CPU with the same results. The ABI check is driven by
a stand-in plugin compiled here; the real plugin (the cuda preset's, or the one
scripts/test.sh builds with nvcc; CMake passes --cuda-plugin) is loaded when
present. Without a GPU those tests accept "no CUDA device visible"; with
LIBQUANT_REQUIRE_GPU=1 (GPU machines, scripts/test-gpu.sh) a missing plugin or
device fails them."""
import os
import shutil
import subprocess

import pytest


def run_env(**extra):
    env = dict(os.environ)
    env.pop("LLM_QUANTIZE_DEVICE", None)
    env.update(extra)
    return env


def info(cli, model_dir, *flags, env=None):
    return cli.json(*flags, "info", model_dir, env=env)


def test_cpu_and_auto_agree_without_plugin(cli, model_dir):
    env = run_env(LLM_QUANTIZE_CUDA_PLUGIN="/nonexistent/libquant_cuda.so")
    p1, a = info(cli, model_dir, "--device", "cpu", env=env)
    p2, b = info(cli, model_dir, "--device", "auto", env=env)
    assert p1.returncode == 0 and p2.returncode == 0
    assert a == b


def test_cuda_without_plugin_is_exit_8_with_reason(cli, model_dir):
    proc, res = info(cli, model_dir, "--device", "cuda", env=run_env(LLM_QUANTIZE_CUDA_PLUGIN="/nonexistent/x.so"))
    assert proc.returncode == 8
    assert res["status"] == "error" and "not found" in res["message"] and "--device cpu" in res["suggestion"]


def test_unknown_device_is_exit_2(cli, model_dir):
    proc, res = info(cli, model_dir, "--device", "tpu")
    assert proc.returncode == 2 and res["error_code"] == 2


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler for the stand-in plugin")
@pytest.mark.parametrize("version,count,expect", [(99, 1, "ABI 99"), (2, 0, "no CUDA device visible")])
def test_plugin_abi_and_device_checks(cli, model_dir, tmp_path, version, count, expect):
    src = tmp_path / "fake.c"
    src.write_text(f"""
        int lq_cuda_abi_version(void) {{ return {version}; }}
        int lq_cuda_device_count(void) {{ return {count}; }}
        int lq_cuda_open(int d, char* n, unsigned long l, void* t) {{ return -1; }}
        const char* lq_cuda_last_error(void) {{ return "fake"; }}
    """)
    lib = tmp_path / "libfake.so"
    subprocess.run(["cc", "-shared", "-fPIC", "-o", lib, src], check=True)
    proc, res = info(cli, model_dir, "--device", "cuda", env=run_env(LLM_QUANTIZE_CUDA_PLUGIN=str(lib)))
    assert proc.returncode == 8, proc.stderr
    assert expect in res["message"]
    proc, _ = info(cli, model_dir, "--device", "auto", env=run_env(LLM_QUANTIZE_CUDA_PLUGIN=str(lib)))
    assert proc.returncode == 0


def require_gpu():
    return os.environ.get("LIBQUANT_REQUIRE_GPU") == "1"


@pytest.fixture
def cuda_plugin(request):
    path = request.config.getoption("--cuda-plugin")
    if not path or not os.path.exists(path):
        if require_gpu():
            pytest.fail("LIBQUANT_REQUIRE_GPU=1 but no CUDA plugin was built (configure with the cuda preset)")
        pytest.skip("the CUDA plugin was not built (no nvcc)")
    return path


def test_real_plugin_loads(cli, model_dir, cuda_plugin):
    proc, res = info(cli, model_dir, "--device", "cuda", env=run_env(LLM_QUANTIZE_CUDA_PLUGIN=cuda_plugin))
    if proc.returncode == 8 and not require_gpu():  # built, loaded, ABI accepted: only the GPU is missing
        assert "no CUDA device visible" in res["message"], res["message"]
        return
    assert proc.returncode == 0, res


def test_gguf_rows_are_bit_identical_on_cpu_and_cuda(cli, model_dir, cuda_plugin, tmp_path):
    outputs = {}
    for device in ("cpu", "cuda"):
        out = tmp_path / device
        out.mkdir()
        proc, res = cli.json("--device", device, "quantize", model_dir, "gguf", "-q", "Q8_0", "-o", out,
                             env=run_env(LLM_QUANTIZE_CUDA_PLUGIN=cuda_plugin))
        if device == "cuda" and proc.returncode == 8 and not require_gpu():
            pytest.skip(f"no GPU here: {res['message']}")
        assert proc.returncode == 0, res
        outputs[device] = open(res["output_path"], "rb").read()
    assert outputs["cpu"] == outputs["cuda"]
