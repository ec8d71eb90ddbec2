"""llama-quantize's options that shape the output without changing a codec:
--dry-run, --prune-layers, --override-kv, --include-weights / --exclude-weights.
Their bytes are compared with the 2026 llama-quantize in
tests/compat/test_llama_quantize_2026.py; here: what they promise on their own
(the plan equals the real run, nothing written, bad values exit 2 naming them)."""
import json
import sys
from pathlib import Path

import pytest
from gguf import GGUFReader, GGUFValueType

sys.path.insert(0, str(Path(__file__).parent))


def model(shared):
    return shared / "golden/synthetic-a/model-f32.gguf"


def imatrix(shared):
    return shared / "golden/synthetic-a/imatrix.dat"


@pytest.mark.parametrize("qtype,extra,with_imatrix", [
    ("Q4_K_M", [], False),
    ("IQ2_XS", [], True),
    ("Q3_K_M", ["--prune-layers", "1", "--override-kv", "general.name=str:short"], False),
])
def test_dry_run_plans_the_real_run_and_writes_nothing(cli, shared, tmp_path, qtype, extra, with_imatrix):
    if with_imatrix:
        extra = extra + ["--imatrix", imatrix(shared)]
    plan_dir, real_dir = tmp_path / "plan", tmp_path / "real"
    plan_dir.mkdir()
    real_dir.mkdir()
    proc, plan = cli.json("quantize", model(shared), "gguf", "-q", qtype, "-o", plan_dir, "--dry-run", *extra)
    assert proc.returncode == 0, proc.stderr
    assert plan["dry_run"] is True and plan["validation_status"] == "not written"
    assert not any(plan_dir.iterdir()) and not any(tmp_path.glob(".checkpoint*"))
    proc, real = cli.json("--verbosity", "verbose", "quantize", model(shared), "gguf", "-q", qtype, "-o", real_dir,
                          *extra)
    assert proc.returncode == 0, proc.stderr
    written = real["output_path"]
    assert plan["file_size"] == real["file_size"] == (real_dir / written.split("/")[-1]).stat().st_size
    stored = {t.name: (t.tensor_type.name, int(t.n_bytes)) for t in GGUFReader(written).tensors}
    assert {t["name"]: (t["type"], t["bytes"]) for t in plan["tensors"]} == stored


def test_dry_run_without_a_needed_imatrix_says_so(cli, shared, tmp_path):
    proc, plan = cli.json("quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path, "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert any("importance" in n and "IQ2_XS" in n for n in plan["notes"]), plan["notes"]
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "IQ2_XS", "-o", tmp_path, "--no-auto-imatrix")
    assert proc.returncode == 10 and not any(tmp_path.iterdir())
    text = cli("quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path, "--dry-run")
    assert text.returncode == 0 and "nothing written" in text.stdout and "blk.1.ffn_down.weight" in text.stdout


def test_dry_run_has_nothing_to_check(cli, shared, tmp_path):
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path, "--dry-run",
                         "--quality-report")
    assert proc.returncode == 2 and "--dry-run" in res["message"]


def test_pruned_layers_are_gone_and_the_rest_renumbered(cli, shared, tmp_path):
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q8_0", "-o", tmp_path, "--prune-layers", "0")
    assert proc.returncode == 0, proc.stderr
    out = GGUFReader(res["output_path"])
    src = GGUFReader(model(shared))
    assert int(out.fields["llama.block_count"].contents()) == 1
    names = [t.name for t in out.tensors]
    assert not any(n.startswith("blk.1.") for n in names) and "blk.0.attn_q.weight" in names
    # The kept block is the source's block 1, under its new number.
    kept = next(t for t in src.tensors if t.name == "blk.1.attn_norm.weight")
    assert bytes(next(t for t in out.tensors if t.name == "blk.0.attn_norm.weight").data) == bytes(kept.data)


@pytest.mark.parametrize("value,words", [
    ("2", "layers 0 to 1"),
    ("0,x", "'x' is not a layer number"),
    ("-1", "'-1' is not a layer number"),
    ("0,1", "no model"),
    ("", "'' is not a layer number"),
])
def test_bad_prune_layers_are_exit_2(cli, shared, tmp_path, value, words):
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q8_0", "-o", tmp_path, "--prune-layers", value)
    assert proc.returncode == 2 and words in res["message"], res
    assert not any(tmp_path.iterdir())


