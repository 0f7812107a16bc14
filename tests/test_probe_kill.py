"""kill -9 of `geneb probe` at random points: each finished unit is journaled as it
finishes, so the rerun refits only the units that were in flight and ends with the same
table as an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import polars as pl
import pytest

from geneb.probe import GridReport, run_probes
from geneb.probe.table import journal_dir
from geneb.testing import SyntheticTask, write_synthetic_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TASKS = [SyntheticTask(f"t{i}", n_train=300, n_test=100, dim=24, n_classes=3, separation=1.5, seed=40 + i) for i in range(3)]
MODELS = [f"m{i}" for i in range(5)]
KEY = ["model", "task", "regime", "seed"]


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    url = str(tmp_path_factory.mktemp("kill") / "s.zarr")
    for m in MODELS:
        write_synthetic_store(url, m, TASKS)
    return url


@pytest.fixture(scope="module")
def reference(store, tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "r.parquet"
    return run_probes(store, out, backend="sklearn", progress=False).drop("fit_seconds").sort(KEY)


def _kill_after(store, out, n_units):
    """Start `geneb probe`, SIGKILL it once `n_units` units are journaled; the number of
    committed units on disk at the kill."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "geneb", "probe", "--store", store, "--out", str(out),
                             "--backend", "sklearn", "--jobs", "1", "--no-progress"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if len(list(journal_dir(out).glob("*.rows.parquet"))) >= n_units:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    return len(list(journal_dir(out).glob("*.rows.parquet")))


@pytest.mark.parametrize("n_units", [1, 4, 9])
def test_kill_9_then_rerun_refits_only_unfinished_units(store, reference, tmp_path, n_units):
    out = tmp_path / "r.parquet"
    committed = _kill_after(store, out, n_units)
    assert committed >= n_units
    rep = GridReport()
    table = run_probes(store, out, backend="sklearn", progress=False, report=rep)
    # the journaled units were recovered, not refitted
    assert rep.cells_done >= committed * 3
    assert rep.cells_todo == len(MODELS) * len(TASKS) * 3 - rep.cells_done
    assert not journal_dir(out).exists()
    got = table.drop("fit_seconds").sort(KEY)
    assert got.equals(reference)
    assert pl.read_parquet(out).drop("fit_seconds").sort(KEY).equals(reference)
