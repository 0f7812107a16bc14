"""`probe_pair`: probe one (model, task) unit from a store. Self-contained (opens the
store itself when given a URL, holds only this pair's arrays), so a distributed
scheduler can call it per unit on its workers."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..catalog import get_task
from .source import load_pair
from .unit import probe_arrays


def task_category(task: str) -> str:
    """The task's GENEB category, ``"unknown"`` for tasks the catalog does not know."""
    try:
        return get_task(task).category
    except KeyError:
        return "unknown"


def probe_pair(
    store: Any,
    model: str,
    task: str,
    protocol: str = "geneb-v1",
    regimes: Sequence[str] | None = None,
    backend: str = "auto",
) -> list[dict[str, Any]]:
    """Results rows for one (model, task): one dict per (regime, seed) with every
    results-table column plus ``y_true``/``y_pred`` (numpy arrays of the test split;
    `geneb.probe.table.rows_to_frames` splits them into the two tables).

    Raises ProbeError naming the pair when it is not fully embedded or its embeddings
    are not finite, and ProbeSkip when its train split has fewer than two classes."""
    arrays = load_pair(store, model, task)
    rows = probe_arrays(
        arrays.X_train, arrays.y_train, arrays.X_test, arrays.y_test,
        protocol=protocol, regimes=regimes, backend=backend, where=f"{model}/{task}",
    )
    ident = {
        "model": model, "task": task, "category": task_category(task),
        "protocol": protocol, "cache_key": arrays.cache_key,
    }
    return [{**ident, **r} for r in rows]
