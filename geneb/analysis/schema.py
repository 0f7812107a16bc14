"""The results-table schema (docs/contracts.md) and the names analyses share."""

from __future__ import annotations

import polars as pl

#: Columns of a `geneb probe` results table, with their types.
RESULT_SCHEMA: dict[str, pl.DataType] = {
    "model": pl.String(),
    "task": pl.String(),
    "category": pl.String(),
    "regime": pl.String(),
    "seed": pl.Int64(),
    "protocol": pl.String(),
    "backend": pl.String(),
    "mcc": pl.Float64(),
    "acc": pl.Float64(),
    "f1": pl.Float64(),
    "n_train": pl.Int64(),
    "n_test": pl.Int64(),
    "n_classes": pl.Int64(),
    "converged": pl.Boolean(),
    "fit_seconds": pl.Float64(),
    "cache_key": pl.String(),
    "storage_dtype": pl.String(),  # float32 / float16: how the store held the vectors (null: not recorded)
    "task_hash": pl.String(),  # content hash of the task data the vectors came from (null: not recorded)
    "blas_threads": pl.Int64(),  # BLAS threads the fits ran on (geneb-v1 default 1; null: not recorded)
}
#: Columns a results table must have; the rest are filled with nulls when absent.
REQUIRED = ("model", "task", "category", "regime", "protocol", "mcc")
#: Rows are unique on these.
KEY = ("model", "task", "regime", "seed", "protocol")
#: Regimes in display order; others sort after these.
REGIME_ORDER = ("full", "10shot", "1shot")
METRICS = ("mcc", "acc", "f1")
#: Model metadata columns every loaded table carries (from the catalog, submissions, CSV).
META_COLUMNS: dict[str, pl.DataType] = {
    "display": pl.String(),
    "params": pl.Int64(),
    "params_v1": pl.Int64(),
    "architecture": pl.String(),
    "tokenization": pl.String(),
    "pretraining_data": pl.String(),
    "family": pl.String(),
    "untrained": pl.Boolean(),
    "source": pl.String(),
}


def regime_sort_key(regime: str) -> tuple[int, str]:
    """Sort regimes as full, 10shot, 1shot, then any others alphabetically."""
    return (REGIME_ORDER.index(regime), "") if regime in REGIME_ORDER else (len(REGIME_ORDER), regime)


def ordered_regimes(regimes) -> list[str]:
    return sorted(set(regimes), key=regime_sort_key)
