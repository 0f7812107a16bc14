"""The two runs a user starts, as (model, task) units: ``embed_all`` and ``probe_all``.

Both plan in this process (check models, tasks and the store before any work), run
the units with :func:`geneb.dist.executor.run_units` (in-process, or on Dask with
``dask=``), and report what happened. Embedding units write their own arrays into the
shared store; probing units return rows that are merged here into the results table,
checkpointed as units finish, so no two workers ever write the same file.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BadState, InvalidArgument, MissingFile
from .executor import run_units
from .units import (
    LOCK_WAIT_SECONDS,
    UnitResult,
    embed_units,
    probe_units,
    release_adapters,
    run_embed_unit,
    run_probe_unit,
)

log = logging.getLogger(__name__)


@dataclass
class RunReport:
    """Every unit's result, in unit order, and the run's wall time."""

    results: list[UnitResult] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed(self) -> list[UnitResult]:
        return [r for r in self.results if not r.ok]

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            if not r.ok:
                k = "failed"
            elif r.unit.kind == "embed":
                k = getattr(r.value, "status", "done")
            else:
                k = "skipped" if r.info.get("skipped") else "probed"
            out[k] = out.get(k, 0) + 1
        return out

    def __str__(self) -> str:
        c = ", ".join(f"{v} {k}" for k, v in sorted(self.counts().items())) or "nothing to do"
        hosts = len({(r.host, r.pid) for r in self.results if r.pid})
        return f"{len(self.results)} unit(s): {c}; {self.seconds:.1f} s on {hosts} worker process(es)"

    def raise_for_failures(self) -> None:
        """Raise one error naming every failed unit (after all others finished)."""
        bad = self.failed
        if bad:
            lines = "\n".join(f"  {r.unit.name}: {r.error}" for r in bad[:20])
            more = f"\n  ... and {len(bad) - 20} more" if len(bad) > 20 else ""
            raise BadState(f"{len(bad)} of {len(self.results)} unit(s) failed:\n{lines}{more}")


# -- embed ---------------------------------------------------------------------------------


def embed_all(
    store: str | Path,
    models: Sequence[Any],
    tasks: Sequence[str],
    *,
    dask: Any = None,
    data_dir: str | Path | None = None,
    device: str = "auto",
    options: Any = None,
    token_budget: int | None = None,
    overwrite: bool = False,
    block_rows: int | None = None,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    lock_wait: float = LOCK_WAIT_SECONDS,
    progress: bool = True,
    n_workers: int | None = None,
    strict_tokens: bool = False,
    repair: bool = False,
) -> RunReport:
    """Embed every (model, task) pair into ``store`` as independent units.

    ``repair``: each unit verifies its stored pair and re-embeds it when damaged (every
    stored byte read once, on the worker), like ``geneb embed --repair``.

    ``models`` are catalog ids or ModelSpecs (as the CLI resolves them, user models
    included); the specs travel to the workers, so they need not know user model files.
    ``store`` must be reachable under the same path/URL from every worker (a shared
    file system or an fsspec URL such as ``s3://bucket/geneb.zarr``), and so must
    ``data_dir`` when given. Neural models are GPU units unless ``device='cpu'``.
    """
    from ..catalog import get_model
    from ..data import load_task
    from ..extract import adapter_class
    from ..extract.runner import PairSettings

    specs: dict[str, Any] = {}
    for m in models:  # unknown ids and missing extras fail here, before any work
        spec = get_model(m) if isinstance(m, str) else m
        adapter_class(spec.family).ensure_available(spec)
        specs.setdefault(spec.model_id, spec)
    tasks = list(dict.fromkeys(tasks))
    if not specs or not tasks:
        raise InvalidArgument("embed: no models or no tasks given")
    if data_dir is not None and not Path(data_dir).is_dir() and "://" not in str(data_dir):
        raise MissingFile(f"task data directory {data_dir} does not exist")
    for t in tasks:  # every task file parses before any work (one task in memory at a time)
        load_task(t, data_dir)
    units = embed_units(list(specs.values()), tasks, device)
    fn = functools.partial(
        run_embed_unit,
        store=str(store),
        specs=specs,
        storage_options=dict(storage_options) if storage_options else None,
        data_dir=None if data_dir is None else str(data_dir),
        device=device,
        options=options,
        settings=PairSettings(token_budget=token_budget, overwrite=overwrite, progress=False, block_rows=block_rows,
                              strict_tokens=strict_tokens, repair=repair),
        lock_wait=lock_wait,
    )
    t0 = time.perf_counter()
    with _connected(dask, n_workers) as client:
        _open_rw(store, storage_options)  # create it once (after the cluster is up), not per worker
        results = run_units(units, fn, dask=client, retries=retries, progress=progress,
                            desc="embed", cleanup=release_adapters)
    return RunReport(results, time.perf_counter() - t0)


@contextlib.contextmanager
def _connected(dask: Any, n_workers: int | None) -> Iterator[Any]:
    """A Client for ``dask`` (None stays None: in-process)."""
    if dask is None:
        yield None
        return
    from .cluster import connect

    with connect(dask, n_workers=n_workers) as client:
        yield client


def _open_rw(store: Any, storage_options: Mapping[str, Any] | None) -> Any:
    from ..store import open_store

    kw = {"storage_options": dict(storage_options)} if storage_options else {}
    return open_store(str(store), mode="a", **kw)


# -- probe ---------------------------------------------------------------------------------


def _gpu_backend(backend: str) -> bool:
    if backend == "cuml":
        return True
    if backend == "torch":
        from ..probe.backends import _cuda_usable_by_torch

        return _cuda_usable_by_torch()
    return False


def _grid_arguments(store: Any, out: Any, grid: dict[str, Any]) -> dict[str, Any]:
    """``grid`` completed with `run_probes`'s defaults: one signature owns the grid's options
    (a name it lacks, or ``jobs``, which the executor replaces, is a TypeError)."""
    import inspect

    from ..probe import run_probes

    if "jobs" in grid:
        raise TypeError("probe_all() runs units on its executor: 'jobs' does not apply (use n_workers)")
    bound = inspect.signature(run_probes).bind(store, out, **grid)
    bound.apply_defaults()
    return dict(bound.arguments)


def probe_all(
    store: str | Path,
    out: str | Path,
    *,
    dask: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    retries: int = 2,
    n_workers: int | None = None,
    checkpoint_seconds: float | None = None,
    **grid: Any,
) -> Any:
    """Probe every fully embedded (model, task) pair of ``store`` as independent units
    and merge their rows into the results table ``out`` (+ predictions side file).

    ``grid`` holds the keyword arguments of :func:`geneb.probe.run_probes` (protocol,
    models, tasks, regimes, backend, overwrite, progress, blas_threads, report) with its
    defaults; the grid is planned exactly as it plans it (incremental against ``out``,
    stale rows of re-embedded pairs dropped), so the table is the same whichever way the
    units ran. Returns the whole table; raises after saving when a unit failed."""
    from ..probe.grid import GridReport, plan_run
    from ..store import open_store

    g = _grid_arguments(store, out, grid)
    protocol, backend, blas_threads = g["protocol"], g["backend"], g["blas_threads"]
    t0 = time.perf_counter()
    report = g["report"] if g["report"] is not None else GridReport()
    kw = {"storage_options": dict(storage_options)} if storage_options else {}
    st = open_store(str(store), mode="r", **kw)
    plan = plan_run(st, out, protocol, g["models"], g["tasks"], g["regimes"], backend, g["overwrite"], blas_threads,
                    report, checkpoint_seconds)
    planned, backend, writer = plan.units, plan.backend, plan.writer
    if not planned:
        report.seconds = time.perf_counter() - t0
        return writer.table
    units = probe_units([(u.model, u.task, u.regimes) for u in planned], gpu=_gpu_backend(backend))
    fn = functools.partial(
        run_probe_unit, store=str(store),
        storage_options=dict(storage_options) if storage_options else None,
        protocol=protocol, backend=backend, blas_threads=blas_threads,
    )

    def merge_unit(res: UnitResult) -> None:
        if res.ok and res.value:
            writer.add(res.value)

    try:
        results = run_units(units, fn, dask=dask, retries=retries, progress=g["progress"],
                            desc=f"probe {protocol} [{backend}]", on_result=merge_unit,
                            n_workers=n_workers)
    finally:
        writer.save()
        report.seconds = time.perf_counter() - t0
    run = RunReport(results, report.seconds)
    failed = getattr(report, "failed", None)
    for r in results:
        pair = (r.unit.model, r.unit.task)
        if not r.ok:
            if failed is not None:
                failed[pair] = r.error or "failed"
        elif r.info.get("skipped"):
            report.skipped[pair] = r.info["skipped"]
            log.warning("skipping %s", r.info["skipped"])
        else:
            report.probed.append(pair)
            report.cells_fitted += len(getattr(r.unit, "regimes", ()))
    log.info("probe: %s", run)
    bad = run.failed
    if bad:
        from ..probe import ProbeError

        lines = "\n".join(f"  {r.unit.model}/{r.unit.task}: {r.error}" for r in bad)
        raise ProbeError(f"{len(bad)} (model, task) unit(s) could not be probed "
                         f"(nothing written for them; the other units were saved):\n{lines}")
    return writer.table