def test_pruning_does_not_combine_with_dynamic(cli, shared, tmp_path):
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "dynamic", "--target-bpw", "4", "-o", tmp_path,
                         "--prune-layers", "1")
    assert proc.returncode == 2 and "prune" in res["message"]


def test_override_kv_types_as_llama_quantize(cli, shared, tmp_path):
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q8_0", "-o", tmp_path,
                         "--override-kv", "general.name=str:renamed", "--override-kv", "x.count=int:-7",
                         "--override-kv", "x.scale=float:0.5", "--override-kv", "x.flag=bool:false")
    assert proc.returncode == 0, proc.stderr
    f = GGUFReader(res["output_path"]).fields
    assert f["general.name"].contents() == "renamed"
    assert f["x.count"].types == [GGUFValueType.UINT32] and f["x.count"].contents() == 7
    assert f["x.scale"].types == [GGUFValueType.FLOAT32] and f["x.scale"].contents() == 0.5
    assert f["x.flag"].contents() is False
    assert list(f)[-4:] == ["general.name", "x.count", "x.scale", "x.flag"]  # set again: moved last


@pytest.mark.parametrize("spec,words", [
    ("general.name", "no KEY="),
    ("=str:x", "no KEY="),
    ("a.b=str", "no TYPE:"),
    ("a.b=int:12abc", "not an integer"),
    ("a.b=int:99999999999", "32 bits"),
    ("a.b=float:nan", "finite"),
    ("a.b=bool:yes", "true or false"),
    ("a.b=list:1", "unknown type 'list'"),
    ("a.b=str:" + "x" * 128, "127 bytes"),
])
def test_bad_override_kv_is_exit_2(cli, shared, tmp_path, spec, words):
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q8_0", "-o", tmp_path, "--override-kv", spec)
    assert proc.returncode == 2 and words in res["message"], res
    assert not any(tmp_path.iterdir())


def test_imatrix_entry_filters(cli, shared, tmp_path):
    both = cli("quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path, "--imatrix", imatrix(shared),
               "--include-weights", "attn", "--exclude-weights", "ffn")
    assert both.returncode == 2
    alone = cli("quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path, "--include-weights", "attn")
    assert alone.returncode == 2 and "--imatrix" in alone.stderr
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path, "-n", "inc.gguf",
                         "--imatrix", imatrix(shared), "--include-weights", "attn_q", "--include-weights", "ffn_up")
    assert proc.returncode == 0, proc.stderr
    # 2 layers x (attn_q, ffn_up) of the imatrix's 14 entries are left.
    assert GGUFReader(res["output_path"]).fields["quantize.imatrix.entries_count"].contents() == 4
    proc, res = cli.json("quantize", model(shared), "gguf", "-q", "Q4_K_M", "-o", tmp_path, "-n", "none.gguf",
                         "--imatrix", imatrix(shared), "--exclude-weights", "blk.")
    assert proc.returncode == 0, proc.stderr
    assert "quantize.imatrix.file" not in GGUFReader(res["output_path"]).fields  # nothing left: as without one
    assert "no imatrix entry is left" in proc.stderr


def split_model(shared, tmp_path):
    from gguf_split_files import split_copy
    folder = tmp_path / "in"
    folder.mkdir()
    return split_copy(model(shared), folder, 7)


