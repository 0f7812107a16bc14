"""The thin store-reading layer: load one (model, task) pair's arrays, refusing pairs
that are not fully embedded. Everything else in geneb.probe works on numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .errors import ProbeError


@dataclass(frozen=True)
class PairArrays:
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    cache_key: str


def as_store(store: Any, mode: str = "r") -> Any:
    """A store object from a store, a path or an fsspec URL."""
    if isinstance(store, (str, Path)):
        from ..store import open_store

        return open_store(str(store), mode=mode)
    return store


def store_url(store: Any) -> str | None:
    """A URL a worker process can reopen the store from, when there is one."""
    if isinstance(store, (str, Path)):
        return str(store)
    for attr in ("url", "path", "root"):
        val = getattr(store, attr, None)
        if isinstance(val, (str, Path)):
            return str(val)
    return None


def load_pair(store: Any, model: str, task: str) -> PairArrays:
    """The float32 train/test embeddings, int64 labels and cache-key hash of one pair."""
    st = as_store(store)
    status = st.status(model, task)
    if status != "complete":
        raise ProbeError(
            f"{model}/{task}: not fully embedded (store status {status!r}); "
            "finish it with `geneb embed` before probing"
        )
    arrays = {}
    for split in ("train", "test"):
        X = np.asarray(st.X(model, task, split))
        if X.dtype != np.float32:
            X = X.astype(np.float32)
        arrays[split] = (X, np.asarray(st.y(model, task, split), dtype=np.int64))
        if hasattr(st, "row_index"):
            # the rows are in task-file order only if row_index is intact (0..n-1): a damaged
            # one is refused like damaged vectors, not ignored
            idx = st.row_index(model, task, split)
            if not np.array_equal(idx, np.arange(len(X))):
                raise ProbeError(f"{model}/{task}/{split}: row_index is not 0..n-1; the store is damaged (geneb store verify)")
    return PairArrays(
        arrays["train"][0], arrays["train"][1], arrays["test"][0], arrays["test"][1],
        str(st.cache_key_hash(model, task)),
    )
