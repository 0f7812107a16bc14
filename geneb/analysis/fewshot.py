"""Few-shot drops: drop = macro_full - macro_k per model, and whether models with a
higher full-data ceiling lose more (Spearman and Pearson of drop vs full macro)."""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

from .selection import TOO_FEW, Selection, selection_of


def few_shot_drops(
    results: pl.DataFrame,
    base: str = "full",
    *,
    select: Selection | None = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per (model, regime != base): base macro, regime macro, drop and relative drop."""
    sel = selection_of(select)
    ms = scores if scores is not None else sel.model_scores(results)
    ms = sel.keep(ms.filter(pl.col("macro").is_not_null()))
    b = ms.filter(pl.col("regime") == base).select("model", pl.col("macro").alias("macro_base"))
    k = ms.filter(pl.col("regime") != base).select("model", "regime", "macro")
    return (
        k.join(b, on="model", how="inner")
        .with_columns(
            (pl.col("macro_base") - pl.col("macro")).alias("drop"),
            ((pl.col("macro_base") - pl.col("macro")) / pl.col("macro_base")).alias("relative_drop"),
        )
        .select("model", "regime", "macro_base", "macro", "drop", "relative_drop")
        .sort("regime", "drop", descending=[False, True])
    )


def drop_vs_ceiling(drops: pl.DataFrame, min_models: int = 5) -> pl.DataFrame:
    """Per regime: correlation of the drop with the full-data macro (takes `few_shot_drops`);
    with fewer than `min_models` models the correlations are NaN and `status` says so."""
    rows = []
    for regime in drops["regime"].unique(maintain_order=True).to_list():
        d = drops.filter(pl.col("regime") == regime)
        x, y = d["macro_base"].to_numpy(), d["drop"].to_numpy()
        n = len(x)
        ok = n >= max(3, min_models) and np.ptp(x) > 0 and np.ptp(y) > 0
        sp = stats.spearmanr(x, y) if ok else None
        pe = stats.pearsonr(x, y) if ok else None
        rows.append(
            {
                "regime": regime, "n": n, "mean_drop": float(np.mean(y)) if n else float("nan"),
                "spearman": float(sp.statistic) if sp else float("nan"), "spearman_p": float(sp.pvalue) if sp else float("nan"),
                "pearson": float(pe.statistic) if pe else float("nan"), "pearson_p": float(pe.pvalue) if pe else float("nan"),
                "status": "ok" if n >= max(3, min_models) else TOO_FEW,
            }
        )
    return pl.DataFrame(rows, schema={"regime": pl.String, "n": pl.Int64, "mean_drop": pl.Float64, "spearman": pl.Float64,
                                      "spearman_p": pl.Float64, "pearson": pl.Float64, "pearson_p": pl.Float64,
                                      "status": pl.String})
