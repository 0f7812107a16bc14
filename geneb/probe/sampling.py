"""k-shot sampling exactly as the GENEB reference harness draws it (geneb-v1).

Per seed: ``rng = np.random.RandomState(seed)``; for each class in ``np.unique(y)``
order, ``rng.choice(indices_of_class, size=min(k, n_class), replace=False)``;
concatenate. The draw order matters for bit-identical fits, so it is kept as is.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgument


def class_rows(y: np.ndarray) -> list[np.ndarray]:
    """Each class's row indices, classes in ``np.unique`` order (what every seed's draw
    chooses from; computing them once saves a pass over ``y`` per class per seed)."""
    y = np.asarray(y)
    return [np.where(y == cls)[0] for cls in np.unique(y)]


def few_shot_indices(y: np.ndarray, k: int, seed: int, rows: list[np.ndarray] | None = None) -> np.ndarray:
    """Row indices of the k-shot training subset for one seed (reference order).
    ``rows``: `class_rows(y)`, when the caller draws many seeds from one ``y``."""
    if k < 1:
        raise InvalidArgument(f"k must be >= 1, got {k}")
    rng = np.random.RandomState(seed)
    parts = [rng.choice(idx, size=min(k, len(idx)), replace=False)
             for idx in (class_rows(y) if rows is None else rows)]
    return np.concatenate(parts).astype(np.int64, copy=False)


def short_classes(y: np.ndarray, k: int) -> dict[int, int]:
    """Classes with fewer than k training rows (their k-shot draw takes all of them)."""
    classes, counts = np.unique(np.asarray(y), return_counts=True)
    return {int(c): int(n) for c, n in zip(classes, counts, strict=True) if n < k}
