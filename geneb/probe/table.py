"""The results table (parquet; schema agreed in docs/contracts.md) and its predictions
side file ``<stem>.preds.parquet``. Both are written atomically (temp file + rename),
so a reader never sees a half-written table and a failed run leaves the old one."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from ..errors import InvalidArgument
from ..results.schema import (  # the shared contract
    OPTIONAL_COLUMNS,
    PRED_SCHEMA,
    RESULT_SCHEMA,
    ROW_KEY,
)


def preds_path(out: str | Path) -> Path:
    """``results.parquet`` -> ``results.preds.parquet`` (same folder)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.preds.parquet")


def empty_results() -> pl.DataFrame:
    return pl.DataFrame(schema=RESULT_SCHEMA)


def empty_preds() -> pl.DataFrame:
    return pl.DataFrame(schema=PRED_SCHEMA)


def _check_schema(df: pl.DataFrame, schema: dict[str, Any], path: Path) -> pl.DataFrame:
    missing = [c for c in schema if c not in df.columns and c not in OPTIONAL_COLUMNS]
    if missing:
        raise InvalidArgument(f"{path}: not a geneb results file: missing columns {missing}")
    try:
        return df.select([pl.col(c).cast(t) if c in df.columns else pl.lit(None, dtype=t).alias(c)
                          for c, t in schema.items()])
    except pl.exceptions.PolarsError as exc:
        raise InvalidArgument(f"{path}: column types do not match the results schema: {exc}") from None


def read_results(out: str | Path) -> pl.DataFrame:
    """The results table at ``out`` (an empty one with the schema if it does not exist)."""
    path = Path(out)
    if not path.exists():
        return empty_results()
    return _check_schema(pl.read_parquet(path), RESULT_SCHEMA, path)


def read_preds(out: str | Path) -> pl.DataFrame:
    """The predictions side file of the results table ``out`` (empty if absent)."""
    path = preds_path(out)
    if not path.exists():
        return empty_preds()
    return _check_schema(pl.read_parquet(path), PRED_SCHEMA, path)


def rows_to_frames(rows: Iterable[dict[str, Any]]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split unit rows (results fields + y_true/y_pred arrays) into the two tables."""
    rows = list(rows)
    if not rows:
        return empty_results(), empty_preds()
    res = pl.DataFrame([{c: r[c] if c not in OPTIONAL_COLUMNS else r.get(c) for c in RESULT_SCHEMA} for r in rows],
                       schema=RESULT_SCHEMA)
    preds = pl.DataFrame(
        {
            **{c: [r[c] for r in rows] for c in ("model", "task", "regime", "seed", "protocol")},
            "y_true": [np.asarray(r["y_true"], dtype=np.int32) for r in rows],
            "y_pred": [np.asarray(r["y_pred"], dtype=np.int32) for r in rows],
        },
        schema=PRED_SCHEMA,
    )
    return res, preds


def merge(old: pl.DataFrame, new: pl.DataFrame) -> pl.DataFrame:
    """``old`` with every row keyed like a row of ``new`` replaced by the new one."""
    if new.height == 0:
        return old
    kept = old.join(new.select(ROW_KEY), on=list(ROW_KEY), how="anti")
    return pl.concat([kept, new], how="vertical")


def _atomic_parquet(df: pl.DataFrame, path: Path, compression: str = "zstd") -> None:
    from .._atomic import atomic_write

    atomic_write(path, lambda tmp: df.write_parquet(tmp, compression=compression, statistics=True))


def write_results(out: str | Path, results: pl.DataFrame, preds: pl.DataFrame) -> None:
    """Atomically replace the results table and its predictions side file."""
    out = Path(out)
    order = list(ROW_KEY)
    _atomic_parquet(preds.sort(order), preds_path(out))
    _atomic_parquet(results.sort(order), out)


# --- the journal: every finished unit on disk at once -------------------------------------

def journal_dir(out: str | Path) -> Path:
    """``<results>.journal/``: one pair of small parquet files per finished unit, written
    the moment the unit finishes and folded into the table at the next checkpoint, so a
    killed ``geneb probe`` loses only the units in flight."""
    out = Path(out)
    return out.with_name(out.name + ".journal")


def journal_unit(out: str | Path, results: pl.DataFrame, preds: pl.DataFrame, name: str) -> list[Path]:
    """Write one unit's rows: predictions first, then the rows file, which commits it."""
    d = journal_dir(out)
    d.mkdir(parents=True, exist_ok=True)
    p_path, r_path = d / f"{name}.preds.parquet", d / f"{name}.rows.parquet"
    # uncompressed: these files live until the next checkpoint, and zstd would double their cost
    _atomic_parquet(preds, p_path, compression="uncompressed")
    _atomic_parquet(results, r_path, compression="uncompressed")
    return [r_path, p_path]


def read_journal(out: str | Path) -> tuple[pl.DataFrame, pl.DataFrame, list[Path]]:
    """Committed units of an interrupted run (rows files; a predictions file without its
    rows file is an uncommitted unit and is dropped): results, predictions, files."""
    d = journal_dir(out)
    if not d.is_dir():
        return empty_results(), empty_preds(), []
    res, prd, files = [], [], []
    for r_path in sorted(d.glob("*.rows.parquet")):
        p_path = r_path.with_name(r_path.name.replace(".rows.parquet", ".preds.parquet"))
        res.append(_check_schema(pl.read_parquet(r_path), RESULT_SCHEMA, r_path))
        if p_path.is_file():
            prd.append(_check_schema(pl.read_parquet(p_path), PRED_SCHEMA, p_path))
        files += [r_path, p_path]
    files += [p for p in d.glob("*.preds.parquet") if p not in files]  # uncommitted leftovers
    results = pl.concat(res, how="vertical") if res else empty_results()
    predictions = pl.concat(prd, how="vertical") if prd else empty_preds()
    return results, predictions, files
