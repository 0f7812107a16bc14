"""`run_probes`: the (model, task, regime) grid over a store, incremental against an
existing results table, optionally in parallel processes with BLAS threads capped."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from .._unit import Unit, run_each
from ..catalog import get_protocol
from ..errors import InvalidArgument
from .backends import resolve_backend_name
from .errors import ProbeError, ProbeSkip
from .pair import DEFAULT_BLAS_THREADS, probe_pair
from .source import as_store, store_url
from .table import (
    journal_unit,
    merge,
    read_journal,
    read_preds,
    read_results,
    rows_to_frames,
    write_results,
)

log = logging.getLogger(__name__)

#: Seconds between checkpoints of finished units to the results table.
CHECKPOINT_SECONDS = 120.0


@dataclass
class GridReport:
    """What a run did: units probed, grid cells already done, pairs skipped and why."""

    probed: list[tuple[str, str]] = field(default_factory=list)
    cells_fitted: int = 0  # cells of the probed units (planned cells of skipped or failed units excluded)
    cells_done: int = 0
    cells_todo: int = 0
    skipped: dict[tuple[str, str], str] = field(default_factory=dict)
    failed: dict[tuple[str, str], str] = field(default_factory=dict)
    seconds: float = 0.0


def _select_pairs(st: Any, models: Sequence[str] | None, tasks: Sequence[str] | None) -> list[tuple[str, str]]:
    pairs = [(str(m), str(t)) for m, t in st.pairs()]
    if models:
        known = {m for m, _ in pairs}
        missing = [m for m in models if m not in known]
        if missing:
            raise ProbeError(f"model(s) not in the store: {', '.join(missing)} (store has: {', '.join(sorted(known))})")
        pairs = [p for p in pairs if p[0] in set(models)]
    if tasks:
        pairs = [p for p in pairs if p[1] in set(tasks)]
    return sorted(set(pairs))


def _done_cells(existing: pl.DataFrame, protocol: str, seeds: Sequence[int]) -> set[tuple[str, str, str, str]]:
    """(model, task, regime, cache_key) cells whose every seed is already in the table,
    from the protocol's own solver (geneb-v1 rows an older geneb wrote with torch are refitted)."""
    if existing.height == 0:
        return set()
    got = (
        existing.filter(pl.col("protocol") == protocol, pl.col("seed").is_in(list(seeds)),
                        pl.col("backend") == get_protocol(protocol).backend)
        .group_by("model", "task", "regime", "cache_key")
        .agg(pl.col("seed").n_unique().alias("n"))
        .filter(pl.col("n") == len(set(seeds)))
    )
    return {tuple(r) for r in got.select("model", "task", "regime", "cache_key").iter_rows()}


def _unit_cost(st: Any, unit: Unit, proto: Any, n_classes: dict[str, int]) -> int:
    """A unit's relative fitting cost, to start the dearest first (with --jobs N the run
    then ends when the last large unit does, not after a late one): the rows every fit
    reads (the full-data fit once, each k-shot draw per seed) x dim x the coefficient
    columns (1 for binary, one per class otherwise). A 40-class task of a few MB costs
    more than a binary one ten times its size. Labels are read once per task."""
    try:
        lay = st.layout(unit.model, unit.task, "train")
        if unit.task not in n_classes:
            n_classes[unit.task] = int(len(np.unique(np.asarray(st.y(unit.model, unit.task, "train")))))
        k = n_classes[unit.task]
    except Exception:  # noqa: BLE001 - cost only orders work; unknown cost sorts last
        return 0
    n = int(lay.n_rows)
    rows = 0
    for regime in unit.regimes or proto.regimes:
        shots = proto.k_for(regime)
        rows += n if shots is None else len(proto.seeds) * min(n, shots * k)
    return rows * int(lay.dim) * (1 if k <= 2 else k)


def plan_grid(
    st: Any,
    existing: pl.DataFrame,
    protocol: str,
    models: Sequence[str] | None,
    tasks: Sequence[str] | None,
    regimes: Sequence[str],
    overwrite: bool,
    report: GridReport,
) -> list[Unit]:
    """Units still to fit, dearest first (`_unit_cost`); pairs not fully embedded go to ``report.skipped``."""
    proto = get_protocol(protocol)
    done = set() if overwrite else _done_cells(existing, protocol, proto.seeds)
    units = []
    for model, task in _select_pairs(st, models, tasks):
        status = st.status(model, task)
        if status != "complete":
            report.skipped[(model, task)] = f"not fully embedded (store status {status!r})"
            continue
        key = str(st.cache_key_hash(model, task))
        todo = tuple(r for r in regimes if (model, task, r, key) not in done)
        report.cells_done += len(regimes) - len(todo)
        report.cells_todo += len(todo)
        if todo:
            units.append(Unit("probe", model, task, regimes=todo, cache_key=key))
    if len(units) > 1:
        seen: dict[str, int] = {}
        units = sorted((replace(u, size=_unit_cost(st, u, proto, seen)) for u in units), key=lambda u: -u.size)
    return units


