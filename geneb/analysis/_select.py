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


#: Below this many models a scale correlation, a pair count or a Pareto frontier is
#: reported as "too few models", not as a number.
MIN_MODELS = 5
TOO_FEW = "too few models"
NO_PARAMS, UNTRAINED = "no parameter count", "untrained baseline"


def with_param_counts(ms: pl.DataFrame, param: str) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """The rows whose model has a meaningful parameter count, and who was left out why.

    Scale statistics ask how pretrained capacity relates to quality: a model with no count
    or 0 parameters (a k-mer baseline) has no capacity to place, and an untrained network's
    count says nothing about pretraining; both are left out and named."""
    require_column(ms, param, "parameter-count analyses")
    no_count = pl.col(param).is_null() | (pl.col(param) <= 0)
    untrained = pl.col("untrained").fill_null(False) if "untrained" in ms.columns else pl.lit(False)
    models = ms.unique("model", maintain_order=True)
    left = {
        NO_PARAMS: sorted(models.filter(no_count)["model"].to_list()),
        UNTRAINED: sorted(models.filter(~no_count & untrained)["model"].to_list()),
    }
    return ms.filter(~no_count & ~untrained), {k: v for k, v in left.items() if v}
