"""Units of work: one (model, task) pair, embedded or probed, and the pure functions that
run one unit anywhere (this process or a Dask worker).

A unit is self-contained: it opens the store from its URL, takes the pair's lock,
resumes whatever is already done and writes only its own arrays. A unit lost with its
worker is therefore simply run again; the store's done-bitmaps make the rerun finish
the same bytes. Probe units return their rows instead of writing the results table,
so workers never write the same parquet file; the caller merges them.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .._unit import Unit
from ..probe.pair import DEFAULT_BLAS_THREADS

log = logging.getLogger(__name__)


#: Errors a rerun cannot fix are geneb's UserErrors (bad input, bad option, cache-key
#: mismatch, unknown model...), decided by class; of the builtin ones only a missing
#: package or feature on the worker. They end a unit at once, without Dask retries;
#: anything else (I/O hiccups, a busy lock, CUDA OOM, a bug) is raised so the executor
#: retries the unit, and a bug then fails with its traceback.
_PERMANENT = (ImportError, NotImplementedError)


@dataclass
class UnitResult:
    """What one unit did: ``value`` is the embed ``PairResult`` or the probe rows;
    ``host``/``pid`` name the process that ran it; ``attempts`` counts tries made by the
    in-process executor (retries inside Dask are not visible to the unit)."""

    unit: Unit
    ok: bool
    value: Any = None
    error: str | None = None
    seconds: float = 0.0
    host: str = ""
    pid: int = 0
    attempts: int = 1
    info: dict[str, Any] = field(default_factory=dict)


def is_permanent(exc: BaseException) -> bool:
    """True for errors that a rerun of the same unit would repeat: decided by geneb's error
    classes (transient first: a busy lock is also a store error), then a missing package."""
    from ..errors import TransientError, UserError

    if isinstance(exc, TransientError):
        return False
    return isinstance(exc, UserError) or isinstance(exc, _PERMANENT)


def _finish(unit: Unit, t0: float, value: Any = None, error: BaseException | None = None) -> UnitResult:
    return UnitResult(
        unit=unit,
        ok=error is None,
        value=value,
        error=None if error is None else f"{type(error).__name__}: {error}",
        seconds=time.perf_counter() - t0,
        host=socket.gethostname(),
        pid=os.getpid(),
    )


# -- unit lists ------------------------------------------------------------------------


def model_needs_gpu(spec: Any, device: str) -> bool:
    """Whether embedding the model (a ModelSpec) on ``device`` is GPU work: never for
    ``cpu``, always for ``cuda*``; for ``auto``, when its adapter runs a torch network
    (k-mer baselines do not)."""
    if device == "cpu":
        return False
    if device.startswith("cuda"):
        return True
    from ..extract.adapters import adapter_class

    try:
        return "torch" in adapter_class(spec.family).requires
    except ImportError:
        return True


def embed_units(specs: Sequence[Any], tasks: Sequence[str], device: str = "auto") -> list[Unit]:
    """Every (model, task) pair for ModelSpecs ``specs``, model-major (a worker keeps a
    loaded model for the next task); ``gpu`` set for neural models unless ``device='cpu'``."""
    out = []
    for spec in specs:
        gpu = model_needs_gpu(spec, device)
        out.extend(Unit("embed", spec.model_id, t, gpu=gpu) for t in tasks)
    return out


def probe_units(
    pairs: Iterable[tuple[str, str] | tuple[str, str, Sequence[str]]], gpu: bool = False
) -> list[Unit]:
    """One probe unit per pair, optionally with the regimes still to fit."""
    out = []
    for p in pairs:
        regimes = tuple(p[2]) if len(p) > 2 else ()
        out.append(Unit("probe", p[0], p[1], gpu=gpu, regimes=regimes))
    return out


# -- the functions workers run -----------------------------------------------------------

#: Seconds an embed unit waits for a pair whose lock another writer holds. Longer than a
#: remote store's lease, so a unit rerun after its worker died takes the dead worker's
#: lease over instead of giving up (local stores use flock, freed by the kernel at once).
LOCK_WAIT_SECONDS = 180.0
_LOCK_POLL_SECONDS = 2.0

#: Per worker thread: (key, adapter) of the model it has loaded.
_ADAPTERS: dict[int, tuple[Any, Any]] = {}
_ADAPTERS_LOCK = threading.Lock()


def _adapter(spec: Any, options: Any, device: str) -> Any:
    """This thread's adapter for ModelSpec ``spec``: loaded weights are reused by the next
    unit of the same model (units are model-major), and freed before another model
    loads, so a worker thread holds one model at a time."""
    from ..extract import ExtractOptions, make_adapter, resolve_device

    opts = options if options is not None else ExtractOptions()
    key = (spec, opts, device)
    tid = threading.get_ident()
    with _ADAPTERS_LOCK:
        cached = _ADAPTERS.get(tid)
    if cached is not None and cached[0] == key:
        return cached[1]
    _release(tid)
    adapter = make_adapter(spec, opts, resolve_device(device))
    with _ADAPTERS_LOCK:
        _ADAPTERS[tid] = (key, adapter)
    return adapter


def _release(tid: int) -> None:
    with _ADAPTERS_LOCK:
        cached = _ADAPTERS.pop(tid, None)
    if cached is not None:
        cached[1].close()


def release_adapters() -> None:
    """Close every cached model of this process (end of a run; run on each Dask worker
    so a long-lived cluster does not keep GPU memory)."""
    with _ADAPTERS_LOCK:
        tids = list(_ADAPTERS)
    for tid in tids:
        _release(tid)


def _open(store: str, mode: str, storage_options: Mapping[str, Any] | None) -> Any:
    from ..store import open_store

    kw = {"storage_options": dict(storage_options)} if storage_options else {}
    return open_store(store, mode=mode, **kw)


def run_embed_unit(
    unit: Unit,
    *,
    store: str,
    specs: Mapping[str, Any] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    data_dir: str | None = None,
    device: str = "auto",
    options: Any = None,
    settings: Any = None,
    lock_wait: float = LOCK_WAIT_SECONDS,
) -> UnitResult:
    """Embed one pair into the store at ``store``: `geneb.extract.runner.embed_task` (open
    store, lock, resume, write, finish, as :func:`geneb.extract.embed_pair` does),
    with the model kept loaded between units of the same model.

    ``specs`` maps model ids to the ModelSpecs resolved by the caller (user models from a
    model file or ``path:`` exist only there); other ids come from the catalog.
    A pair locked by another writer is waited for up to ``lock_wait`` seconds (it then
    ends "skipped" when that writer finished it). Permanent errors come back as a failed
    result; transient ones are raised for the executor to retry. ``settings`` is the
    `geneb.extract.runner.PairSettings` of the run (token budget, overwrite, block rows,
    strict tokens, and repair: verify the stored pair first and re-embed it when damaged,
    as ``geneb embed --repair``)."""
    from ..catalog import get_model
    from ..extract.runner import embed_task

    t0 = time.perf_counter()
    try:
        spec = (specs or {}).get(unit.model) or get_model(unit.model)
        adapter = _adapter(spec, options, device)
        res = embed_task(_open(store, "a", storage_options), adapter, unit.task, data_dir, settings,
                         lock_wait=lock_wait, poll_seconds=_LOCK_POLL_SECONDS)
    except Exception as exc:
        if is_permanent(exc):
            return _finish(unit, t0, error=exc)
        raise
    if res.status == "locked":
        from ..store.errors import LockBusy

        raise LockBusy(f"{unit.model}/{unit.task} stayed locked by another writer for {lock_wait:g} s")
    return _finish(unit, t0, value=res)


def run_probe_unit(
    unit: Unit,
    *,
    store: str,
    storage_options: Mapping[str, Any] | None = None,
    protocol: str = "geneb-v1",
    backend: str = "sklearn",
    blas_threads: int | None = DEFAULT_BLAS_THREADS,
) -> UnitResult:
    """Probe one pair with :func:`geneb.probe.probe_pair` (the unit's regimes, or all);
    the rows come back in the result, predictions included, for the caller to merge
    into the results table. A pair that cannot be probed by design (single-class train
    split) comes back ok, with no rows and ``info["skipped"]``. The fits run on
    ``blas_threads`` BLAS threads (geneb-v1's default 1, as in every other mode)."""
    from ..probe import ProbeSkip, probe_pair

    t0 = time.perf_counter()
    try:
        st = _open(store, "r", storage_options)
        rows = probe_pair(st, unit.model, unit.task, protocol=protocol,
                          regimes=unit.regimes or None, backend=backend, blas_threads=blas_threads)
    except ProbeSkip as exc:
        res = _finish(unit, t0, value=[])
        res.info["skipped"] = str(exc)
        return res
    except Exception as exc:
        if is_permanent(exc):
            return _finish(unit, t0, error=exc)
        raise
    return _finish(unit, t0, value=rows)
