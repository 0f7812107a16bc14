"""Small stores for tests: a complete cache key, random embeddings, a one-call pair writer.

Deterministic data, a complete cache key, and a one-call pair writer, so a probe or
analysis test can make a real store in a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from geneb.store import make_cache_key

from ..errors import InvalidArgument


def test_cache_key(model: str = "tiny-model", task_hash: str = "task-hash", dtype: str = "float16", **overrides: Any) -> dict[str, Any]:
    """A complete, valid cache key for tests; ``overrides`` replace single fields."""
    fields: dict[str, Any] = dict(
        model_id=model, revision="0" * 40, layer=-1, pooling="mean", special_tokens="include",
        max_length=512, window=None, reverse_complement=None, dtype=dtype, tokenizer="char",
        task_content_hash=task_hash, extractor_version="test",
    )
    fields.update(overrides)
    return make_cache_key(**fields)


test_cache_key.__test__ = False  # not a pytest test


def random_embeddings(n_rows: Mapping[str, int], dim: int, seed: int = 0, n_classes: int = 2) -> tuple[dict, dict]:
    """(X, y) dicts per split: float32 N(0, 1) features and integer labels."""
    rng = np.random.default_rng(seed)
    X = {s: rng.standard_normal((n, dim), dtype=np.float32) for s, n in n_rows.items()}
    y = {s: rng.integers(0, n_classes, n).astype(np.int64) for s, n in n_rows.items()}
    return X, y


def write_pair(store: Any, model: str, task: str, X: Mapping[str, np.ndarray], y: Mapping[str, np.ndarray],
               dtype: str = "float16", cache_key: Mapping[str, Any] | None = None, provenance: Mapping[str, Any] | None = None,
               finish: bool = True, **writer_kwargs: Any) -> None:
    """Write a complete (model, task) pair in one call (``finish=False`` leaves it partial:
    only the first block of the first split written, the pair not finished)."""
    dims = {v.shape[1] for v in X.values()}
    if len(dims) != 1:
        raise InvalidArgument(f"splits have different dims {sorted(dims)}")
    key = cache_key or test_cache_key(model, dtype=dtype)
    with store.open_writer(model, task, cache_key=key, n_rows={s: len(v) for s, v in X.items()}, dim=dims.pop(),
                           labels=dict(y), dtype=dtype, **writer_kwargs) as w:
        for split, mat in X.items():
            if not finish:
                b = w.pending_blocks(split)[0]
                w.write_block(split, b.start, mat[b.start:b.stop])
                return
            w.write_split(split, mat)
        w.finish(provenance)
