"""Pareto frontier over (params, macro): a model is on it when no other model has
<= params and >= macro with at least one strict (equal points are both kept)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from .schema import ordered_regimes
from .selection import Selection, require_column, selection_of, with_param_counts


def dominated(params: np.ndarray, macro: np.ndarray) -> np.ndarray:
    """Boolean mask: is point i dominated by some point j (fewer-or-equal params, better-or-equal macro, one strict)?"""
    le = params[None, :] <= params[:, None]
    ge = macro[None, :] >= macro[:, None]
    strict = (params[None, :] < params[:, None]) | (macro[None, :] > macro[:, None])
    return (le & ge & strict).any(axis=1)


def pareto_frontier(
    results: pl.DataFrame,
    param: str = "params",
    regimes: Sequence[str] | None = None,
    *,
    select: Selection | None = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every selected model per regime with `on_frontier`; frontier rows sorted by params.

    Models without a meaningful parameter count (none, 0, untrained) are left out."""
    sel = selection_of(select)
    ms = scores if scores is not None else sel.model_scores(results)
    require_column(ms, param, "pareto_frontier")
    ms, _ = with_param_counts(ms.filter(pl.col("macro").is_not_null()), param)
    ms = sel.keep(ms)
    parts = []
    for regime in ordered_regimes(regimes or ms["regime"].to_list()):
        r = ms.filter(pl.col("regime") == regime)
        mask = dominated(r[param].to_numpy().astype(float), r["macro"].to_numpy())
        parts.append(
            r.select("model", "regime", pl.col(param).alias("params"), "macro").with_columns(
                pl.Series("on_frontier", ~mask)
            )
        )
    if not parts:
        return pl.DataFrame(schema={"model": pl.String, "regime": pl.String, "params": pl.Int64, "macro": pl.Float64, "on_frontier": pl.Boolean})
    order = {r: i for i, r in enumerate(ordered_regimes(ms["regime"].to_list()))}
    return pl.concat(parts).sort(
        pl.col("regime").replace_strict(order, return_dtype=pl.Int64), pl.col("on_frontier").not_(), "params", "macro",
        descending=[False, False, False, True],
    )
