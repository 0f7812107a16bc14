"""Aggregation (the paper's rule): task score = mean over seeds; category score = mean
of its tasks; macro = mean of the category scores; micro = mean over tasks.

A model's macro is only comparable to another's over the same tasks: with
`require_complete=True` (default) a model missing any task that other models have in a
regime gets a null macro and no rank, instead of a silently different average.
"""

from __future__ import annotations

import polars as pl

from .errors import AnalysisError
from .schema import METRICS, ordered_regimes


def single_protocol(results: pl.DataFrame, protocol: str | None = None) -> pl.DataFrame:
    """Rows of one protocol: the given one, or the only one present (else an error)."""
    present = sorted(results["protocol"].unique().to_list())
    if protocol is not None:
        out = results.filter(pl.col("protocol") == protocol)
        if out.is_empty():
            raise AnalysisError(f"no rows with protocol {protocol!r}; present: {present}")
        return out
    if len(present) > 1:
        raise AnalysisError(
            f"the results mix protocols {present}; rows of different protocols never share a ranking: "
            "choose one (protocol=... / --protocol)"
        )
    return results


def category_order_for(categories) -> list[str]:
    """Categories in official order, unknown ones after."""
    from geneb.catalog import category_order

    order = {c: i for i, c in enumerate(category_order())}
    return sorted(set(categories), key=lambda c: (order.get(c, len(order)), c))


def task_scores(results: pl.DataFrame, metric: str = "mcc", protocol: str | None = None) -> pl.DataFrame:
    """S[m, t] per regime: mean (and std) of `metric` over seeds."""
    if metric not in METRICS:
        raise AnalysisError(f"unknown metric {metric!r}; choose from {METRICS}")
    df = single_protocol(results, protocol)
    return (
        df.group_by("model", "regime", "task", "category")
        .agg(
            pl.col(metric).mean().alias("score"),
            pl.col(metric).std(ddof=1).alias("seed_std"),
            pl.len().alias("n_seeds"),
        )
        .sort("model", "regime", "task")
    )


def _expected_tasks(ts: pl.DataFrame) -> pl.DataFrame:
    return ts.select("regime", "category", "task").unique().group_by("regime", "category").agg(pl.len().alias("n_expected"))


def category_scores(
    results: pl.DataFrame, metric: str = "mcc", protocol: str | None = None, require_complete: bool = True
) -> pl.DataFrame:
    """Category score per (model, regime, category) = mean of its task scores.

    `complete` says whether the model has every task of that category seen in the regime;
    with `require_complete` an incomplete category's score is null."""
    ts = task_scores(results, metric, protocol)
    out = (
        ts.group_by("model", "regime", "category")
        .agg(pl.col("score").mean(), pl.len().alias("n_tasks"))
        .join(_expected_tasks(ts), on=["regime", "category"], how="left")
        .with_columns((pl.col("n_tasks") == pl.col("n_expected")).alias("complete"))
    )
    if require_complete:
        out = out.with_columns(pl.when(pl.col("complete")).then(pl.col("score")).alias("score"))
    return out.drop("n_expected").sort("model", "regime", "category")


def model_scores(
    results: pl.DataFrame, metric: str = "mcc", protocol: str | None = None, require_complete: bool = True
) -> pl.DataFrame:
    """macro, micro and rank per (model, regime), with the model's metadata joined.

    macro = mean over the categories present in the regime (all 13 for a full GENEB
    table); `n_categories` says how many. Rank 1 = best macro; ties share the lower rank."""
    ts = task_scores(results, metric, protocol)
    cs = category_scores(results, metric, protocol, require_complete)
    n_cat = ts.group_by("regime").agg(pl.col("category").n_unique().alias("n_categories_regime"))
    n_task = ts.group_by("regime").agg(pl.col("task").n_unique().alias("n_tasks_regime"))
    micro = ts.group_by("model", "regime").agg(pl.col("score").mean().alias("micro"), pl.len().alias("n_tasks"))
    macro = cs.group_by("model", "regime").agg(
        pl.col("score").mean().alias("macro"),
        pl.col("score").is_not_null().sum().alias("n_categories"),
        pl.col("complete").all().alias("cats_complete"),
    )
    out = (
        macro.join(micro, on=["model", "regime"])
        .join(n_cat, on="regime")
        .join(n_task, on="regime")
        .with_columns(
            (pl.col("cats_complete") & (pl.col("n_tasks") == pl.col("n_tasks_regime"))).alias("complete")
        )
    )
    if require_complete:
        out = out.with_columns(
            pl.when(pl.col("complete")).then(pl.col("macro")).alias("macro"),
            pl.when(pl.col("complete")).then(pl.col("micro")).alias("micro"),
        )
    out = out.with_columns(
        pl.col("macro").rank(method="min", descending=True).over("regime").cast(pl.Int64).alias("rank")
    ).drop("cats_complete", "n_tasks_regime", "n_categories_regime")
    from .load import model_table

    meta = model_table(results)
    out = out.join(meta, on="model", how="left")
    order = {r: i for i, r in enumerate(ordered_regimes(out["regime"].to_list()))}
    return out.sort(pl.col("regime").replace_strict(order, return_dtype=pl.Int64), "rank", "model", nulls_last=True)


def regime_summary(
    results: pl.DataFrame, metric: str = "mcc", protocol: str | None = None, base: str = "full",
    require_complete: bool = True,
) -> pl.DataFrame:
    """Mean macro over models per regime, and its drop from `base` (absolute and relative).

    Only models scored in every regime enter, so the means compare the same models."""
    ms = model_scores(results, metric, protocol, require_complete).filter(pl.col("macro").is_not_null())
    regimes = ordered_regimes(ms["regime"].to_list())
    every = ms.group_by("model").agg(pl.col("regime").n_unique().alias("k")).filter(pl.col("k") == len(regimes))["model"]
    ms = ms.filter(pl.col("model").is_in(every.implode()))
    out = ms.group_by("regime").agg(
        pl.len().alias("n_models"), pl.col("macro").mean().alias("mean_macro"), pl.col("micro").mean().alias("mean_micro")
    )
    base_val = out.filter(pl.col("regime") == base)["mean_macro"]
    b = base_val[0] if base_val.len() else None
    out = out.with_columns(
        (pl.lit(b) - pl.col("mean_macro")).alias("drop"),
        ((pl.lit(b) - pl.col("mean_macro")) / pl.lit(b)).alias("relative_drop"),
    )
    order = {r: i for i, r in enumerate(regimes)}
    return out.sort(pl.col("regime").replace_strict(order, return_dtype=pl.Int64))


def leaderboard(
    results: pl.DataFrame, regime: str = "full", metric: str = "mcc", protocol: str | None = None
) -> pl.DataFrame:
    """Wide table for one regime: rank, model, metadata, macro, micro and one column per category."""
    ms = model_scores(results, metric, protocol).filter(pl.col("regime") == regime)
    if ms.is_empty():
        raise AnalysisError(f"no scores for regime {regime!r}")
    cs = category_scores(results, metric, protocol).filter(pl.col("regime") == regime)
    cats = category_order_for(cs["category"].to_list())
    wide = cs.pivot(on="category", index="model", values="score").select("model", *cats)
    return ms.join(wide, on="model", how="left").sort("rank", "model", nulls_last=True)
