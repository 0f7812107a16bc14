"""Per-category recommendations: the best model for each category in a regime, optionally
under a parameter budget, with the runner-up and the margin (how decisive the pick is)."""

from __future__ import annotations

import polars as pl

from .load import model_table
from .scores import category_order_for, category_scores
from .selection import Selection, require_column, selection_of


def recommendations(
    results: pl.DataFrame,
    regime: str = "full",
    max_params: float | None = None,
    param: str = "params",
    include_untrained: bool = False,
    *,
    select: Selection | None = None,
) -> pl.DataFrame:
    """One row per category: recommended model, its score and params, runner-up and margin.

    Untrained baselines are not recommended unless `include_untrained`; with `max_params`
    only models with `param` <= budget count (models without a count are then left out)."""
    meta = model_table(results)
    require_column(meta, param, "recommendations")
    choice = selection_of(select)
    sel = choice.rows(meta)
    if not include_untrained and "untrained" in sel.columns:
        sel = sel.filter(~pl.col("untrained").fill_null(False))
    if max_params is not None:
        sel = sel.filter(pl.col(param).is_not_null() & (pl.col(param) <= max_params))
    cs = (
        category_scores(results, choice.metric, choice.protocol)
        .filter((pl.col("regime") == regime) & pl.col("score").is_not_null() & pl.col("model").is_in(sel["model"].implode()))
        .join(sel.select("model", pl.col(param).alias("_params")), on="model")
    )
    out = (
        cs.sort("score", "_params", "model", descending=[True, False, False], nulls_last=True)
        .group_by("category", maintain_order=True)
        .agg(
            pl.col("model").first().alias("model"), pl.col("score").first().alias("score"),
            pl.col("_params").first().alias("params"),
            pl.col("model").get(1, null_on_oob=True).alias("runner_up"),
            pl.col("score").get(1, null_on_oob=True).alias("runner_up_score"),
            pl.len().alias("n_candidates"),
        )
        .with_columns((pl.col("score") - pl.col("runner_up_score")).alias("margin"))
    )
    order = {c: i for i, c in enumerate(category_order_for(out["category"].to_list()))}
    return out.sort(pl.col("category").replace_strict(order, return_dtype=pl.Int64)).with_columns(
        pl.lit(regime).alias("regime"), pl.lit(max_params, dtype=pl.Float64).alias("max_params")
    )
