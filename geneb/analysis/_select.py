"""Shared step of the model-level analyses: one regime's macro scores for a model subset."""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from .errors import AnalysisError
from .metadata import Where, select_models
from .scores import model_scores


def regime_models(
    results: pl.DataFrame,
    regime: str = "full",
    metric: str = "mcc",
    protocol: str | None = None,
    where: Where = None,
    exclude: Iterable[str] = (),
    exclude_where: Where = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """model_scores rows of `regime` with a macro, restricted to the selected models."""
    ms = scores if scores is not None else model_scores(results, metric, protocol)
    ms = ms.filter(pl.col("regime") == regime)
    if ms.is_empty():
        raise AnalysisError(f"no scores for regime {regime!r}")
    keep = select_models(ms, where, exclude, exclude_where)["model"]
    return ms.filter(pl.col("model").is_in(keep.implode()) & pl.col("macro").is_not_null())


def require_column(df: pl.DataFrame, column: str, what: str) -> None:
    if column not in df.columns:
        raise AnalysisError(f"{what}: no metadata column {column!r}; available: {sorted(df.columns)}")
