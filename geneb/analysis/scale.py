"""Scale vs quality: Spearman rho between a parameter column and macro (the paper: 0.565
with `params_v1`; 0.685 excluding the prokaryotic outlier via `exclude_where`)."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from .selection import (
    MIN_MODELS,
    TOO_FEW,
    Selection,
    regime_models,
    require_column,
    selection_of,
    with_param_counts,
)


def spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Spearman rho as the Pearson correlation of average ranks (ties averaged, like scipy)."""
    rx = stats.rankdata(x, axis=-1)
    ry = stats.rankdata(y, axis=-1)
    rx = rx - rx.mean(axis=-1, keepdims=True)
    ry = ry - ry.mean(axis=-1, keepdims=True)
    den = np.sqrt((rx * rx).sum(axis=-1) * (ry * ry).sum(axis=-1))
    with np.errstate(invalid="ignore", divide="ignore"):
        return (rx * ry).sum(axis=-1) / den


def scale_correlation(
    results: pl.DataFrame,
    param: str = "params",
    regime: str = "full",
    *,
    select: Selection | None = None,
    scores: pl.DataFrame | None = None,
    min_models: int = MIN_MODELS,
) -> pl.DataFrame:
    """One row: rho, p (two-sided, scipy), n, the parameter column and the excluded models.

    `excluded` lists every model left out: by id, by filter, or for lacking a meaningful
    parameter count (none, 0 or untrained: `left_out` says which); with fewer than
    `min_models` models rho and p are NaN and `status` says "too few models"."""
    sel = selection_of(select)
    if scores is None:
        scores = sel.model_scores(results)
    ms = regime_models(results, regime, sel, scores)
    everyone = regime_models(results, regime, sel.scores_only(), scores)
    left_out = set(everyone["model"].to_list()) - set(ms["model"].to_list())
    require_column(ms, param, "scale_correlation")
    ms, left = with_param_counts(ms, param)
    no_param = [m for v in left.values() for m in v]
    n = ms.height
    status = "ok" if n >= max(min_models, 3) else TOO_FEW
    if status == "ok":
        res = stats.spearmanr(ms[param].to_numpy().astype(float), ms["macro"].to_numpy())
        rho, p = float(res.statistic), float(res.pvalue)
    else:
        rho, p = float("nan"), float("nan")
    return pl.DataFrame(
        {
            "regime": [regime], "param": [param], "rho": [rho], "p": [p], "n": [n],
            "excluded": [sorted(left_out | set(no_param))], "status": [status],
            "no_params": [left.get("no parameter count", [])], "untrained": [left.get("untrained baseline", [])],
        }
    )
