"""High-variance tasks: tasks whose score spread across models exceeds a threshold (the
paper: std > 0.12), with a tally of a metadata column over each such task's top-k models."""

from __future__ import annotations

import polars as pl

from .load import model_table
from .scores import task_scores
from .selection import Selection, require_column, selection_of


def high_variance_tasks(
    results: pl.DataFrame,
    threshold: float = 0.12,
    regime: str = "full",
    top_k: int = 3,
    column: str = "pretraining_data",
    ddof: int = 1,
    *,
    select: Selection | None = None,
) -> pl.DataFrame:
    """Tasks with std across models > threshold, most variable first, with their top-k
    models (by score, ties by id) and those models' `column` values."""
    meta = model_table(results)
    require_column(meta, column, "high_variance_tasks")
    sel = selection_of(select)
    keep = sel.model_ids(meta)
    ts = task_scores(results, sel.metric, sel.protocol).filter(
        (pl.col("regime") == regime) & pl.col("model").is_in(keep.implode())
    ).join(meta.select("model", pl.col(column).cast(pl.String).alias("_group")), on="model", how="left")
    return (
        ts.sort("score", "model", descending=[True, False])
        .group_by("task", "category", maintain_order=True)
        .agg(
            pl.col("score").std(ddof=ddof).alias("std"),
            pl.col("score").mean().alias("mean"),
            pl.len().alias("n_models"),
            pl.col("model").head(top_k).alias("top_models"),
            pl.col("_group").head(top_k).fill_null("(unknown)").alias("top_groups"),
        )
        .filter(pl.col("std") > threshold)
        .sort("std", "task", descending=[True, False])
        .with_columns(pl.lit(regime).alias("regime"), pl.lit(column).alias("column"))
    )


def top_k_tally(high_variance: pl.DataFrame) -> pl.DataFrame:
    """Count of each metadata value among the top-k models of the high-variance tasks."""
    if high_variance.is_empty():
        return pl.DataFrame(schema={"value": pl.String, "count": pl.Int64, "share": pl.Float64})
    t = high_variance.select(pl.col("top_groups").explode().alias("value")).group_by("value").agg(
        pl.len().cast(pl.Int64).alias("count")
    )
    return t.with_columns((pl.col("count") / pl.col("count").sum()).alias("share")).sort("count", "value", descending=[True, False])
