"""`geneb._unit.run_each`, the one executor under the probe grid and geneb.dist's local
runs: every unit's outcome, here or in worker processes, exceptions handed back."""

from __future__ import annotations

import os

import pytest

from geneb._unit import Unit, run_each


def _work(unit: Unit, scale: int) -> tuple[int, int]:
    n = int(unit.task)
    if n == 3:
        raise KeyError(f"bad unit {n}")
    return n * scale, os.getpid()


@pytest.mark.parametrize("jobs", [1, 2])
def test_every_outcome_comes_back_exceptions_included(jobs):
    units = [Unit("probe", "m", str(i)) for i in range(6)]
    got = dict(run_each(_work, units, 10, jobs=jobs))
    assert set(got) == set(units)
    assert isinstance(got[units[3]], KeyError) and "bad unit 3" in str(got[units[3]])
    assert [got[u][0] for u in units if u.task != "3"] == [0, 10, 20, 40, 50]
    pids = {got[u][1] for u in units if u.task != "3"}
    assert (pids == {os.getpid()}) if jobs == 1 else (os.getpid() not in pids)


def test_serial_outcomes_keep_unit_order_and_stop_when_closed():
    units = [Unit("probe", "m", str(i)) for i in range(5)]
    it = run_each(_work, units, 1)
    assert [next(it)[0] for _ in range(2)] == units[:2]
    it.close()
    with pytest.raises(StopIteration):
        next(it)
