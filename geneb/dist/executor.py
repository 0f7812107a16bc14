"""Run a list of units in this process or on a Dask cluster, with one interface.

``run_units(units, fn)`` calls ``fn(unit) -> UnitResult`` for every unit and returns the
results in unit order. With ``dask=None`` the units run here, one after the other; with
``processes=N`` in N local worker processes; with
``dask="local"``, ``"local:N"``, a scheduler address, a scheduler file or a Client they
run on the cluster's workers: GPU units only on workers that declare the ``GPU``
resource, each unit a separate Dask task (``pure=False``), with ``retries`` for
transient errors. A worker that dies mid-unit is handled by the scheduler, which runs
the unit again on another worker; the unit resumes from the store. No scheduling
logic of our own.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from .._unit import run_each
from ..errors import InvalidArgument
from .units import Unit, UnitResult

log = logging.getLogger(__name__)

UnitFn = Callable[[Unit], UnitResult]
Callback = Callable[[UnitResult], None]


def run_units(
    units: Sequence[Unit],
    fn: UnitFn,
    *,
    dask: Any = None,
    retries: int = 2,
    progress: bool = True,
    desc: str = "units",
    on_result: Callback | None = None,
    worker_timeout: float = 300.0,
    n_workers: int | None = None,
    cleanup: Callable[[], None] | None = None,
    processes: int = 1,
) -> list[UnitResult]:
    """Run ``fn`` on every unit; failed units come back with ``ok=False`` (never raised),
    so one bad pair does not stop a 4000-pair run. ``on_result`` is called in this
    process as each unit finishes (for incremental merging and logging); ``cleanup`` runs
    once at the end here, or on every worker (e.g. to free cached models). Without
    ``dask``, ``processes > 1`` runs the units in that many local worker processes
    (`geneb._unit.run_each`, the executor under ``geneb probe --jobs``; ``fn`` must pickle)."""
    if retries < 0:
        raise InvalidArgument(f"retries must be >= 0, got {retries}")
    if processes < 1:
        raise InvalidArgument(f"processes must be >= 1, got {processes}")
    units = list(units)
    if not units:
        return []
    if dask is None:
        try:
            return _run_here(units, fn, retries, progress, desc, on_result, processes)
        finally:
            if cleanup is not None:
                cleanup()
    from .cluster import connect

    with connect(dask, n_workers=n_workers) as client:
        try:
            return _run_on_cluster(client, units, fn, retries, progress, desc, on_result, worker_timeout)
        finally:
            if cleanup is not None:
                try:
                    client.run(cleanup)
                except Exception as exc:  # noqa: BLE001 - a lost worker has nothing to free
                    log.debug("cleanup on workers failed: %s", exc)


def _progress_bar(total: int, desc: str, enabled: bool) -> Any:
    from .._progress import progress_bar

    return progress_bar(total, desc, "unit", enabled)


def _failed(unit: Unit, exc: BaseException, attempts: int) -> UnitResult:
    return UnitResult(unit=unit, ok=False, error=f"{type(exc).__name__}: {exc}", attempts=attempts)


def _log_result(res: UnitResult) -> None:
    if res.ok:
        log.info("%s done in %.2f s on %s (pid %s)", res.unit.name, res.seconds, res.host, res.pid)
    else:
        log.warning("%s failed: %s", res.unit.name, res.error)


def _summarise(results: Sequence[UnitResult], t0: float, desc: str) -> None:
    n_ok = sum(r.ok for r in results)
    wall = time.perf_counter() - t0
    log.info("%s: %d/%d ok in %.1f s (%.2f units/s)", desc, n_ok, len(results), wall,
             len(results) / wall if wall > 0 else float("nan"))


@dataclass(frozen=True)
class _Retried:
    """``fn`` with up to ``retries`` more tries per unit (a module-level value, so it
    pickles into worker processes)."""

    fn: UnitFn
    retries: int

    def __call__(self, unit: Unit) -> UnitResult:
        for attempt in range(1, self.retries + 2):
            try:
                res = self.fn(unit)
                res.attempts = attempt
                return res
            except Exception as exc:  # transient by the unit's own classification
                if attempt > self.retries:
                    return _failed(unit, exc, attempt)
                log.warning("%s: attempt %d failed (%s); retrying", unit.name, attempt, exc)
        raise AssertionError("unreachable")


def _run_here(
    units: list[Unit], fn: UnitFn, retries: int, progress: bool, desc: str, on_result: Callback | None,
    processes: int = 1,
) -> list[UnitResult]:
    t0 = time.perf_counter()
    slots: dict[int, list[int]] = {}
    for i, unit in enumerate(units):
        slots.setdefault(id(unit), []).append(i)
    out: list[UnitResult | None] = [None] * len(units)
    with _progress_bar(len(units), desc, progress) as bar:
        for unit, res in run_each(_Retried(fn, retries), units, jobs=processes):
            if isinstance(res, BaseException):  # the worker process itself failed (or fn did not pickle)
                res = _failed(unit, res, 1)
            _log_result(res)
            if on_result is not None:
                on_result(res)
            out[slots[id(unit)].pop(0)] = res
            bar.update(1)
    results = cast("list[UnitResult]", out)  # run_each yields every unit once: each slot is filled
    _summarise(results, t0, desc)
    return results


def check_gpu_workers(client: Any, units: Sequence[Unit], timeout: float) -> None:
    """Fail early, instead of waiting forever, when GPU units have no GPU worker.

    Workers of a batch system may still be starting, so wait up to ``timeout`` seconds
    for at least one worker, and for a GPU worker when some unit needs one."""
    from .cluster import GPU_RESOURCE, ClusterError, worker_resources

    deadline = time.monotonic() + timeout
    need_gpu = any(u.gpu for u in units)
    while True:
        res = worker_resources(client)
        have_gpu = any(r.get(GPU_RESOURCE, 0) >= 1 for r in res.values())
        if res and (have_gpu or not need_gpu):
            return
        if time.monotonic() >= deadline:
            if not res:
                raise ClusterError(f"no Dask worker joined the scheduler within {timeout:g} s")
            n = sum(u.gpu for u in units)
            raise ClusterError(
                f"{n} unit(s) need a GPU but none of the {len(res)} worker(s) declares the "
                f"{GPU_RESOURCE!r} resource; start GPU workers with `--resources {GPU_RESOURCE}=1` "
                "(dask-cuda: `dask cuda worker ... --resources GPU=1`) or embed with --device cpu"
            )
        time.sleep(0.5)


def _run_on_cluster(
    client: Any,
    units: list[Unit],
    fn: UnitFn,
    retries: int,
    progress: bool,
    desc: str,
    on_result: Callback | None,
    worker_timeout: float,
) -> list[UnitResult]:
    from distributed import as_completed

    from .cluster import GPU_RESOURCE

    check_gpu_workers(client, units, worker_timeout)
    t0 = time.perf_counter()
    run_id = uuid.uuid4().hex[:8]
    futures = {}
    for i, unit in enumerate(units):
        fut = client.submit(
            fn,
            unit,
            key=f"geneb-{unit.kind}-{unit.model}-{unit.task}-{run_id}",
            resources={GPU_RESOURCE: 1} if unit.gpu else None,
            retries=retries,
            pure=False,
            priority=len(units) - i,  # unit order (model-major): workers keep a model loaded
        )
        futures[fut] = i
    out: list[UnitResult | None] = [None] * len(units)
    try:
        with _progress_bar(len(units), desc, progress) as bar:
            for fut in as_completed(futures):
                i = futures[fut]
                try:
                    res = fut.result()
                except Exception as exc:  # retries exhausted, or KilledWorker
                    res = _failed(units[i], exc, retries + 1)
                _log_result(res)
                if on_result is not None:
                    on_result(res)
                out[i] = res
                fut.release()
                bar.update(1)
    except BaseException:
        client.cancel(list(futures))
        raise
    results = [r for r in out if r is not None]
    _summarise(results, t0, desc)
    return results
