"""Model metadata: the catalog, overridden by submissions' `meta`, overridden by a user CSV.

Analyses select models by metadata (`where=`) and exclude them by id; the filters here
turn a CLI string such as ``pretraining_data!=prokaryotic`` or ``params<=1e9`` into a
polars expression, so a notebook and the command line select the same models.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from .errors import AnalysisError
from .schema import META_COLUMNS, RESULT_SCHEMA

#: A metadata filter: a polars expression, a {column: value or list} mapping, a filter
#: string ("col=a,b", "col!=x", "col<=1e9"), or a list of these (all must hold).
Where = pl.Expr | Mapping[str, Any] | str | Sequence[Any] | None

_SUBMISSION_META = {"display": "display", "params": "params", "training_data": "pretraining_data"}
_FILTER_RE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*(==|!=|<=|>=|=|<|>)\s*(.*?)\s*$")


def catalog_metadata(models: Iterable[str]) -> pl.DataFrame:
    """Catalog metadata for the given model ids (unknown ids get null metadata)."""
    from geneb.catalog import all_models

    known = all_models()
    rows = []
    for mid in dict.fromkeys(models):
        spec = known.get(mid)
        row: dict[str, Any] = {"model": mid}
        if spec is None:
            row.update({k: None for k in META_COLUMNS})
            row["display"] = mid
            row["source"] = "unknown"
            row["untrained"] = False
        else:
            row.update({k: getattr(spec, k) for k in META_COLUMNS})
            # Zero params in the catalog means "none" only for feature baselines; keep it.
        rows.append(row)
    return pl.DataFrame(rows, schema={"model": pl.String(), **META_COLUMNS})


def _override(base: pl.DataFrame, extra: pl.DataFrame, where: str) -> pl.DataFrame:
    """Overwrite `base` values with non-null `extra` values per model; add new columns/models."""
    if extra.is_empty():
        return base
    new_cols = [c for c in extra.columns if c != "model" and c not in base.columns]
    for c in new_cols:
        base = base.with_columns(pl.lit(None, dtype=extra.schema[c]).alias(c))
    missing = extra.filter(~pl.col("model").is_in(base["model"].implode()))
    if missing.height:
        base = pl.concat([base, missing.select("model")], how="diagonal_relaxed")
    shared = [c for c in extra.columns if c != "model"]
    for c in shared:
        target = base.schema[c]
        try:
            extra = extra.with_columns(pl.col(c).cast(target, strict=True))
        except pl.exceptions.InvalidOperationError as exc:
            raise AnalysisError(f"{where}: column {c!r} cannot be read as {target}: {exc}") from None
    joined = base.join(extra.rename({c: f"{c}__new" for c in shared}), on="model", how="left")
    return joined.with_columns(
        [pl.coalesce(pl.col(f"{c}__new"), pl.col(c)).alias(c) for c in shared]
    ).drop([f"{c}__new" for c in shared])


def read_metadata_csv(path: str | Path) -> pl.DataFrame:
    """Read a user metadata CSV: a `model` (or `model_id`) column plus any others."""
    path = Path(path)
    if not path.is_file():
        raise AnalysisError(f"{path}: metadata CSV not found")
    try:
        df = pl.read_csv(path, infer_schema_length=None)
    except pl.exceptions.PolarsError as exc:
        raise AnalysisError(f"{path}: cannot read as CSV: {exc}") from exc
    if "model" not in df.columns and "model_id" in df.columns:
        df = df.rename({"model_id": "model"})
    if "model" not in df.columns:
        raise AnalysisError(f"{path}: needs a 'model' (or 'model_id') column; found {df.columns}")
    df = df.with_columns(pl.col("model").cast(pl.String))
    dup = df.filter(pl.col("model").is_duplicated())["model"].unique().to_list()
    if dup:
        raise AnalysisError(f"{path}: duplicate model rows: {sorted(dup)}")
    clash = [c for c in df.columns if c in RESULT_SCHEMA and c != "model"]
    if clash:
        raise AnalysisError(f"{path}: columns {clash} clash with results-table columns; rename them")
    for c in ("params", "params_v1"):
        if c in df.columns:
            try:
                df = df.with_columns(pl.col(c).cast(pl.Float64).round(0).cast(pl.Int64, strict=True))
            except pl.exceptions.PolarsError:
                raise AnalysisError(f"{path}: column {c!r} must hold integers (parameter counts)") from None
    if "untrained" in df.columns and df.schema["untrained"] != pl.Boolean:
        df = df.with_columns(pl.col("untrained").cast(pl.String).str.to_lowercase().is_in(["true", "1", "yes"]))
    return df


def build_metadata(
    models: Iterable[str],
    submission_meta: Mapping[str, Mapping[str, Any]] | None = None,
    metadata_csv: str | Path | pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per model: catalog values, then submission `meta`, then the user CSV win."""
    models = list(dict.fromkeys(models))
    meta = catalog_metadata(models)
    if submission_meta:
        rows = []
        for mid, m in submission_meta.items():
            row = {"model": mid}
            for key, col in _SUBMISSION_META.items():
                if m.get(key) is not None:
                    row[col] = m[key]
            rows.append(row)
        sub = pl.DataFrame(rows, schema={"model": pl.String(), **{c: META_COLUMNS[c] for c in _SUBMISSION_META.values()}})
        # The catalog's labels win over free-text training_data for known models, and its
        # parameter counts over a submission's (which, as geneb exports them, are the official
        # model_meta.json counts; analyses keep the catalog's params / params_v1).
        known = meta.filter(pl.col("source") != "unknown")["model"].implode()
        sub = sub.with_columns(
            pl.when(pl.col("model").is_in(known)).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("pretraining_data", "params")
        )
        meta = _override(meta, sub, "submission meta")
        meta = meta.with_columns(
            pl.when(pl.col("source") == "unknown").then(pl.lit("submission")).otherwise(pl.col("source")).alias("source")
        )
    if metadata_csv is not None:
        user = metadata_csv if isinstance(metadata_csv, pl.DataFrame) else read_metadata_csv(metadata_csv)
        meta = _override(meta, user, str(metadata_csv) if not isinstance(metadata_csv, pl.DataFrame) else "metadata")
    meta = meta.filter(pl.col("model").is_in(pl.Series(models).implode()))
    return meta.with_columns(
        pl.col("untrained").fill_null(False),
        pl.col("display").fill_null(pl.col("model")),
        pl.col("params_v1").fill_null(pl.col("params")),
    )


