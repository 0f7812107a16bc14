"""The unit executor: in-process and on a Dask LocalCluster, failures, retries, GPU
routing, and that nothing needs dask unless a run asks for it."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from geneb.dist.cluster import ClusterError, parse_local
from geneb.dist.executor import run_units
from geneb.dist.units import Unit, UnitResult, is_permanent

distributed = pytest.importorskip("distributed")
cloudpickle = pytest.importorskip("cloudpickle")
# Workers cannot import this test module by name: ship its functions by value.
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def _square(unit: Unit) -> UnitResult:
    n = int(unit.task)
    return UnitResult(unit, ok=True, value=n * n, host="h", pid=os.getpid())


def _where(unit: Unit) -> UnitResult:
    w = distributed.get_worker()
    return UnitResult(unit, ok=True, value=(w.name, dict(w.state.total_resources)), pid=os.getpid())


def _flaky(unit: Unit, *, marker: str) -> UnitResult:
    """Raises a transient error on its first call per unit (a marker file remembers)."""
    m = Path(marker) / f"{unit.task}.seen"
    if not m.exists():
        m.write_text("x")
        raise OSError(f"transient hiccup on {unit.task}")
    return UnitResult(unit, ok=True, value=unit.task, pid=os.getpid())


def _always_transient(unit: Unit) -> UnitResult:
    raise OSError("storage offline")


def _units(n: int, gpu: bool = False) -> list[Unit]:
    return [Unit("embed", "m", str(i), gpu=gpu) for i in range(n)]


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as c, distributed.Client(c) as client:
        yield client


def test_in_process_order_and_callback():
    seen = []
    res = run_units(_units(5), _square, progress=False, on_result=lambda r: seen.append(r.value))
    assert [r.value for r in res] == [0, 1, 4, 9, 16]
    assert seen == [0, 1, 4, 9, 16]
    assert all(r.ok and r.attempts == 1 for r in res)


def test_in_process_retries_transient_then_gives_up(tmp_path):
    import functools

    res = run_units(_units(3), functools.partial(_flaky, marker=str(tmp_path)), retries=1, progress=False)
    assert [r.ok for r in res] == [True, True, True]
    assert [r.attempts for r in res] == [2, 2, 2]
    res = run_units(_units(2), _always_transient, retries=2, progress=False)
    assert [r.ok for r in res] == [False, False]
    assert all(r.attempts == 3 and "storage offline" in r.error for r in res)
    with pytest.raises(ValueError, match="retries"):
        run_units(_units(1), _square, retries=-1)


def test_local_processes_run_every_unit_in_order_with_retries(tmp_path):
    """processes=N: the units run in N worker processes (the executor under `geneb probe
    --jobs`), results in unit order, retries in the worker, the callback here."""
    import functools

    seen = []
    res = run_units(_units(6), _square, processes=2, progress=False, on_result=lambda r: seen.append(r.value))
    assert [r.value for r in res] == [0, 1, 4, 9, 16, 25]
    assert sorted(seen) == [0, 1, 4, 9, 16, 25]
    assert {r.pid for r in res} - {os.getpid()} == {r.pid for r in res}  # none ran here
    res = run_units(_units(3), functools.partial(_flaky, marker=str(tmp_path)), retries=1, processes=2,
                    progress=False)
    assert [r.ok for r in res] == [True, True, True] and [r.attempts for r in res] == [2, 2, 2]
    with pytest.raises(ValueError, match="processes"):
        run_units(_units(1), _square, processes=0)


def test_permanent_errors_are_classified():
    from geneb.errors import InvalidArgument
    from geneb.store.errors import CacheKeyMismatch, LockBusy

    assert is_permanent(InvalidArgument("bad sequence"))
    assert not is_permanent(ValueError("a bug"))  # retried, then fails with its traceback
    assert is_permanent(CacheKeyMismatch("other key"))
    assert not is_permanent(LockBusy("held"))
    assert not is_permanent(OSError("nfs hiccup"))


def test_parse_local():
    assert parse_local("local") is None
    assert parse_local("local:3") == 3
    assert parse_local("tcp://10.0.0.1:8786") is False
    with pytest.raises(ValueError, match="local:N"):
        parse_local("local:zero")


def test_cluster_runs_every_unit_on_both_workers(cluster):
    res = run_units(_units(12), _square, dask=cluster, progress=False)
    assert [r.value for r in res] == [i * i for i in range(12)]
    assert os.getpid() not in {r.pid for r in res}  # ran on workers, not here


def test_cluster_retries_transient_errors(cluster, tmp_path):
    import functools

    res = run_units(_units(4), functools.partial(_flaky, marker=str(tmp_path)), dask=cluster,
                    retries=1, progress=False)
    assert all(r.ok for r in res)
    res = run_units(_units(2), _always_transient, dask=cluster, retries=1, progress=False)
    assert not any(r.ok for r in res) and all("storage offline" in r.error for r in res)


def test_gpu_units_refused_without_gpu_workers(cluster):
    with pytest.raises(ClusterError, match="--resources GPU=1"):
        run_units(_units(2, gpu=True), _square, dask=cluster, worker_timeout=0.5, progress=False)


def test_gpu_units_only_on_gpu_workers():
    """local_cluster(gpus=[...]) pins one worker per GPU and declares GPU=1 on it; GPU
    units land there only, CPU units anywhere. (No GPU is used: the pinning is an env var.)"""
    from geneb.dist.cluster import local_cluster

    with local_cluster(n_workers=1, gpus=["0"], dashboard_address=":0") as c, distributed.Client(c) as client:
        units = _units(6, gpu=True) + _units(2, gpu=False)
        res = run_units(units, _where, dask=client, progress=False)
    gpu_names = {r.value[0] for r in res[:6]}
    assert gpu_names == {"gpu-0"}
    assert all(r.value[1] == {"GPU": 1} for r in res[:6])


def test_no_dask_needed_without_dask(tmp_path):
    """geneb.dist imports, and runs in-process, with distributed unimportable."""
    code = textwrap.dedent(
        """
        import sys
        sys.modules["distributed"] = None
        sys.modules["dask"] = None
        import geneb.dist as d
        from geneb.dist.units import Unit, UnitResult
        res = d.run_units([Unit("embed", "m", "t")], lambda u: UnitResult(u, True, 1), progress=False)
        assert res[0].value == 1
        try:
            d.run_units([Unit("embed", "m", "t")], lambda u: None, dask="local", progress=False)
        except d.ClusterError as exc:
            assert "geneb[dist]" in str(exc)
        else:
            raise AssertionError("expected ClusterError")
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def _env_and_limit(unit: Unit) -> UnitResult:
    w = distributed.get_worker()
    return UnitResult(unit, ok=True, value=(os.environ.get("OMP_NUM_THREADS"), w.memory_manager.memory_limit))


def test_local_cluster_shares_cores_and_memory_between_workers():
    """Dask's defaults would give each 1-thread worker 1 BLAS thread and cores/threads of
    the RAM; a geneb local cluster gives each worker its share of both."""
    from distributed.system import MEMORY_LIMIT

    from geneb.dist.cluster import local_cluster

    with local_cluster(n_workers=2, gpus=[], dashboard_address=":0") as c, distributed.Client(c) as client:
        res = run_units(_units(2), _env_and_limit, dask=client, progress=False)
    cores = os.cpu_count() or 1
    for r in res:
        threads, limit = r.value
        assert threads == str(max(1, cores // 2))
        assert abs(limit - MEMORY_LIMIT / 2) < 0.01 * MEMORY_LIMIT