def test_split_input_reads_as_one_model_and_keep_split_writes_its_shards(cli, shared, tmp_path):
    shards = split_model(shared, tmp_path)
    whole, _ = cli.json("quantize", model(shared), "gguf", "-q", "Q8_0", "-o", tmp_path, "-n", "whole.gguf")
    proc, res = cli.json("quantize", shards[0], "gguf", "-q", "Q8_0", "-o", tmp_path, "-n", "joined.gguf")
    assert proc.returncode == 0 == whole.returncode, proc.stderr
    # Same tensors and metadata as the unsplit model's output; gguf-py may order metadata keys differently.
    joined = GGUFReader(tmp_path / "joined.gguf")
    assert {t.name: bytes(t.data) for t in joined.tensors} == \
        {t.name: bytes(t.data) for t in GGUFReader(tmp_path / "whole.gguf").tensors}
    assert not any(k.startswith("split.") for k in joined.fields)
    out = tmp_path / "out"
    out.mkdir()
    proc, plan = cli.json("quantize", shards[0], "gguf", "-q", "Q8_0", "-o", out, "-n", "s.gguf", "--keep-split",
                          "--dry-run")
    proc, res = cli.json("quantize", shards[0], "gguf", "-q", "Q8_0", "-o", out, "-n", "s.gguf", "--keep-split")
    assert proc.returncode == 0, proc.stderr
    names = [f"s-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert [p.split("/")[-1] for p in res["output_shards"]] == names == sorted(p.name for p in out.iterdir())
    assert plan["file_size"] == res["file_size"] == sum((out / n).stat().st_size for n in names)
    for i, name in enumerate(names):
        f = GGUFReader(out / name).fields
        assert f["split.no"].contents() == i and f["split.count"].contents() == 3
        assert f["split.tensors.count"].contents() == 20
        assert ("general.architecture" in f) == (i == 0)
    # The written shards read back as the model they came from.
    proc, again = cli.json("quantize", out / names[0], "gguf", "-q", "Q8_0", "-o", tmp_path, "-n", "again.gguf")
    assert proc.returncode == 0, proc.stderr
    assert {t.name: bytes(t.data) for t in GGUFReader(tmp_path / "again.gguf").tensors} == \
        {t.name: bytes(t.data) for t in joined.tensors}


def test_bad_split_inputs(cli, shared, tmp_path):
    shards = split_model(shared, tmp_path)
    proc, res = cli.json("info", shards[1])
    assert proc.returncode == 2 and "shard 2 of 3" in res["message"] and "00001-of-00003" in res["suggestion"]
    renamed = tmp_path / "in" / "renamed.gguf"
    renamed.write_bytes(shards[0].read_bytes())
    proc, res = cli.json("info", renamed)
    assert proc.returncode == 6 and "not named like one" in res["message"]
    shards[2].rename(tmp_path / "in" / "away.gguf")
    proc, res = cli.json("quantize", shards[0], "gguf", "-q", "Q8_0", "-o", tmp_path)
    assert proc.returncode == 3 and "shard 3 of 3" in res["message"]
    (tmp_path / "in" / "away.gguf").rename(shards[2])
    shards[2].write_bytes(shards[1].read_bytes())  # the second shard twice: its split.no says 1
    proc, res = cli.json("quantize", shards[0], "gguf", "-q", "Q8_0", "-o", tmp_path)
    assert proc.returncode == 6 and "is not shard 3 of 3" in res["message"]
    assert not any(p.suffix == ".gguf" for p in tmp_path.iterdir())


def test_keep_split_never_overwrites_its_input(cli, shared, tmp_path):
    shards = split_model(shared, tmp_path)
    before = [s.read_bytes() for s in shards]
    proc, res = cli.json("quantize", shards[0], "gguf", "-q", "F32", "-o", tmp_path / "in", "-n", "m.gguf",
                         "--keep-split")
    assert proc.returncode != 0
    assert [s.read_bytes() for s in shards] == before


@pytest.mark.parametrize("name,count,vtype,words", [
    ("a-00001-of-99999.gguf", 99999, "UINT32", "claims 99999 shards"),
    ("b-00001-of-00002.gguf", "two", "STRING", "'split.count' is not an integer"),
])
def test_crafted_split_keys_are_exit_6(cli, tmp_path, name, count, vtype, words):
    from gguf import GGUFWriter
    import numpy as np
    w = GGUFWriter(tmp_path / name, "llama")
    w.add_key_value("split.count", count, getattr(GGUFValueType, vtype))
    w.add_key_value("split.no", 0, GGUFValueType.UINT16)
    w.add_tensor("x.weight", np.zeros((4, 32), dtype=np.float32))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    proc, res = cli.json("info", tmp_path / name)
    assert proc.returncode == 6 and words in res["message"], res
