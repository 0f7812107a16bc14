"""`probe_pair`: probe one (model, task) unit from a store. Self-contained (opens the
store itself when given a URL, holds only this pair's arrays), so a distributed
scheduler can call it per unit on its workers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._blas import blas_limit
from ..catalog import get_task
from .source import as_store, load_pair
from .unit import probe_arrays

#: BLAS threads per fit. OpenBLAS sums in a thread-count-dependent order, so multiclass
#: fits (and some binary ones) differ in their last bits, sometimes in their predictions,
#: between thread counts: one thread makes geneb-v1's numbers the same whatever the
#: machine's core count and whether units run serially, in --jobs processes or on Dask
#: (parallelism comes from running units side by side). It is also the fastest setting
#: for all but the largest fits (benchmarks/PROBE_RESULTS.md).
DEFAULT_BLAS_THREADS = 1


def task_category(task: str) -> str:
    """The task's GENEB category, ``"unknown"`` for tasks the catalog does not know."""
    try:
        return get_task(task).category
    except KeyError:
        return "unknown"


def pair_provenance(store: Any, model: str, task: str) -> dict[str, str | None]:
    """What a results row records about the vectors it was fitted on: ``storage_dtype``
    (the dtype the store holds them in: the split layouts' dtype, else the cache key's)
    and ``task_hash`` (the content hash of the task data they were embedded from, the
    cache key's ``task_content_hash``). None where the store does not say."""
    get_key = getattr(store, "cache_key", None)
    key = (get_key(model, task) if callable(get_key) else None) or {}
    dtypes = set()
    for split in ("train", "test"):
        try:
            dtypes.add(str(store.layout(model, task, split).dtype))
        except (AttributeError, KeyError):  # a store without layouts (a stand-in) or no such split
            pass
    if not dtypes and key.get("dtype"):
        dtypes.add(str(key["dtype"]))
    return {"storage_dtype": "/".join(sorted(dtypes)) or None, "task_hash": key.get("task_content_hash") or None}


def probe_pair(
    store: Any,
    model: str,
    task: str,
    protocol: str = "geneb-v1",
    regimes: Sequence[str] | None = None,
    backend: str = "auto",
    blas_threads: int | None = DEFAULT_BLAS_THREADS,
) -> list[dict[str, Any]]:
    """Results rows for one (model, task): one dict per (regime, seed) with every
    results-table column plus ``y_true``/``y_pred`` (numpy arrays of the test split;
    `geneb.probe.table.rows_to_frames` splits them into the two tables).

    The fits run on ``blas_threads`` BLAS threads (recorded in each row; None leaves the
    environment's count and records null).

    Raises ProbeError naming the pair when it is not fully embedded or its embeddings
    are not finite, and ProbeSkip when its train split has fewer than two classes."""
    st = as_store(store)
    arrays = load_pair(st, model, task)
    with blas_limit(blas_threads):
        rows = probe_arrays(
            arrays.X_train, arrays.y_train, arrays.X_test, arrays.y_test,
            protocol=protocol, regimes=regimes, backend=backend, where=f"{model}/{task}",
        )
    ident = {
        "model": model, "task": task, "category": task_category(task),
        "protocol": protocol, "cache_key": arrays.cache_key,
        **pair_provenance(st, model, task), "blas_threads": blas_threads,
    }
    return [{**ident, **r} for r in rows]
