"""Results rows say what produced them: the storage dtype of the vectors and the content
hash of the task data they were embedded from; results files written before these
columns existed still load (nulls there)."""

from __future__ import annotations

import polars as pl
import pytest

from geneb.probe import probe_pair, read_results, run_probes
from geneb.probe.table import RESULT_SCHEMA, rows_to_frames, write_results
from geneb.store import open_store
from geneb.testing import SyntheticTask, make_embeddings, synthetic_cache_key, write_synthetic_pair

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TASK = SyntheticTask("a", n_train=60, n_test=30, dim=8, n_classes=2, separation=2.0, seed=1)


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_rows_record_storage_dtype_and_task_hash(tmp_path, dtype):
    url = str(tmp_path / "s.zarr")
    st = open_store(url, mode="a")
    write_synthetic_pair(st, "m", "a", make_embeddings(TASK), dtype=dtype)
    want_hash = synthetic_cache_key("m", "a", dtype, "1")["task_content_hash"]
    rows = probe_pair(url, "m", "a", regimes=["full"], backend="sklearn")
    assert {r["storage_dtype"] for r in rows} == {dtype}
    assert {r["task_hash"] for r in rows} == {want_hash} and want_hash
    table = run_probes(url, tmp_path / "r.parquet", backend="sklearn", regimes=["full"], progress=False)
    assert set(table["storage_dtype"]) == {dtype} and set(table["task_hash"]) == {want_hash}
    back = read_results(tmp_path / "r.parquet")
    assert back.schema["storage_dtype"] == pl.String and set(back["storage_dtype"]) == {dtype}


def test_old_results_file_without_the_columns_loads_with_nulls(tmp_path):
    url = str(tmp_path / "s.zarr")
    write_synthetic_pair(open_store(url, mode="a"), "m", "a", make_embeddings(TASK))
    res, preds = rows_to_frames(probe_pair(url, "m", "a", regimes=["full"], backend="sklearn"))
    old = tmp_path / "old.parquet"
    write_results(old, res.drop("storage_dtype", "task_hash"), preds)
    assert "task_hash" not in pl.read_parquet(old).columns
    back = read_results(old)
    assert list(back.columns) == list(RESULT_SCHEMA)
    assert back["storage_dtype"].null_count() == back.height == 5
    assert back["task_hash"].null_count() == 5
    # an older table still merges with new rows: a rerun adds the new regime beside it
    table = run_probes(url, old, backend="sklearn", regimes=["full", "10shot"], progress=False)
    assert table.filter(pl.col("regime") == "10shot")["task_hash"].null_count() == 0
    assert table.filter(pl.col("regime") == "full")["task_hash"].null_count() == 5
    # a file missing a column that was always there is still refused
    res.drop("cache_key").write_parquet(tmp_path / "bad.parquet")
    with pytest.raises(ValueError, match=r"missing columns \['cache_key'\]"):
        read_results(tmp_path / "bad.parquet")


def test_unit_rows_without_the_fields_are_null_not_an_error():
    rec = {c: None for c in RESULT_SCHEMA if c not in ("storage_dtype", "task_hash")}
    rec.update(model="m", task="t", regime="full", seed=1, protocol="geneb-v1", y_true=[0, 1], y_pred=[0, 1])
    res, _ = rows_to_frames([rec])
    assert res["storage_dtype"].to_list() == [None] and res["task_hash"].to_list() == [None]
