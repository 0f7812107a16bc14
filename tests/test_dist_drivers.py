"""embed_all / probe_all in-process: unit lists, failures that do not stop other units,
waiting on a busy pair lock, skipped pairs, and equality with the in-process grid."""

from __future__ import annotations

import pytest

from geneb.catalog import get_benchmark, get_model
from geneb.dist import embed_all, probe_all
from geneb.dist.units import Unit, embed_units, run_embed_unit
from geneb.probe import read_results, run_probes
from geneb.store import LockBusy, open_store
from geneb.testing import test_cache_key, write_pair

TASKS = list(get_benchmark("geneb-mini").task_ids)[:2]


def test_embed_units_are_model_major_and_gpu_only_for_networks():
    specs = [get_model("kmer-3"), get_model("random-bert-xs")]
    units = embed_units(specs, ["a", "b"], device="auto")
    assert [(u.model, u.task, u.gpu) for u in units] == [
        ("kmer-3", "a", False), ("kmer-3", "b", False),
        ("random-bert-xs", "a", True), ("random-bert-xs", "b", True),
    ]
    assert not any(u.gpu for u in embed_units(specs, ["a"], device="cpu"))
    assert all(u.gpu for u in embed_units(specs, ["a"], device="cuda:1"))


def test_a_failed_unit_does_not_stop_the_others(tmp_path):
    store = tmp_path / "s.zarr"
    st = open_store(store, mode="a")
    # a pair stored under another cache key: its unit must fail at once (no retries)
    import numpy as np

    write_pair(st, "kmer-3", TASKS[0], {"train": np.zeros((4, 64), np.float32), "test": np.zeros((2, 64), np.float32)},
               {"train": np.array([0, 1, 0, 1]), "test": np.array([0, 1])}, cache_key=test_cache_key("kmer-3"))
    rep = embed_all(store, ["kmer-3", "kmer-4"], TASKS, device="cpu", progress=False, retries=2)
    bad = rep.failed
    assert [(r.unit.model, r.unit.task) for r in bad] == [("kmer-3", TASKS[0])]
    assert bad[0].attempts == 1 and "CacheKeyMismatch" in bad[0].error
    assert rep.counts() == {"embedded": 3, "failed": 1}
    with pytest.raises(RuntimeError, match=rf"1 of 4 unit\(s\) failed:\n  embed kmer-3/{TASKS[0]}: CacheKeyMismatch"):
        rep.raise_for_failures()
    assert open_store(store).status("kmer-4", TASKS[0]) == "complete"
    # running again redoes nothing that is done
    again = embed_all(store, ["kmer-4"], TASKS, device="cpu", progress=False)
    assert again.counts() == {"skipped": 2}


def test_embed_unit_waits_for_a_busy_pair_then_retries(tmp_path):
    from geneb.store.lock import PairLock

    store = tmp_path / "s.zarr"
    st = open_store(store, mode="a")
    unit = Unit("embed", "kmer-3", TASKS[0])
    lock = PairLock(st._kv, "kmer-3", TASKS[0]).acquire()
    try:
        with pytest.raises(LockBusy, match="stayed locked"):
            run_embed_unit(unit, store=str(store), device="cpu", lock_wait=0.3)
    finally:
        lock.release()
    res = run_embed_unit(unit, store=str(store), device="cpu", lock_wait=0.3)
    assert res.ok and res.value.status == "embedded"


def test_probe_all_in_process_equals_run_probes_and_reports_skips(tmp_path):
    import numpy as np

    store = tmp_path / "s.zarr"
    embed_all(store, ["kmer-3"], TASKS, device="cpu", progress=False).raise_for_failures()
    st = open_store(store, mode="a")
    # a single-class train split cannot be probed: skipped and reported, never scored
    write_pair(st, "kmer-3", "one-class", {"train": np.ones((6, 64), np.float32), "test": np.ones((3, 64), np.float32)},
               {"train": np.zeros(6, np.int64), "test": np.array([0, 1, 0])}, dtype="float16",
               cache_key=test_cache_key("kmer-3", dtype="float16"))
    from geneb.probe import GridReport

    report = GridReport()
    tab = probe_all(store, tmp_path / "a.parquet", backend="sklearn", progress=False, report=report)
    assert list(report.skipped) == [("kmer-3", "one-class")]
    assert sorted(report.probed) == [("kmer-3", t) for t in sorted(TASKS)]
    run_probes(str(store), tmp_path / "b.parquet", backend="sklearn", progress=False)
    key = ["model", "task", "regime", "seed", "protocol"]
    cols = [c for c in tab.columns if c != "fit_seconds"]
    a, b = read_results(tmp_path / "a.parquet"), read_results(tmp_path / "b.parquet")
    assert a.height == len(TASKS) * 15
    assert a.select(cols).sort(key).equals(b.select(cols).sort(key))
    # incremental: nothing left to fit but the unprobeable pair, skipped again
    report2 = GridReport()
    probe_all(store, tmp_path / "a.parquet", backend="sklearn", progress=False, report=report2)
    assert report2.probed == [] and list(report2.skipped) == [("kmer-3", "one-class")]
    assert report2.cells_done == len(TASKS) * 3
    with pytest.raises(ValueError, match="no regime"):
        probe_all(store, tmp_path / "a.parquet", regimes=["5shot"], progress=False)


def test_probe_failure_saves_the_other_units_then_raises(tmp_path, monkeypatch):
    import geneb.probe
    from geneb.probe import ProbeError, read_preds

    store = tmp_path / "s.zarr"
    embed_all(store, ["kmer-3"], TASKS, device="cpu", progress=False).raise_for_failures()
    real = geneb.probe.probe_pair

    def flaky(st, model, task, **kw):
        if task == TASKS[1]:
            raise ProbeError(f"{model}/{task}: broken on purpose")
        return real(st, model, task, **kw)

    monkeypatch.setattr(geneb.probe, "probe_pair", flaky)
    from geneb.probe import GridReport

    report = GridReport()
    with pytest.raises(ProbeError, match=rf"1 \(model, task\) unit\(s\) could not be probed.*\n  kmer-3/{TASKS[1]}: "):
        probe_all(store, tmp_path / "r.parquet", backend="sklearn", progress=False, report=report, retries=3)
    assert list(report.failed) == [("kmer-3", TASKS[1])]
    saved = read_results(tmp_path / "r.parquet")
    assert set(saved["task"]) == {TASKS[0]} and saved.height == 15
    assert read_preds(tmp_path / "r.parquet").height == 15
