"""Synthetic results tables in the contract schema, for tests, benchmarks and demos.

Scores follow a simple generative story (model skill + task difficulty + category
affinity + noise, shrunk in few-shot regimes); they are NOT GENEB results."""

from __future__ import annotations

import hashlib

import numpy as np
import polars as pl

from geneb.results import RESULT_SCHEMA


def synthetic_results(
    models: list[str] | None = None,
    tasks: list[tuple[str, str]] | None = None,
    n_models: int = 41,
    n_tasks: int = 100,
    regimes: tuple[str, ...] = ("full", "10shot", "1shot"),
    seeds: tuple[int, ...] = (13, 17, 42, 123, 997),
    protocol: str = "geneb-v1",
    random_state: int = 0,
) -> pl.DataFrame:
    """A results table for `models` x `tasks` ((task_id, category) pairs); by default the
    first `n_models` catalog models and the first `n_tasks` GENEB tasks."""
    from geneb.catalog import all_models, geneb_tasks

    if models is None:
        models = list(all_models())[:n_models]
    if tasks is None:
        tasks = [(t.task_id, t.category) for t in geneb_tasks()[:n_tasks]]
    rng = np.random.default_rng(random_state)
    M, T, R, S = len(models), len(tasks), len(regimes), len(seeds)
    skill = rng.normal(0, 0.1, M)
    cats = sorted({c for _, c in tasks})
    affinity = rng.normal(0, 0.08, (M, len(cats)))
    cidx = np.array([cats.index(c) for _, c in tasks])
    base = rng.uniform(0.2, 0.8, T)
    shrink = np.array([1.0, 0.5, 0.2, 0.1][:R] + [0.1] * max(0, R - 4))
    mcc = (base[None, :, None, None] + skill[:, None, None, None] + affinity[:, cidx][:, :, None, None])
    mcc = mcc * shrink[None, None, :, None] + rng.normal(0, 0.02, (M, T, R, S))
    mcc = np.clip(mcc, -1, 1)
    grid = {
        "model": np.repeat(models, T * R * S),
        "task": np.tile(np.repeat([t for t, _ in tasks], R * S), M),
        "category": np.tile(np.repeat([c for _, c in tasks], R * S), M),
        "regime": np.tile(np.repeat(list(regimes), S), M * T),
        "seed": np.tile(np.array(seeds, dtype=np.int64), M * T * R),
    }
    n = M * T * R * S
    m = mcc.ravel()
    df = pl.DataFrame(
        {
            **grid,
            "protocol": [protocol] * n, "backend": ["sklearn"] * n,
            "mcc": m, "acc": np.clip(0.5 + m / 2, 0, 1), "f1": np.clip(0.45 + m / 2, 0, 1),
            "n_train": np.full(n, 1000, dtype=np.int64), "n_test": np.full(n, 200, dtype=np.int64),
            "n_classes": np.full(n, 2, dtype=np.int64), "converged": np.ones(n, dtype=bool),
            "fit_seconds": np.full(n, 0.1),
        }
    )
    keys = [hashlib.sha1(f"{a}/{b}".encode()).hexdigest()[:16] for a, b in zip(grid["model"], grid["task"], strict=True)]
    return df.with_columns(pl.Series("cache_key", keys)).select(
        [pl.col(c).cast(t) if c in df.columns or c == "cache_key" else pl.lit(None, dtype=t).alias(c) for c, t in RESULT_SCHEMA.items()]
    )


def results_frame(rows: list[dict], protocol: str = "geneb-v1") -> pl.DataFrame:
    """A contract-schema results table from a few hand-written rows (model, task, category,
    regime, mcc, optional seed/protocol/...); other columns get neutral defaults."""
    defaults = {
        "seed": 0, "protocol": protocol, "backend": "sklearn", "acc": None, "f1": None, "n_train": 10,
        "n_test": 10, "n_classes": 2, "converged": True, "fit_seconds": 0.0, "cache_key": "",
    }
    full = [{**defaults, **r} for r in rows]
    return pl.DataFrame(full, schema=RESULT_SCHEMA)
