"""Ranking stability between two protocols or two regimes (e.g. linear vs non-linear
probe, full vs 10-shot): Spearman and Kendall between model rankings, overall (macro)
and per category, over the models present in both."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from .errors import AnalysisError
from .scores import category_order_for, category_scores, model_scores


def _side(results: pl.DataFrame, by: str, value: str, regime: str | None, protocol: str | None, metric: str):
    if by == "regime":
        df = results if protocol is None else results.filter(pl.col("protocol") == protocol)
        df = df.filter(pl.col("regime") == value)
    else:
        df = results.filter(pl.col("protocol") == value)
        if regime is not None:
            df = df.filter(pl.col("regime") == regime)
    if df.is_empty():
        raise AnalysisError(f"ranking_stability: no rows for {by}={value!r}")
    ms = model_scores(df, metric).filter(pl.col("macro").is_not_null()).select("model", "regime", pl.lit("overall").alias("scope"), pl.col("macro").alias("score"))
    cs = category_scores(df, metric).filter(pl.col("score").is_not_null()).select("model", "regime", pl.col("category").alias("scope"), "score")
    return pl.concat([ms, cs])


def ranking_stability(
    results: pl.DataFrame,
    by: str = "regime",
    a: str = "full",
    b: str = "10shot",
    regime: str | None = "full",
    protocol: str | None = None,
    metric: str = "mcc",
) -> pl.DataFrame:
    """Rows per scope ("overall", then each category): n models, Spearman and Kendall
    (tau-b) with p-values, and whether the top model is the same.

    `by="regime"` compares regimes `a` and `b` within `protocol`; `by="protocol"` compares
    protocols `a` and `b` within `regime`."""
    if by not in ("regime", "protocol"):
        raise AnalysisError(f"ranking_stability: by must be 'regime' or 'protocol', got {by!r}")
    if by == "regime" and protocol is None and results["protocol"].n_unique() > 1:
        raise AnalysisError("ranking_stability: the results mix protocols; choose one with protocol=")
    sa = _side(results, by, a, regime, protocol, metric).drop("regime")
    sb = _side(results, by, b, regime, protocol, metric).drop("regime")
    j = sa.join(sb, on=["model", "scope"], suffix="_b")
    rows = []
    scopes = ["overall", *category_order_for(j.filter(pl.col("scope") != "overall")["scope"].to_list())]
    for scope in scopes:
        d = j.filter(pl.col("scope") == scope).sort("model")
        x, y = d["score"].to_numpy(), d["score_b"].to_numpy()
        n = len(x)
        ok = n >= 3 and np.ptp(x) > 0 and np.ptp(y) > 0
        sp = stats.spearmanr(x, y) if ok else None
        kt = stats.kendalltau(x, y) if ok else None
        top_same = bool(n) and d["model"][int(np.argmax(x))] == d["model"][int(np.argmax(y))]
        rows.append(
            {
                "scope": scope, "n_models": n,
                "spearman": float(sp.statistic) if sp else float("nan"), "spearman_p": float(sp.pvalue) if sp else float("nan"),
                "kendall": float(kt.statistic) if kt else float("nan"), "kendall_p": float(kt.pvalue) if kt else float("nan"),
                "same_top": top_same,
            }
        )
    return pl.DataFrame(rows).with_columns(pl.lit(by).alias("by"), pl.lit(a).alias("a"), pl.lit(b).alias("b"))
