"""Category winners per regime, and reranking: categories whose full-data winner is not
the k-shot winner (the paper: 8 of 13 categories at 10-shot)."""

from __future__ import annotations

import polars as pl

from .schema import ordered_regimes
from .scores import category_order_for, category_scores
from .selection import Selection, selection_of


def category_winners(
    results: pl.DataFrame,
    *,
    select: Selection | None = None,
) -> pl.DataFrame:
    """Per (regime, category): the best model (ties: every tied model, `winners`), its score,
    the runner-up and the margin to it."""
    from .load import model_table

    sel = selection_of(select)
    cs = category_scores(results, sel.metric, sel.protocol).filter(pl.col("score").is_not_null())
    cs = sel.keep(cs, model_table(results))
    out = (
        cs.sort("score", "model", descending=[True, False])
        .group_by("regime", "category", maintain_order=True)
        .agg(
            pl.col("model").filter(pl.col("score") == pl.col("score").max()).sort().alias("winners"),
            pl.col("score").max().alias("score"),
            pl.col("model").filter(pl.col("score") < pl.col("score").max()).first().alias("runner_up"),
            pl.col("score").filter(pl.col("score") < pl.col("score").max()).first().alias("runner_up_score"),
            pl.len().alias("n_models"),
        )
        .with_columns(
            pl.col("winners").list.first().alias("winner"),
            (pl.col("score") - pl.col("runner_up_score")).alias("margin"),
        )
    )
    rorder = {r: i for i, r in enumerate(ordered_regimes(out["regime"].to_list()))}
    corder = {c: i for i, c in enumerate(category_order_for(out["category"].to_list()))}
    return out.sort(
        pl.col("regime").replace_strict(rorder, return_dtype=pl.Int64),
        pl.col("category").replace_strict(corder, return_dtype=pl.Int64),
    ).select("regime", "category", "winner", "winners", "score", "runner_up", "runner_up_score", "margin", "n_models")


def reranking(winners: pl.DataFrame, base: str = "full") -> pl.DataFrame:
    """Per (regime != base, category): base winner(s), regime winner(s), and `reranked`
    (the winner sets differ). Takes the output of `category_winners`."""
    b = winners.filter(pl.col("regime") == base).select("category", pl.col("winners").alias("base_winners"))
    other = winners.filter(pl.col("regime") != base).select("regime", "category", "winners")
    out = other.join(b, on="category", how="inner").with_columns(
        (pl.col("winners").list.sort() != pl.col("base_winners").list.sort()).alias("reranked")
    )
    return out.select("regime", "category", "base_winners", "winners", "reranked")


def rerank_counts(winners: pl.DataFrame, base: str = "full") -> pl.DataFrame:
    """Per regime: how many categories rerank against `base`, out of how many."""
    rr = reranking(winners, base)
    out = rr.group_by("regime", maintain_order=True).agg(
        pl.col("reranked").sum().cast(pl.Int64).alias("n_reranked"), pl.len().alias("n_categories"),
        pl.col("category").filter(pl.col("reranked")).alias("categories"),
    )
    return out.with_columns(pl.lit(base).alias("base"))
