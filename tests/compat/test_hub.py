"""Models from a Hugging Face Hub: the client against a local mock hub (mock_hub.py).

What is checked against what: the cache layout against huggingface_hub 2.x itself
(it reads our cache offline, we read its cache without downloading), file
contents against the SHA-256 / git blob ids the mock computes with hashlib, the
converted GGUF against the same conversion of the local directory, and every
request's host, token and range from the mock's log.
"""
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import save_file

sys.path.insert(0, str(Path(__file__).parent))
from mock_hub import GOOD_TOKEN, MockHub, git_blob_id  # noqa: E402


def big_llama(d, stories):
    """A Llama with 512-wide layers (13 MB of f16) and stories260K's tokenizer: headers are < 0.1 % of it."""
    d.mkdir(parents=True, exist_ok=True)
    cfg = json.loads((stories / "config.json").read_text())
    cfg.update(hidden_size=512, intermediate_size=1376, num_hidden_layers=2, num_attention_heads=8, num_key_value_heads=8,
               head_dim=64, torch_dtype="float16")
    (d / "config.json").write_text(json.dumps(cfg))
    for name in ("tokenizer.model", "tokenizer_config.json"):
        (d / name).write_bytes((stories / name).read_bytes())
    rng = np.random.default_rng(1)
    h, f = 512, 1376
    W = {"model.embed_tokens.weight": rng.standard_normal((512, h)), "model.norm.weight": np.ones(h)}
    for i in range(2):
        p = f"model.layers.{i}."
        W[p + "input_layernorm.weight"] = np.ones(h)
        W[p + "post_attention_layernorm.weight"] = np.ones(h)
        for n in "qkvo":
            W[p + f"self_attn.{n}_proj.weight"] = 0.05 * rng.standard_normal((h, h))
        W[p + "mlp.gate_proj.weight"] = 0.05 * rng.standard_normal((f, h))
        W[p + "mlp.up_proj.weight"] = 0.05 * rng.standard_normal((f, h))
        W[p + "mlp.down_proj.weight"] = 0.05 * rng.standard_normal((h, f))
    save_file({k: v.astype(np.float16) for k, v in W.items()}, str(d / "model.safetensors"), metadata={"format": "pt"})
    return d


