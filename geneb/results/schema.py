"""The results table: one parquet row per model x task x regime x seed x protocol, and
the predictions side file ``<stem>.preds.parquet`` with the same key."""

from __future__ import annotations

from typing import Any

import polars as pl

#: Bumped when a column changes meaning or type; adding an optional column is not a change
#: (older files load with nulls there).
RESULTS_FORMAT_VERSION = "1"

RESULT_SCHEMA: dict[str, Any] = {
    "model": pl.String(),
    "task": pl.String(),
    "category": pl.String(),
    "regime": pl.String(),
    "seed": pl.Int64(),
    "protocol": pl.String(),
    "backend": pl.String(),
    "mcc": pl.Float64(),
    "acc": pl.Float64(),
    "f1": pl.Float64(),  # macro-F1
    "n_train": pl.Int64(),
    "n_test": pl.Int64(),
    "n_classes": pl.Int64(),
    "converged": pl.Boolean(),
    "fit_seconds": pl.Float64(),
    "cache_key": pl.String(),  # hash of the store cache key of the (model, task) pair
    "storage_dtype": pl.String(),  # float32 / float16: how the store held the vectors (null: not recorded)
    "task_hash": pl.String(),  # content hash of the task data the vectors came from (null: not recorded)
    "blas_threads": pl.Int64(),  # BLAS threads the fits ran on (geneb-v1 default 1; null: not recorded)
}
#: Columns added after the first release: a file written before them still loads, with
#: nulls there ("not recorded").
OPTIONAL_COLUMNS = ("storage_dtype", "task_hash", "blas_threads")
#: Columns a table must have (and not null) to be analysed at all; the analysis fills the
#: others with nulls when absent (e.g. submissions have no seeds).
REQUIRED_COLUMNS = ("model", "task", "category", "regime", "protocol", "mcc")
#: One results row (and one predictions row) per key.
ROW_KEY = ("model", "task", "regime", "seed", "protocol")

PRED_SCHEMA: dict[str, Any] = {
    "model": pl.String(),
    "task": pl.String(),
    "regime": pl.String(),
    "seed": pl.Int64(),
    "protocol": pl.String(),
    "y_true": pl.List(pl.Int32()),
    "y_pred": pl.List(pl.Int32()),
}