def parse_filter(text: str) -> pl.Expr:
    """Parse ``col=a,b`` / ``col!=x`` / ``col<=1e9`` (also <, >, >=) into an expression."""
    m = _FILTER_RE.match(text)
    if not m:
        raise AnalysisError(f"bad filter {text!r}: expected COLUMN OP VALUE with OP one of = != < <= > >=")
    col, op, raw = m.groups()
    if op in ("=", "==", "!="):
        values = [v.strip() for v in raw.split(",")]
        expr = _is_in(col, values)
        return ~expr if op == "!=" else expr
    try:
        num = float(raw)
    except ValueError:
        raise AnalysisError(f"bad filter {text!r}: {op} needs a number, got {raw!r}") from None
    c = pl.col(col)
    return {"<": c < num, "<=": c <= num, ">": c > num, ">=": c >= num}[op]


def _is_in(col: str, values: Sequence[Any]) -> pl.Expr:
    """Match by string form, so `untrained=true` and `params=0` work on any column type."""
    strs = [str(v).lower() for v in values]
    return pl.col(col).cast(pl.String).str.to_lowercase().is_in(strs).fill_null(False)


def where_expr(where: Where) -> pl.Expr | None:
    """Turn any accepted `where` form into one polars expression (None = all models)."""
    if where is None:
        return None
    if isinstance(where, pl.Expr):
        return where
    if isinstance(where, str):
        return parse_filter(where)
    if isinstance(where, Mapping):
        exprs = [_is_in(k, v if isinstance(v, list | tuple | set) else [v]) for k, v in where.items()]
    elif isinstance(where, Sequence):
        exprs = [e for e in (where_expr(w) for w in where) if e is not None]
    else:
        raise AnalysisError(f"unsupported model filter {where!r}")
    if not exprs:
        return None
    out = exprs[0]
    for e in exprs[1:]:
        out = out & e
    return out


def select_models(
    meta: pl.DataFrame, where: Where = None, exclude: Iterable[str] = (), exclude_where: Where = None
) -> pl.DataFrame:
    """The metadata rows that pass `where`, minus excluded ids and `exclude_where` matches."""
    out = meta
    for w, keep in ((where, True), (exclude_where, False)):
        expr = where_expr(w)
        if expr is None:
            continue
        try:
            mask = out.select(expr.fill_null(False).alias("m"))["m"]
        except pl.exceptions.ColumnNotFoundError as exc:
            raise AnalysisError(f"model filter names an unknown metadata column: {exc}; known: {meta.columns}") from None
        except pl.exceptions.PolarsError as exc:
            raise AnalysisError(f"model filter cannot be applied: {exc}") from None
        out = out.filter(mask if keep else ~mask)
    exclude = list(exclude)
    if exclude:
        unknown = sorted(set(exclude) - set(meta["model"].to_list()))
        if unknown:
            raise AnalysisError(f"excluded model id(s) not in the results: {unknown}")
        out = out.filter(~pl.col("model").is_in(pl.Series(exclude, dtype=pl.String).implode()))
    return out