def sharded(d, stories):
    """stories260K as two shards with an index, plus a stale consolidated file the job must not fetch."""
    from safetensors.numpy import load_file
    d.mkdir()
    tensors = load_file(str(stories / "model.safetensors"))
    names = sorted(tensors)
    weight_map = {}
    for i, part in enumerate((names[: len(names) // 2], names[len(names) // 2:])):
        shard = f"model-{i + 1:05d}-of-00002.safetensors"
        save_file({n: tensors[n] for n in part}, str(d / shard), metadata={"format": "pt"})
        weight_map.update({n: shard for n in part})
    (d / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    for name in ("config.json", "tokenizer.model", "tokenizer_config.json", "generation_config.json"):
        (d / name).write_bytes((stories / name).read_bytes())
    (d / "consolidated.safetensors").write_bytes((stories / "model.safetensors").read_bytes())
    return d


def files_of(d, prefix=""):
    return {prefix + p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def hub(cli, shared, tmp_path_factory):
    work = tmp_path_factory.mktemp("hub-models")
    stories = shared / "models/stories260K"
    base = files_of(stories)
    extras = {"README.md": b"# stories260K\n", ".gitattributes": b"*.safetensors filter=lfs\n", "onnx/model.onnx": os.urandom(4096)}
    big = big_llama(work / "big", stories)
    ggufs = work / "ggufs"
    ggufs.mkdir()
    (work / "big-gguf").mkdir()
    for level in ("Q8_0", "F16"):
        cli("quantize", stories, "gguf", "-q", level, "-o", ggufs)
    cli("quantize", big, "gguf", "-q", "F16", "-o", work / "big-gguf")
    mock = MockHub()
    mock.add("org/stories260K", {**base, **extras})
    mock.add("org/gated", base, gated=True)
    mock.add("org/private", base, private=True)
    mock.add("org/big", files_of(big))
    mock.add("org/big-GGUF", files_of(work / "big-gguf"))
    mock.add("org/stories-GGUF", files_of(ggufs))
    mock.add("org/sharded", files_of(sharded(work / "sharded", stories)))
    mock.local = {"stories": stories, "big": big, "big_gguf": next((work / "big-gguf").glob("*.gguf")), "ggufs": ggufs}
    yield mock
    mock.close()


@pytest.fixture
def hubrun(request, hub, tmp_path):
    """llm-quantize with the HF_* environment pointing at the mock hub and a fresh cache."""
    binary = request.config.getoption("--llm-quantize")
    hub.reset()
    cache = tmp_path / "hf-home/hub"

    def environment(token=None, offline=False, endpoint=None, cache_dir=None):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
        env.update(HF_HOME=str(tmp_path / "hf-home"), HF_HUB_CACHE=str(cache_dir or cache), HF_ENDPOINT=endpoint or hub.endpoint)
        if token:
            env["HF_TOKEN"] = token
        if offline:
            env["HF_HUB_OFFLINE"] = "1"
        return env

    def run(*args, **kw):
        if "-o" in args:
            Path(args[args.index("-o") + 1]).mkdir(parents=True, exist_ok=True)
        return subprocess.run([binary, *map(str, args)], capture_output=True, text=True, env=environment(**kw))

    run.binary = binary
    run.environment = environment
    run.cache = cache
    run.out = tmp_path / "out"
    return run


def repo_dir(cache, repo_id):
    return cache / ("models--" + repo_id.replace("/", "--"))


def gguf_tensor_bytes(path):
    from gguf import GGUFReader
    r = GGUFReader(str(path))
    return {t.name: bytes(t.data.tobytes()) for t in r.tensors}, {f.name for f in r.fields.values()}


def test_quantize_from_hub_writes_the_huggingface_hub_cache_layout(hub, hubrun, cli):
    proc = hubrun("--format", "json", "quantize", "org/stories260K", "gguf", "-q", "Q8_0", "-o", hubrun.out, token=GOOD_TOKEN)
    assert proc.returncode == 0, proc.stderr
    out = Path(json.loads(proc.stdout)["output_path"])
    assert out.name == "stories260K-Q8_0.gguf"  # named after the repository, not the commit
    (hubrun.out / "local").mkdir()
    local = cli("--format", "json", "quantize", hub.local["stories"], "gguf", "-q", "Q8_0", "-o", hubrun.out / "local")
    ours, _ = gguf_tensor_bytes(out)
    theirs, _ = gguf_tensor_bytes(Path(json.loads(local.stdout)["output_path"]))
    assert ours == theirs

    repo = hub.repos["org/stories260K"]
    root = repo_dir(hubrun.cache, "org/stories260K")
    assert (root / "refs/main").read_text() == repo.commit
    snap = root / "snapshots" / repo.commit
    for name, data in repo.files.items():
        link = snap / name
        if name in ("README.md", ".gitattributes", "onnx/model.onnx"):
            assert not link.exists(), f"{name} is not needed by the job but was downloaded"
            continue
        blob = hashlib.sha256(data).hexdigest() if name in repo.lfs else git_blob_id(data)
        assert link.is_symlink() and os.readlink(link) == f"../../blobs/{blob}"
        assert link.read_bytes() == data
    assert not list((root / "blobs").glob("*.incomplete"))
    # The token goes to the hub only, never to the CDN the LFS files are redirected to.
    for r in hub.log:
        if r["host"].startswith("localhost"):
            assert r["authorization"] is None, r
        else:
            assert r["authorization"] == f"Bearer {GOOD_TOKEN}", r
    assert any(r["host"].startswith("localhost") for r in hub.log), "the LFS redirect was not followed"

    hub.reset()
    again = hubrun("quantize", "org/stories260K", "gguf", "-q", "Q8_0", "-o", hubrun.out / "again")
    assert again.returncode == 0, again.stderr
    assert hub.file_gets() == [], "a second run downloaded files that are in the cache"


def test_offline_mode_reads_the_cache_and_never_the_network(hub, hubrun):
    assert hubrun("quantize", "org/stories260K", "gguf", "-q", "Q8_0", "-o", hubrun.out).returncode == 0
    hub.reset()
    dead = "http://127.0.0.1:9"  # nothing listens there: any request would fail
    proc = hubrun("--format", "json", "info", "org/stories260K", offline=True, endpoint=dead)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["parameter_count"] > 0
    missing = hubrun("--format", "json", "info", "org/big", offline=True, endpoint=dead)
    assert missing.returncode == 3 and json.loads(missing.stdout)["error_type"] == "ModelNotFoundError"


def test_a_commit_hash_revision_works_online_and_offline(hub, hubrun):
    commit = hub.repos["org/stories260K"].commit
    online = hubrun("--format", "json", "info", f"org/stories260K@{commit}")
    assert online.returncode == 0, online.stderr
    root = repo_dir(hubrun.cache, "org/stories260K")
    assert not (root / "refs" / commit).exists()  # a commit needs no ref, as huggingface_hub does it
    assert hubrun("quantize", f"org/stories260K@{commit}", "gguf", "-q", "F16", "-o", hubrun.out).returncode == 0
    offline = hubrun("info", f"org/stories260K@{commit}", offline=True, endpoint="http://127.0.0.1:9")
    assert offline.returncode == 0, offline.stderr


def test_cut_connection_resumes_with_a_range(hub, hubrun):
    size = len(hub.repos["org/stories260K"].files["model.safetensors"])
    hub.faults["model.safetensors"] = [("cut", 300000)]
    proc = hubrun("quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert proc.returncode == 0, proc.stderr
    cdn = [r for r in hub.log if r["path"].endswith("/model.safetensors") and r["path"].startswith("/cdn/")]
    assert [r["range"] for r in cdn] == [None, "bytes=300000-"]
    assert hub.served_bytes() < size + 100000  # nothing fetched twice


def test_interrupted_download_resumes_in_the_next_run(hub, hubrun):
    hub.faults["model.safetensors"] = [("cut", 100000)] * 5  # every attempt of the first run is cut
    first = hubrun("--format", "json", "quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert first.returncode == 1, first.stderr
    err = json.loads(first.stdout)
    assert "/resolve/" in err["message"] and "model.safetensors" in err["message"]
    repo = hub.repos["org/stories260K"]
    sha = hashlib.sha256(repo.files["model.safetensors"]).hexdigest()
    partial = repo_dir(hubrun.cache, "org/stories260K") / "blobs" / f"{sha}.incomplete"
    kept = partial.stat().st_size
    assert kept == 500000  # five cut attempts, each resumed where the last stopped
    assert not (partial.parent / sha).exists()
    hub.reset()
    second = hubrun("quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert second.returncode == 0, second.stderr
    assert [r["range"] for r in hub.log if r["path"].startswith("/cdn/") and r["path"].endswith("/model.safetensors")] == [f"bytes={kept}-"]
    assert (partial.parent / sha).read_bytes() == repo.files["model.safetensors"]


def test_a_failing_disk_write_exits_1_and_keeps_the_partial_for_resume(hub, hubrun):
    """A write error mid-blob (as on a full disk), made with RLIMIT_FSIZE: writes past 400 kB fail with EFBIG."""
    import resource
    import signal

    def small_file_limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # inherited: write() fails instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (400000, 400000))

    hubrun.out.mkdir(parents=True)
    proc = subprocess.run([hubrun.binary, "--format", "json", "quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out],
                          env=hubrun.environment(), capture_output=True, text=True, preexec_fn=small_file_limit)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    err = json.loads(proc.stdout)
    assert "cannot write" in err["message"] and "resumes" in err["suggestion"]
    repo = hub.repos["org/stories260K"]
    sha = hashlib.sha256(repo.files["model.safetensors"]).hexdigest()
    blobs = repo_dir(hubrun.cache, "org/stories260K") / "blobs"
    assert (blobs / f"{sha}.incomplete").stat().st_size == 400000
    assert not (blobs / sha).exists()
    assert not list(hubrun.out.iterdir())
    hub.reset()
    again = hubrun("quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert again.returncode == 0, again.stderr
    assert [r["range"] for r in hub.log if r["path"].startswith("/cdn/") and r["path"].endswith("/model.safetensors")] == ["bytes=400000-"]
    assert (blobs / sha).read_bytes() == repo.files["model.safetensors"]


def test_hash_mismatch_exits_6_and_keeps_nothing(hub, hubrun):
    hub.corrupt.add("model.safetensors")
    proc = hubrun("--format", "json", "quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert proc.returncode == 6, proc.stderr
    assert "SHA-256" in json.loads(proc.stdout)["message"]
    blobs = repo_dir(hubrun.cache, "org/stories260K") / "blobs"
    sha = hashlib.sha256(hub.repos["org/stories260K"].files["model.safetensors"]).hexdigest()
    assert not (blobs / sha).exists() and not (blobs / f"{sha}.incomplete").exists()
    assert not hubrun.out.exists() or not list(hubrun.out.iterdir())


@pytest.mark.parametrize("repo,token,code,words", [
    ("org/gated", None, 4, "restricted"),
    ("org/gated", "hf_wrong", 4, "not in the authorized list"),
    ("org/private", None, 4, "private or gated"),
    ("org/private", "hf_wrong", 3, "token"),
    ("org/does-not-exist", GOOD_TOKEN, 3, "not found"),
    ("org/stories260K@v9", None, 3, "Invalid rev id"),
])
def test_hub_errors_have_their_exit_codes(hub, hubrun, repo, token, code, words):
    proc = hubrun("--format", "json", "info", repo, token=token)
    assert proc.returncode == code, proc.stdout + proc.stderr
    err = json.loads(proc.stdout)
    assert words in err["message"] and err["suggestion"]
    assert GOOD_TOKEN not in proc.stdout + proc.stderr and "hf_wrong" not in proc.stdout + proc.stderr


def test_gated_repo_with_a_token_downloads(hub, hubrun):
    assert hubrun("info", "org/gated", token=GOOD_TOKEN).returncode == 0


def test_retries_on_429_and_5xx_then_gives_up_naming_the_url(hub, hubrun):
    hub.faults["model.safetensors"] = [500, ("retry_after", 429, 1), 503]
    ok = hubrun("quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert ok.returncode == 0, ok.stderr
    assert "HTTP 429" in ok.stderr and "retrying" in ok.stderr
    hub.reset()
    hub.faults["config.json"] = [500] * 5
    failed = hubrun("--format", "json", "quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out / "b",
                    cache_dir=hubrun.cache.parent / "other-cache")
    assert failed.returncode == 1
    assert f"{hub.endpoint}/org/stories260K/resolve/" in json.loads(failed.stdout)["message"]


def test_info_of_a_hub_model_reads_headers_only(hub, hubrun, cli):
    for repo_id, local in (("org/big", hub.local["big"]), ("org/big-GGUF", hub.local["big_gguf"])):
        hub.reset()
        proc = hubrun("--format", "json", "info", repo_id)
        assert proc.returncode == 0, proc.stderr
        ours = json.loads(proc.stdout)
        want = json.loads(cli("--format", "json", "info", local).stdout)
        for key in ("architecture", "parameter_count", "hidden_size", "num_layers", "file_size", "bits_per_weight"):
            assert ours[key] == want[key], key
        weights = sum(len(d) for p, d in hub.repos[repo_id].files.items() if p.endswith((".safetensors", ".gguf")))
        assert hub.served_bytes() < 0.01 * weights, (hub.served_bytes(), weights)
        assert not list(repo_dir(hubrun.cache, repo_id).glob("blobs/*.incomplete"))


def test_sharded_checkpoint_fetches_the_indexed_shards_only(hub, hubrun, cli):
    proc = hubrun("--format", "json", "quantize", "org/sharded", "gguf", "-q", "F32", "-o", hubrun.out)
    assert proc.returncode == 0, proc.stderr
    fetched = {Path(r["path"]).name for r in hub.file_gets()}
    assert "consolidated.safetensors" not in fetched
    assert {"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"} <= fetched
    (hubrun.out / "local").mkdir()
    local = cli("--format", "json", "quantize", hub.local["stories"], "gguf", "-q", "F32", "-o", hubrun.out / "local")
    ours, _ = gguf_tensor_bytes(Path(json.loads(proc.stdout)["output_path"]))
    theirs, _ = gguf_tensor_bytes(Path(json.loads(local.stdout)["output_path"]))
    assert ours == theirs


def test_two_processes_share_one_download(hub, hubrun):
    procs = []
    for i in range(2):
        (hubrun.out / str(i)).mkdir(parents=True)
        procs.append(subprocess.Popen([hubrun.binary, "quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out / str(i)],
                                      env=hubrun.environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    repo = hub.repos["org/stories260K"]
    sha = hashlib.sha256(repo.files["model.safetensors"]).hexdigest()
    blobs = repo_dir(hubrun.cache, "org/stories260K") / "blobs"
    assert (blobs / sha).read_bytes() == repo.files["model.safetensors"]
    assert not list(blobs.glob("*.incomplete"))


def test_token_file_of_huggingface_cli_login_is_used(hub, hubrun):
    token_file = Path(hubrun.environment()["HF_HOME"]) / "token"
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.write_text(GOOD_TOKEN + "\n")
    assert hubrun("info", "org/gated").returncode == 0
    assert all(r["authorization"] == f"Bearer {GOOD_TOKEN}" for r in hub.log if not r["host"].startswith("localhost"))


def test_unreachable_hub_without_cache_exits_1_naming_the_url(hubrun):
    proc = hubrun("--format", "json", "info", "org/stories260K", endpoint="http://127.0.0.1:9")
    assert proc.returncode == 1
    assert "http://127.0.0.1:9/api/models/org/stories260K" in json.loads(proc.stdout)["message"]


def test_terminal_progress_shows_bytes_and_eta(hub, hubrun):
    script = subprocess.run(["bash", "-c", "command -v script"], capture_output=True)
    if script.returncode != 0:
        pytest.fail("util-linux `script` is needed to give the CLI a terminal")
    hubrun.out.mkdir(parents=True, exist_ok=True)
    cmd = f"{hubrun.binary} quantize org/stories260K gguf -q F16 -o {hubrun.out}"
    proc = subprocess.run(["script", "-qec", cmd, "/dev/null"], capture_output=True, text=True, env=hubrun.environment())
    assert proc.returncode == 0, proc.stdout
    assert "download org/stories260K" in proc.stdout and "MB" in proc.stdout and "ETA" in proc.stdout


def test_gguf_repositories_need_a_choice_when_they_hold_several(hub, hubrun):
    many = hubrun("--format", "json", "info", "org/stories-GGUF")
    assert many.returncode == 2
    assert "--gguf-file" in json.loads(many.stdout)["suggestion"] and "stories260K-Q8_0.gguf" in json.loads(many.stdout)["suggestion"]
    by_quant = hubrun("--format", "json", "quantize", "org/stories-GGUF:f16", "gguf", "-q", "Q8_0", "-o", hubrun.out)
    assert by_quant.returncode == 0, by_quant.stderr
    assert {Path(r["path"]).name for r in hub.file_gets()} == {"stories260K-F16.gguf"}
    by_name = hubrun("info", "org/stories-GGUF", "--gguf-file", "stories260K-F16.gguf")
    assert by_name.returncode == 0, by_name.stderr
    absent = hubrun("--format", "json", "info", "org/stories-GGUF:IQ2_XS")
    assert absent.returncode == 3


HF_HUB_SCRIPT = r"""
import json, os, sys
from huggingface_hub import hf_hub_download, snapshot_download
repo, mode = sys.argv[1], sys.argv[2]
path = snapshot_download(repo, local_files_only=(mode == "offline"), allow_patterns=["*.json", "*.model", "*.safetensors"])
print(json.dumps({"path": path, "config": hf_hub_download(repo, "config.json", local_files_only=(mode == "offline"))}))
"""


def test_huggingface_hub_reads_our_cache_offline(hub, hubrun, torch_python):
    assert hubrun("quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out).returncode == 0
    hub.reset()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_HUB_CACHE=str(hubrun.cache), HF_HUB_OFFLINE="1", HF_ENDPOINT="http://127.0.0.1:9")
    proc = subprocess.run([torch_python, "-c", HF_HUB_SCRIPT, "org/stories260K", "offline"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    repo = hub.repos["org/stories260K"]
    assert Path(got["path"]).name == repo.commit
    assert (Path(got["path"]) / "model.safetensors").read_bytes() == repo.files["model.safetensors"]
    assert Path(got["config"]).read_bytes() == repo.files["config.json"]
    assert hub.log == []


def test_we_use_a_cache_written_by_huggingface_hub_without_downloading(hub, hubrun, torch_python):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGING"))}
    env.update(HF_HUB_CACHE=str(hubrun.cache), HF_ENDPOINT=hub.endpoint, HF_HUB_DISABLE_XET="1", HF_HUB_DISABLE_TELEMETRY="1")
    proc = subprocess.run([torch_python, "-c", HF_HUB_SCRIPT, "org/stories260K", "online"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert hub.file_gets(), "huggingface_hub did not download from the mock"
    hub.reset()
    ours = hubrun("quantize", "org/stories260K", "gguf", "-q", "F16", "-o", hubrun.out)
    assert ours.returncode == 0, ours.stderr
    assert hub.file_gets() == []
    offline = hubrun("quantize", "org/stories260K", "gguf", "-q", "Q8_0", "-o", hubrun.out, offline=True, endpoint="http://127.0.0.1:9")
    assert offline.returncode == 0, offline.stderr