def _init_worker(threads: int) -> None:
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = str(threads)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)


def _probe_unit(unit: Unit, store: Any, protocol: str, backend: str, blas_threads: int | None) -> list[dict[str, Any]]:
    return probe_pair(store, unit.model, unit.task, protocol=protocol, regimes=unit.regimes, backend=backend,
                      blas_threads=blas_threads)


def drop_stale(table: pl.DataFrame, fresh: pl.DataFrame, protocol: str) -> pl.DataFrame:
    """Rows of re-embedded pairs (old cache key) are stale once the pair is re-probed."""
    if fresh.height == 0 or table.height == 0:
        return table
    cur = fresh.select("model", "task", "cache_key").unique()
    stale = (
        table.join(cur, on=["model", "task"], how="inner", suffix="_new")
        .filter(pl.col("protocol") == protocol, pl.col("cache_key") != pl.col("cache_key_new"))
        .select("model", "task", "regime", "seed", "protocol")
    )
    return table.join(stale, on=["model", "task", "regime", "seed", "protocol"], how="anti")



@dataclass
class GridRun:
    """A planned probe run: the checked settings, the existing results and the units to fit."""

    protocol: str
    regimes: tuple[str, ...]
    backend: str
    units: list[Unit]
    writer: ResultsWriter


def plan_run(
    st: Any,
    out: str | Path,
    protocol: str,
    models: Sequence[str] | None,
    tasks: Sequence[str] | None,
    regimes: Sequence[str] | None,
    backend: str,
    overwrite: bool,
    blas_threads: int | None,
    report: GridReport,
    checkpoint_seconds: float | None = None,
) -> GridRun:
    """Check the settings, read ``out`` and plan the units still to fit; shared by
    ``run_probes`` and the Dask driver so both skip and replace exactly the same cells."""
    proto = get_protocol(protocol)
    regimes = tuple(regimes or proto.regimes)
    bad = [r for r in regimes if r not in proto.regimes]
    if bad:
        raise InvalidArgument(f"protocol {protocol!r} has no regime(s) {bad} (has {list(proto.regimes)})")
    if blas_threads is not None and blas_threads < 1:
        raise InvalidArgument(f"blas_threads must be >= 1 (or None to leave them as they are), got {blas_threads}")
    backend = resolve_backend_name(backend, proto)
    table, preds = recover_journal(out, read_results(out), read_preds(out), protocol)
    units = plan_grid(st, table, protocol, models, tasks, regimes, overwrite, report)
    for (m, t), why in report.skipped.items():
        log.warning("skipping %s/%s: %s", m, t, why)
    every = CHECKPOINT_SECONDS if checkpoint_seconds is None else checkpoint_seconds
    return GridRun(protocol, regimes, backend, units, ResultsWriter(Path(out), protocol, table, preds, every))


