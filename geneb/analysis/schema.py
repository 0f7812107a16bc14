"""The results-table schema (docs/contracts.md) and the names analyses share."""

from __future__ import annotations

import polars as pl

from ..results import schema as _results

#: The results contract (columns and types, required columns, row key) is geneb.results';
#: these names are the analysis layer's view of it.
RESULT_SCHEMA = _results.RESULT_SCHEMA
REQUIRED = _results.REQUIRED_COLUMNS
KEY = _results.ROW_KEY
#: Regimes in display order; others sort after these.
REGIME_ORDER = ("full", "10shot", "1shot")
METRICS = ("mcc", "acc", "f1")
#: Model metadata columns every loaded table carries (from the catalog, submissions, CSV).
META_COLUMNS: dict[str, pl.DataType] = {
    "display": pl.String(),
    "params": pl.Int64(),
    "params_v1": pl.Int64(),
    "architecture": pl.String(),
    "tokenization": pl.String(),
    "pretraining_data": pl.String(),
    "family": pl.String(),
    "untrained": pl.Boolean(),
    "source": pl.String(),
}


def regime_sort_key(regime: str) -> tuple[int, str]:
    """Sort regimes as full, 10shot, 1shot, then any others alphabetically."""
    return (REGIME_ORDER.index(regime), "") if regime in REGIME_ORDER else (len(REGIME_ORDER), regime)


def ordered_regimes(regimes) -> list[str]:
    return sorted(set(regimes), key=regime_sort_key)
