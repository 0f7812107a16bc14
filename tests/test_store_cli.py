"""`geneb store ls | show | verify | export | rm`."""

import json

import numpy as np
import pyarrow.parquet as pq
import pytest

from geneb.cli import main
from geneb.store import open_store
from geneb.testing import random_embeddings, write_pair


@pytest.fixture
def store_path(tmp_path):
    st = open_store(tmp_path / "s.zarr", mode="a")
    for m, t in (("m1", "t1"), ("m1", "t2"), ("m2", "t1")):
        X, y = random_embeddings({"train": 70, "test": 9}, 6, seed=len(m + t), n_classes=3)
        write_pair(st, m, t, X, y, provenance={"device": "cpu"})
    with st.open_writer("m2", "t9", cache_key=st.cache_key("m2", "t1"), n_rows={"train": 5}, dim=6,
                        labels={"train": np.zeros(5, int)}):
        pass  # left partial
    return tmp_path / "s.zarr"


def test_ls_table_and_json(store_path, capsys):
    assert main(["store", "ls", "--store", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].split()[:8] == ["model", "task", "split", "n", "dim", "dtype", "bytes", "status"]
    assert "partial" in out and out.count("complete") == 6
    assert main(["store", "ls", "-s", str(store_path), "--json", "--status", "partial"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["model"], r["task"], r["split"], r["blocks_done"]) for r in rows] == [("m2", "t9", "train", 0)]


def test_show(store_path, capsys):
    assert main(["store", "show", "-s", str(store_path), "m1", "t2"]) == 0
    out = capsys.readouterr().out
    assert "status=complete" in out and "pooling: mean" in out and "device: cpu" in out
    assert main(["store", "show", "-s", str(store_path), "m1", "t2", "--json"]) == 0
    prov = json.loads(capsys.readouterr().out)
    assert prov["cache_key"]["model_id"] == "m1" and prov["layouts"]["train"]["n_rows"] == 70
    assert main(["store", "show", "-s", str(store_path), "m1", "nope"]) == 2
    assert "no embeddings for m1/nope" in capsys.readouterr().err


def test_verify_ok(store_path, capsys):
    assert main(["store", "verify", "-s", str(store_path)]) == 0
    out = capsys.readouterr().out
    assert "ok: 4 pair(s) verified, no problems" in out and "1 partial" in out and "m2/t9" in out


def test_verify_takes_model_and_task_like_show_and_export(store_path, capsys):
    assert main(["store", "verify", "-s", str(store_path), "m1", "t2"]) == 0
    out = capsys.readouterr().out
    assert "ok: 1 pair(s) verified" in out and "partial" not in out
    assert main(["store", "verify", "-s", str(store_path), "m2"]) == 0
    assert "ok: 2 pair(s) verified" in capsys.readouterr().out
    assert main(["store", "verify", "-s", str(store_path), "--model", "m1", "--task", "t1"]) == 0  # the old flags
    assert "ok: 1 pair(s)" in capsys.readouterr().out


def test_a_store_path_where_a_model_goes_is_named(store_path, capsys):
    """`geneb store verify PATH` (the store given where the model id goes) and an unknown
    model say what is wrong, not "pair metadata is missing"."""
    for action in (["verify"], ["show"], ["export"]):
        assert main(["store", *action, str(store_path), "m1"]) == 2
        err = capsys.readouterr().err
        assert f"{str(store_path)!r} is a store, not a model id: pass it as --store {store_path}" in err
    assert main(["store", "verify", "-s", str(store_path), "nope"]) == 2
    err = capsys.readouterr().err
    assert "no model 'nope' in" in err and "(models: m1, m2)" in err


def test_export_npy_and_parquet(store_path, tmp_path, capsys):
    st = open_store(store_path)
    out = tmp_path / "out"
    assert main(["store", "export", "-s", str(store_path), "m1", "t1", "-o", str(out)]) == 0
    X = np.load(out / "m1__t1__train.X.npy")
    np.testing.assert_array_equal(X, st.X("m1", "t1", "train"))
    np.testing.assert_array_equal(np.load(out / "m1__t1__test.y.npy"), st.y("m1", "t1", "test"))
    assert main(["store", "export", "-s", str(store_path), "m1", "t1", "--format", "parquet", "--split", "test",
                 "-o", str(out)]) == 0
    table = pq.read_table(out / "m1__t1__test.parquet")
    assert table.column_names == ["row", "label", "embedding"]
    np.testing.assert_array_equal(np.stack(table["embedding"].to_numpy(zero_copy_only=False)), st.X("m1", "t1", "test"))
    assert not list(out.glob(".*tmp"))
    # an incomplete pair is refused, and nothing is written
    assert main(["store", "export", "-s", str(store_path), "m2", "t9", "-o", str(tmp_path / "none")]) == 2
    assert "incomplete" in capsys.readouterr().err
    assert not list((tmp_path / "none").glob("*"))


def test_rm(store_path, capsys):
    assert main(["store", "rm", "-s", str(store_path), "m1", "t1"]) == 0
    assert "removed m1/t1" in capsys.readouterr().out
    assert open_store(store_path).pairs() == [("m1", "t2"), ("m2", "t1"), ("m2", "t9")]
    assert main(["store", "rm", "-s", str(store_path), "m2"]) == 0
    assert open_store(store_path).models() == ["m1"]
    assert main(["store", "rm", "-s", str(store_path), "m2"]) == 2
    assert "no model 'm2'" in capsys.readouterr().err


def test_missing_store_is_a_clear_error(tmp_path, capsys):
    assert main(["store", "ls", "-s", str(tmp_path / "nope.zarr")]) == 2
    assert "no geneb store at" in capsys.readouterr().err