def recover_journal(out: str | Path, table: pl.DataFrame, preds: pl.DataFrame, protocol: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fold the units a killed run had finished (its journal) into the table, so they are
    not refitted; the table is rewritten and the journal removed."""
    res, prd, files = read_journal(out)
    if not files:
        return table, preds
    if res.height:
        n = res.select("model", "task").unique().height
        log.warning("recovered %d finished (model, task) unit(s) of an interrupted run from %s", n, files[0].parent)
    return fold_in(out, table, preds, res, prd, protocol, files)


def fold_in(out: str | Path, table: pl.DataFrame, preds: pl.DataFrame, res: pl.DataFrame, prd: pl.DataFrame,
            protocol: str, journaled: list[Path]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Merge fresh rows and predictions into the table (replacing stale ones), write it,
    then delete the journal files those rows came from: their work is done."""
    if res.height:
        table = merge(drop_stale(table, res, protocol), res)
        preds = merge(drop_stale_preds(preds, table), prd)
        write_results(out, table, preds)
    for f in journaled:
        f.unlink(missing_ok=True)
    if journaled:
        try:
            journaled[0].parent.rmdir()
        except OSError:  # not empty (another run's units) or already gone
            pass
    return table, preds


class ResultsWriter:
    """Collects finished units' rows: each unit is journaled to disk as it finishes (a
    kill loses only the units in flight) and merged into the results table and its
    predictions side file at checkpoints (every ``every`` seconds) and at ``save()``."""

    def __init__(self, out: Path, protocol: str, table: pl.DataFrame, preds: pl.DataFrame, every: float) -> None:
        self.out, self.protocol, self.table, self.preds, self.every = out, protocol, table, preds, every
        self.frames: list[tuple[pl.DataFrame, pl.DataFrame]] = []  # finished units, not yet in the table
        self.journaled: list[Path] = []
        self.last = time.perf_counter()

    def add(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            res, prd = rows_to_frames(rows)
            name = f"{time.time_ns():020d}-{os.getpid()}-{len(self.journaled)}"
            self.journaled += journal_unit(self.out, res, prd, name)
            self.frames.append((res, prd))
        if self.frames and time.perf_counter() - self.last > self.every:
            self.save()

    def save(self) -> None:
        if not self.frames:
            return
        res = pl.concat([r for r, _ in self.frames], how="vertical")
        prd = pl.concat([p for _, p in self.frames], how="vertical")
        self.table, self.preds = fold_in(self.out, self.table, self.preds, res, prd, self.protocol, self.journaled)
        self.journaled = []
        self.frames = []
        self.last = time.perf_counter()


def run_probes(
    store: Any,
    out: str | Path,
    protocol: str = "geneb-v1",
    models: Sequence[str] | None = None,
    tasks: Sequence[str] | None = None,
    regimes: Sequence[str] | None = None,
    backend: str = "auto",
    jobs: int = 1,
    overwrite: bool = False,
    progress: bool = True,
    *,
    blas_threads: int | None = DEFAULT_BLAS_THREADS,
    report: GridReport | None = None,
) -> pl.DataFrame:
    """Probe every fully embedded (model, task) pair of ``store`` under ``protocol`` and
    write the results table ``out`` (+ ``<stem>.preds.parquet``); returns the whole table.

    Incremental: a (model, task, regime) whose rows for every seed are already in ``out``
    with the pair's current store cache key and this protocol is not refitted, unless
    ``overwrite``. Pairs not fully embedded or with a single-class train split are skipped
    with a warning (listed in ``report``). An invalid pair (e.g. NaN embeddings) writes
    nothing; the other units still run and are saved (each unit's rows are written whole
    or not at all), then ProbeError is raised naming every failed pair."""
    from .._progress import progress_bar

    t0 = time.perf_counter()
    report = report if report is not None else GridReport()
    if jobs < 1:
        raise InvalidArgument(f"jobs must be >= 1, got {jobs}")
    st = as_store(store)
    run = plan_run(st, out, protocol, models, tasks, regimes, backend, overwrite, blas_threads, report)
    units, backend, writer = run.units, run.backend, run.writer
    if not units:
        report.seconds = time.perf_counter() - t0
        return writer.table

    bar = progress_bar(sum(len(u.regimes) for u in units), f"probe {protocol} [{backend}]", "cell", progress)

    def finished(unit: Unit, rows: list[dict[str, Any]] | BaseException) -> None:
        bar.update(len(unit.regimes))
        if isinstance(rows, ProbeSkip):
            report.skipped[(unit.model, unit.task)] = str(rows)
            log.warning("skipping %s", rows)
        elif isinstance(rows, BaseException):
            report.failed[(unit.model, unit.task)] = str(rows)
            log.error("%s", rows)
        else:
            writer.add(rows)
            report.probed.append((unit.model, unit.task))
            report.cells_fitted += len(unit.regimes)

    try:
        _run_units(st, units, protocol, backend, jobs, finished, blas_threads)
    finally:
        bar.close()
        writer.save()
        report.seconds = time.perf_counter() - t0
    if report.failed:
        lines = "\n".join(f"  {why}" for why in report.failed.values())
        raise ProbeError(f"{len(report.failed)} (model, task) unit(s) could not be probed "
                         f"(nothing written for them; the other units were saved):\n{lines}")
    return writer.table


def drop_stale_preds(preds: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Keep only prediction rows whose results row still exists."""
    if preds.height == 0:
        return preds
    keys = ["model", "task", "regime", "seed", "protocol"]
    return preds.join(table.select(keys), on=keys, how="semi")


def _run_units(
    st: Any,
    units: list[Unit],
    protocol: str,
    backend: str,
    jobs: int,
    finished: Callable[[Unit, list[dict[str, Any]] | BaseException], None],
    blas_threads: int | None = DEFAULT_BLAS_THREADS,
) -> None:
    """Units here (``jobs`` 1) or in ``jobs`` worker processes, each reopening the store from
    its URL; a ProbeError is that unit's outcome, any other exception ends the run."""
    store: Any = st
    threads = 1
    if jobs > 1 and len(units) > 1:
        store = store_url(st)
        if store is None:
            raise InvalidArgument("jobs > 1 needs a store given by path or URL (workers reopen it)")
        threads = blas_threads if blas_threads is not None else max(1, (os.cpu_count() or 1) // jobs)
    outcomes = run_each(_probe_unit, units, store, protocol, backend, blas_threads, jobs=jobs,
                        initializer=_init_worker, initargs=(threads,))
    for unit, out in outcomes:
        if isinstance(out, BaseException) and not isinstance(out, ProbeError):
            outcomes.close()  # cancels the units not started
            raise out
        finished(unit, out)
