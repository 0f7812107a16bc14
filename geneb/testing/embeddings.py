"""Synthetic embeddings shaped like GENEB, written through the real store API: test
fixtures and benchmark inputs (class-conditional Gaussians with a chosen separation,
so probes learn something and lbfgs converges on most problems)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .store import write_pair


@dataclass(frozen=True)
class SyntheticTask:
    task: str
    n_train: int
    n_test: int
    dim: int
    n_classes: int
    separation: float = 1.0
    seed: int = 0


def make_embeddings(t: SyntheticTask) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{"train": (X, y), "test": (X, y)}``: float32 embeddings, int64 labels, every
    class present in train (labels 0..n_classes-1, imbalanced like real tasks)."""
    rng = np.random.default_rng(t.seed)
    centers = rng.normal(size=(t.n_classes, t.dim)) * (t.separation / np.sqrt(t.dim))
    weights = rng.dirichlet(np.full(t.n_classes, 4.0))
    out = {}
    for split, n in (("train", t.n_train), ("test", t.n_test)):
        y = rng.choice(t.n_classes, size=n, p=weights)
        y[: t.n_classes] = np.arange(t.n_classes)[: n]  # every class at least once
        X = centers[y] + rng.normal(size=(n, t.dim)) * (1.0 / np.sqrt(t.dim))
        out[split] = (X.astype(np.float32), y.astype(np.int64))
    return out


def synthetic_cache_key(model: str, task: str, dtype: str = "float32", version: str = "1") -> dict[str, Any]:
    from geneb.store import make_cache_key

    return make_cache_key(
        model_id=model, revision="synthetic", layer=-1, pooling="mean", special_tokens="include",
        max_length=None, window=None, reverse_complement=False, dtype=dtype, tokenizer=None,
        task_content_hash=f"synthetic:{task}", extractor_version=f"synthetic-{version}",
    )


def write_synthetic_pair(
    store: Any,
    model: str,
    task: str,
    arrays: dict[str, tuple[np.ndarray, np.ndarray]],
    dtype: str = "float32",
    finish: bool = True,
    overwrite: bool = False,
    key_version: str = "1",
) -> None:
    """Write `make_embeddings` output (``{split: (X, y)}``) as one pair under its synthetic
    cache key (``finish=False`` leaves it partial: only the first train block written)."""
    write_pair(store, model, task, {s: a[0] for s, a in arrays.items()}, {s: a[1] for s, a in arrays.items()},
               dtype=dtype, cache_key=synthetic_cache_key(model, task, dtype, key_version),
               provenance={"source": "geneb.testing"}, finish=finish, overwrite=overwrite)


def write_synthetic_store(url: str, model: str, tasks: Iterable[SyntheticTask], dtype: str = "float32") -> Any:
    """Create (or append to) a store at ``url`` with one model over ``tasks``."""
    from geneb.store import open_store

    st = open_store(url, mode="a")
    for t in tasks:
        write_synthetic_pair(st, model, t.task, make_embeddings(t), dtype=dtype)
    return st
