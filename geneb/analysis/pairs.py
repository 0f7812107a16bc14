"""Smaller-beats-larger: ordered pairs (a, b) with params_b >= F * params_a and
macro_a > macro_b (the paper: F = 5 over 36 in-domain models gives 31 pairs)."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..errors import InvalidArgument
from .selection import Selection, regime_models, require_column, with_param_counts


def smaller_beats_larger(
    results: pl.DataFrame,
    factor: float = 5.0,
    param: str = "params",
    regime: str = "full",
    *,
    select: Selection | None = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every pair as a row (smaller, larger, their params and macros, ratio, margin).

    Ties in macro are not wins; models without a meaningful parameter count (none, 0 — a
    k-mer baseline — or untrained) are left out (`pair_models` says who is counted)."""
    if factor < 1:
        raise InvalidArgument(f"factor must be >= 1, got {factor}")
    ms = regime_models(results, regime, select, scores)
    require_column(ms, param, "smaller_beats_larger")
    ms, _ = with_param_counts(ms, param)
    ids = ms["model"].to_numpy()
    p = ms[param].to_numpy().astype(float)
    m = ms["macro"].to_numpy()
    a, b = np.nonzero((p[None, :] >= factor * p[:, None]) & (m[:, None] > m[None, :]))
    ratio = p[b] / p[a]
    out = pl.DataFrame(
        {
            "smaller": ids[a].astype(str), "larger": ids[b].astype(str),
            "params_smaller": p[a].astype(np.int64), "params_larger": p[b].astype(np.int64),
            "macro_smaller": m[a], "macro_larger": m[b], "ratio": ratio, "margin": m[a] - m[b],
        },
        schema={
            "smaller": pl.String(), "larger": pl.String(), "params_smaller": pl.Int64(), "params_larger": pl.Int64(),
            "macro_smaller": pl.Float64(), "macro_larger": pl.Float64(), "ratio": pl.Float64(), "margin": pl.Float64(),
        },
    )
    return out.with_columns(pl.lit(regime).alias("regime"), pl.lit(factor).alias("factor")).sort(
        "margin", "smaller", "larger", descending=[True, False, False]
    )


def pair_models(
    results: pl.DataFrame,
    param: str = "params",
    regime: str = "full",
    *,
    select: Selection | None = None,
    scores: pl.DataFrame | None = None,
) -> tuple[list[str], dict[str, list[str]]]:
    """The models the pair count is taken over (the `where` subset with parameter counts),
    and those left out for lacking a meaningful count."""
    ms = regime_models(results, regime, select, scores)
    kept, left = with_param_counts(ms, param)
    return sorted(kept["model"].to_list()), left
