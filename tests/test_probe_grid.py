"""The probe grid: incremental reruns, overwrite, re-embedded pairs, parallel jobs,
explicit skips and clear errors, atomic writes."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from geneb.cli import main
from geneb.probe import GridReport, ProbeError, ProbeSkip, probe_arrays, probe_pair, run_probes
from geneb.probe import grid as grid_mod
from geneb.store import open_store
from geneb.testing import (
    SyntheticTask,
    make_embeddings,
    write_synthetic_pair,
    write_synthetic_store,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TASKS = [
    SyntheticTask("a", n_train=120, n_test=60, dim=16, n_classes=2, separation=2.0, seed=11),
    SyntheticTask("b", n_train=150, n_test=60, dim=16, n_classes=3, separation=2.0, seed=12),
]


@pytest.fixture
def store_url(tmp_path):
    url = str(tmp_path / "s.zarr")
    write_synthetic_store(url, "m1", TASKS)
    write_synthetic_store(url, "m2", TASKS[:1])
    return url


def _no_fits(monkeypatch):
    def boom(*a, **k):
        raise AssertionError("a unit was fitted on a finished grid")

    monkeypatch.setattr(grid_mod, "probe_pair", boom)


def test_rerun_on_finished_grid_fits_nothing(store_url, tmp_path, monkeypatch):
    out = tmp_path / "r.parquet"
    first = run_probes(store_url, out, backend="sklearn", progress=False)
    assert first.height == 3 * 3 * 5
    mtime = out.stat().st_mtime_ns
    _no_fits(monkeypatch)
    rep = GridReport()
    again = run_probes(store_url, out, backend="sklearn", progress=False, report=rep)
    assert rep.cells_todo == 0 and rep.cells_done == 9 and rep.probed == []
    assert out.stat().st_mtime_ns == mtime
    assert again.sort(["model", "task", "regime", "seed"]).equals(first.sort(["model", "task", "regime", "seed"]))
    # the CLI says so too
    assert main(["probe", "--store", store_url, "--out", str(out), "--no-progress"]) == 0


def test_new_regime_and_new_pair_fit_only_the_missing_cells(store_url, tmp_path):
    out = tmp_path / "r.parquet"
    run_probes(store_url, out, regimes=["full"], models=["m1"], backend="sklearn", progress=False)
    rep = GridReport()
    table = run_probes(store_url, out, backend="sklearn", progress=False, report=rep)
    assert rep.cells_done == 2 and rep.cells_todo == 7
    assert table.height == 45 and table.select("model", "task", "regime", "seed").is_unique().all()


def test_overwrite_recomputes(store_url, tmp_path):
    out = tmp_path / "r.parquet"
    run_probes(store_url, out, models=["m2"], backend="sklearn", progress=False)
    rep = GridReport()
    table = run_probes(store_url, out, models=["m2"], backend="sklearn", overwrite=True, progress=False, report=rep)
    assert rep.cells_todo == 3 and rep.probed == [("m2", "a")] and table.height == 15


def test_reembedded_pair_is_refitted_and_stale_rows_dropped(store_url, tmp_path):
    out = tmp_path / "r.parquet"
    run_probes(store_url, out, models=["m2"], backend="sklearn", progress=False)
    st = open_store(store_url, mode="a")
    old = st.cache_key_hash("m2", "a")
    t = SyntheticTask("a", 120, 60, 16, 2, separation=0.5, seed=99)
    write_synthetic_pair(st, "m2", "a", make_embeddings(t), overwrite=True, key_version="2")
    new = st.cache_key_hash("m2", "a")
    assert new != old
    rep = GridReport()
    table = run_probes(store_url, out, models=["m2"], regimes=["full"], backend="sklearn", progress=False, report=rep)
    assert rep.cells_todo == 1
    # the other regimes' rows were computed from the old vectors: gone, not mixed
    assert set(table["cache_key"]) == {new} and set(table["regime"]) == {"full"}
    preds = pl.read_parquet(tmp_path / "r.preds.parquet")
    assert preds.height == table.height


def test_parallel_jobs_give_the_same_rows(store_url, tmp_path):
    a = run_probes(store_url, tmp_path / "a.parquet", backend="sklearn", progress=False)
    b = run_probes(store_url, tmp_path / "b.parquet", backend="sklearn", jobs=2, progress=False)
    key = ["model", "task", "regime", "seed"]
    cols = [*key, "mcc", "acc", "f1", "n_train", "converged", "cache_key"]
    assert a.select(cols).sort(key).equals(b.select(cols).sort(key))


def test_partial_pair_is_skipped_and_reported(store_url, tmp_path, caplog):
    st = open_store(store_url, mode="a")
    t = SyntheticTask("c", n_train=5000, n_test=100, dim=16, n_classes=2, seed=5)
    write_synthetic_pair(st, "m1", "c", make_embeddings(t), finish=False)
    assert st.status("m1", "c") == "partial"
    rep = GridReport()
    table = run_probes(store_url, tmp_path / "r.parquet", backend="sklearn", progress=False, report=rep)
    assert "not fully embedded" in rep.skipped[("m1", "c")]
    assert "c" not in set(table["task"])
    assert "m1/c" in caplog.text
    # the summary counts only what was fitted: the 3 probed units' 3 regimes each
    assert len(rep.probed) == 3 and rep.cells_fitted == 9
    with pytest.raises(ProbeError, match="m1/c: not fully embedded"):
        probe_pair(store_url, "m1", "c", backend="sklearn")


class NaNStore:
    """A store whose one pair hands out a NaN (as a corrupted or foreign store could)."""

    def __init__(self, url):
        self._st = open_store(url)
        self.url = url

    def __getattr__(self, name):
        return getattr(self._st, name)

    def X(self, model, task, split, **kw):
        X = self._st.X(model, task, split, **kw)
        if (model, task, split) == ("m1", "b", "test"):
            X = X.copy()
            X[7, 3] = np.nan
        return X


def test_nan_embeddings_raise_naming_the_pair_and_keep_finished_units(store_url, tmp_path):
    out = tmp_path / "r.parquet"
    with pytest.raises(ProbeError, match=r"(?s)m1/b: test embeddings have non-finite values .* first rows \[7\]"):
        run_probes(NaNStore(store_url), out, models=["m1"], backend="sklearn", progress=False)
    table = pl.read_parquet(out)
    assert set(table["task"]) == {"a"} and table.height == 15  # the good unit, whole


def test_single_class_train_split_is_an_explicit_skip(tmp_path):
    url = str(tmp_path / "s.zarr")
    st = open_store(url, mode="a")
    arr = make_embeddings(SyntheticTask("one", 40, 20, 8, 2, seed=3))
    arr = {s: (X, np.zeros_like(y)) for s, (X, y) in arr.items()}
    write_synthetic_pair(st, "m", "one", arr)
    rep = GridReport()
    run_probes(url, tmp_path / "r.parquet", backend="sklearn", progress=False, report=rep)
    assert "at least two" in rep.skipped[("m", "one")]
    with pytest.raises(ProbeSkip, match="m/one: train split has 1 class"):
        probe_pair(url, "m", "one", backend="sklearn")


def test_bad_requests_fail_before_writing(store_url, tmp_path):
    out = tmp_path / "r.parquet"
    with pytest.raises(ProbeError, match="model\\(s\\) not in the store: nope"):
        run_probes(store_url, out, models=["nope"], progress=False)
    with pytest.raises(ValueError, match="no regime"):
        run_probes(store_url, out, regimes=["5shot"], progress=False)
    with pytest.raises(KeyError, match="unknown protocol"):
        run_probes(store_url, out, protocol="geneb-v9", progress=False)
    with pytest.raises(ValueError, match="unknown backend"):
        run_probes(store_url, out, backend="jax", progress=False)
    assert not out.exists()
    assert main(["probe", "--store", store_url, "--out", str(out), "--models", "nope"]) == 2


def test_failed_write_leaves_the_previous_table(store_url, tmp_path, monkeypatch):
    out = tmp_path / "r.parquet"
    run_probes(store_url, out, models=["m2"], backend="sklearn", progress=False)
    before = out.read_bytes()

    def broken(df, path, *a, **k):
        path_tmp = str(path)
        with open(path_tmp, "wb") as fh:  # a write that dies half-way
            fh.write(b"PAR1garbage")
        raise OSError("disk full")

    monkeypatch.setattr(pl.DataFrame, "write_parquet", broken)
    with pytest.raises(OSError, match="disk full"):
        run_probes(store_url, out, backend="sklearn", progress=False, overwrite=True)
    assert out.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_probe_arrays_validates_shapes():
    X = np.zeros((4, 3), np.float32)
    with pytest.raises(ProbeError, match="where: train has 4 embedding rows but 3 labels"):
        probe_arrays(X, np.array([0, 1, 0]), X, np.array([0, 1, 0, 1]), where="where")
    with pytest.raises(ProbeError, match="train dim 3 != test dim 2"):
        probe_arrays(X, np.array([0, 1, 0, 1]), X[:, :2], np.array([0, 1, 0, 1]))


def test_interrupted_run_keeps_finished_units_and_resumes(store_url, tmp_path, monkeypatch):
    out = tmp_path / "r.parquet"
    real = grid_mod._probe_unit
    calls = []

    def interrupted(unit, st, protocol, backend, blas_threads):
        calls.append(unit.task)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real(unit, st, protocol, backend, blas_threads)

    monkeypatch.setattr(grid_mod, "_probe_unit", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_probes(store_url, out, models=["m1"], backend="sklearn", progress=False)
    saved = pl.read_parquet(out)
    assert saved.height == 15 and saved["task"].n_unique() == 1
    monkeypatch.setattr(grid_mod, "_probe_unit", real)
    rep = GridReport()
    table = run_probes(store_url, out, models=["m1"], backend="sklearn", progress=False, report=rep)
    assert rep.cells_done == 3 and rep.cells_todo == 3 and table.height == 30


def test_units_start_dearest_first_counting_classes_not_bytes(tmp_path):
    """With --jobs N the run ends when its last unit does: a many-class task of a few
    rows (one coefficient column per class, in every fit) is started before a binary
    task with more bytes."""
    url = str(tmp_path / "s.zarr")
    write_synthetic_store(url, "m", [
        SyntheticTask("binary-big", n_train=600, n_test=40, dim=32, n_classes=2, separation=2.0, seed=1),
        SyntheticTask("forty", n_train=200, n_test=80, dim=16, n_classes=40, separation=2.0, seed=2),
        SyntheticTask("binary-small", n_train=100, n_test=40, dim=16, n_classes=2, separation=2.0, seed=3),
    ])
    st = open_store(url)
    units = grid_mod.plan_grid(st, pl.DataFrame(), "geneb-v1", None, None, ("full", "10shot", "1shot"),
                               True, GridReport())
    assert [u.task for u in units] == ["forty", "binary-big", "binary-small"]
    assert units[0].size > units[1].size > units[2].size > 0
