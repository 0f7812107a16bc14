"""One unit of work: a (model, task) pair to embed or probe, and `run_each`, which runs
units here or in worker processes. The probe grid and the Dask drivers schedule this same
value; the functions that run one unit are `geneb.probe.probe_pair` and
`geneb.extract.embed_task` underneath."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["embed", "probe"]


@dataclass(frozen=True)
class Unit:
    """``gpu`` units run only on GPU workers; ``regimes``: for a probe unit, the regimes
    still to fit (empty = all); ``cache_key``: the pair's cache-key hash when the unit was
    planned (the probe grid records it with the rows); ``size``: the unit's relative cost,
    for ordering, dearest first."""

    kind: Kind
    model: str
    task: str
    gpu: bool = False
    regimes: tuple[str, ...] = ()
    cache_key: str = ""
    size: int = 0

    @property
    def name(self) -> str:
        return f"{self.kind} {self.model}/{self.task}"


def run_each(
    fn: Callable[..., Any],
    units: Sequence[Unit],
    *args: Any,
    jobs: int = 1,
    initializer: Callable[..., None] | None = None,
    initargs: tuple[Any, ...] = (),
) -> Iterator[tuple[Unit, Any]]:
    """``fn(unit, *args)`` for every unit, yielded as ``(unit, outcome)`` as each finishes;
    the outcome is what ``fn`` returned or the exception it raised (the caller decides
    which are fatal). ``jobs == 1``: here, in order. ``jobs > 1``: in that many worker
    processes (``fn``, the units and ``args`` must pickle; ``initializer(*initargs)`` runs
    in each worker first), forked where that is safe, spawned once this process has loaded
    torch (whose thread pools do not survive a fork). Closing the iterator early cancels
    the units not started and waits for those running. The single executor under the
    probe grid's ``--jobs`` and `geneb.dist`'s in-process runs (which add Dask)."""
    if jobs <= 1 or len(units) <= 1:
        for unit in units:
            try:
                out = fn(unit, *args)
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who decides
                out = exc
            yield unit, out
        return
    import multiprocessing as mp
    import sys
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    method = "fork" if "fork" in mp.get_all_start_methods() and "torch" not in sys.modules else "spawn"
    with ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context(method), initializer=initializer,
                             initargs=initargs) as pool:
        pending = {pool.submit(fn, unit, *args): unit for unit in units}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    unit = pending.pop(fut)
                    exc = fut.exception()
                    yield unit, (exc if exc is not None else fut.result())
        finally:
            for fut in pending:
                fut.cancel()
