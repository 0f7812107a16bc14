"""Two models side by side: paired differences per category and in macro, with intervals
from resampling the shared tasks (within each category, the same draw for both models, so
task difficulty cancels); and, for a user's models ranked among the published ones, the
comparison against the nearest published models above and below."""

from __future__ import annotations

import numpy as np
import polars as pl

from .bootstrap import _matrix
from .errors import AnalysisError
from .scores import model_scores, task_scores


def paired_difference(
    results: pl.DataFrame,
    a: str,
    b: str,
    regime: str = "full",
    metric: str = "mcc",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """Rows per scope (each category, then "macro"): score_a, score_b, diff = a - b, the
    paired bootstrap interval of diff over tasks (NaN for a one-task category), and the
    share of resamples where a > b."""
    ts = task_scores(results, metric).filter((pl.col("regime") == regime) & pl.col("model").is_in([a, b]))
    for m in (a, b):
        if ts.filter(pl.col("model") == m).is_empty():
            raise AnalysisError(f"paired difference: no {regime} scores for model {m!r}")
    shared = ts.group_by("task").agg(pl.len().alias("n")).filter(pl.col("n") == 2)["task"]
    ts = ts.filter(pl.col("task").is_in(shared.implode()))
    S, cats, groups = _matrix(ts, [a, b])
    D = S[0] - S[1]
    rng = np.random.default_rng(seed)
    q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
    boot = np.empty((len(groups), max(n_boot, 1)))
    for i, g in enumerate(groups):
        boot[i] = D[g][rng.integers(0, len(g), size=(boot.shape[1], len(g)))].mean(axis=1)
    point = np.array([D[g].mean() for g in groups])
    sa = np.array([S[0, g].mean() for g in groups])
    sb = np.array([S[1, g].mean() for g in groups])
    boot_m = boot.mean(axis=0)
    lo, hi = np.percentile(boot, q, axis=1)
    single = np.array([len(g) < 2 for g in groups])  # one task: resampling it is no interval
    lo, hi = np.where(single, np.nan, lo), np.where(single, np.nan, hi)
    lo_m, hi_m = np.percentile(boot_m, q)
    return pl.DataFrame({
        "a": a, "b": b, "regime": regime,
        "scope": [*cats, "macro"],
        "n_tasks": [len(g) for g in groups] + [int(sum(len(g) for g in groups))],
        "score_a": [*sa, sa.mean()], "score_b": [*sb, sb.mean()],
        "diff": [*point, point.mean()], "lo": [*lo, lo_m], "hi": [*hi, hi_m],
        "p_a_better": [*(boot > 0).mean(axis=1), (boot_m > 0).mean()],
    })


def nearest_published(
    results: pl.DataFrame,
    regime: str = "full",
    k: int = 2,
    metric: str = "mcc",
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """For every non-published model with a macro: the `k` published models ranked just
    above and just below it, each with the paired macro difference (model - published)."""
    if "published" not in results.columns:
        return pl.DataFrame()
    ms = model_scores(results, metric).filter((pl.col("regime") == regime) & pl.col("macro").is_not_null())
    pub = ms.filter(pl.col("published").fill_null(False)).sort("macro", descending=True)
    rows = []
    for m, macro, rank in ms.filter(~pl.col("published").fill_null(False)).select("model", "macro", "rank").iter_rows():
        above = pub.filter(pl.col("macro") >= macro).tail(k)
        below = pub.filter(pl.col("macro") < macro).head(k)
        for side, part in (("above", above), ("below", below)):
            for other, other_rank in part.select("model", "rank").iter_rows():
                d = paired_difference(results, m, other, regime, metric, n_boot, ci, seed).filter(pl.col("scope") == "macro").row(0, named=True)
                rows.append({"model": m, "rank": rank, "neighbour": other, "neighbour_rank": other_rank, "side": side,
                             "diff": d["diff"], "lo": d["lo"], "hi": d["hi"], "p_model_better": d["p_a_better"]})
    schema = {"model": pl.String, "rank": pl.Int64, "neighbour": pl.String, "neighbour_rank": pl.Int64, "side": pl.String,
              "diff": pl.Float64, "lo": pl.Float64, "hi": pl.Float64, "p_model_better": pl.Float64}
    return pl.DataFrame(rows, schema=schema, strict=False)
