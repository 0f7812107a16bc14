"""Group means: average macro (and per category) by any metadata column, e.g.
architecture, tokenization or pretraining data."""

from __future__ import annotations

import polars as pl

from .selection import Selection, require_column, selection_of


def group_means(
    results: pl.DataFrame,
    by: str = "architecture",
    *,
    select: Selection | None = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per (regime, group): n models, mean/std/max macro and the best model.

    Untrained baselines are grouped apart (e.g. "T-enc (untrained)")."""
    sel = selection_of(select)
    ms = scores if scores is not None else sel.model_scores(results)
    require_column(ms, by, "group_means")
    ms = ms.filter(pl.col("macro").is_not_null())
    keep = sel.model_ids(ms)
    label = pl.col(by).cast(pl.String).fill_null("(unknown)")
    if "untrained" in ms.columns and by != "untrained":
        # untrained baselines form their own groups instead of diluting the pretrained ones
        label = pl.when(pl.col("untrained").fill_null(False)).then(label + " (untrained)").otherwise(label)
    ms = ms.filter(pl.col("model").is_in(keep.implode())).with_columns(label.alias("group"))
    return (
        ms.sort("macro", "model", descending=[True, False])
        .group_by("regime", "group", maintain_order=True)
        .agg(
            pl.len().alias("n_models"),
            pl.col("macro").mean().alias("mean_macro"),
            pl.col("macro").std(ddof=1).alias("std_macro"),
            pl.col("macro").max().alias("max_macro"),
            pl.col("model").first().alias("best_model"),
        )
        .with_columns(pl.lit(by).alias("by"))
        .sort("regime", "mean_macro", descending=[False, True])
    )
