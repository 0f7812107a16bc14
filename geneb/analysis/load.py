"""Load results tables and submissions into one long, validated frame with model metadata.

Every row is one (model, task, regime, seed, protocol) score; metadata columns
(params, architecture, ...) are joined on so a notebook needs only this frame.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from geneb.catalog.protocols import row_protocol_expr

from ._paths import PathLike, as_paths, expand_files
from .errors import AnalysisError
from .metadata import build_metadata
from .schema import KEY, META_COLUMNS, REQUIRED, RESULT_SCHEMA
from .submissions import SUBMISSION_PROTOCOL, read_submissions

log = logging.getLogger(__name__)

PREDS_SUFFIX = ".preds.parquet"
#: Files `geneb analyze` writes beside its outputs; never read back as results tables.
_OUTPUTS = frozenset({"analysed_rows.parquet", "predictions.parquet"})


def results_files(paths_or_dirs: PathLike | Iterable[PathLike]) -> list[Path]:
    """Expand directories to their `*.parquet` results tables (prediction side files and
    `geneb analyze` outputs excluded)."""
    return expand_files(paths_or_dirs, "*.parquet", "results",
                        keep=lambda f: not f.name.endswith(PREDS_SUFFIX) and f.name not in _OUTPUTS)


def _task_categories() -> dict[str, str]:
    from geneb.catalog import all_tasks

    return {tid: t.category for tid, t in all_tasks().items()}


def read_results_table(path: PathLike, protocol: str | None = None) -> pl.DataFrame:
    """Read one parquet results table, check its columns and cast to the contract schema.

    The read is lazy: with `protocol`, only that protocol's rows are materialised (the
    filter and the column projection are pushed into the parquet scan), so a file that
    also holds other protocols' sweeps costs memory only for the rows analysed."""
    path = Path(path)
    try:
        lf = pl.scan_parquet(path)
        columns = lf.collect_schema().names()
    except Exception as exc:  # pyarrow/polars raise many types for a bad file
        raise AnalysisError(f"{path}: cannot read as parquet: {exc}") from exc
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise AnalysisError(f"{path}: missing required column(s) {missing}; see docs/contracts.md")
    casts = []
    for col, dtype in RESULT_SCHEMA.items():
        if col in columns:
            casts.append(pl.col(col).cast(dtype, strict=True))
        else:
            casts.append(pl.lit(None, dtype=dtype).alias(col))
    # rows of geneb-v1 written by the torch/cuML backend before variants existed are
    # geneb-v1+torch / +cuml: they never rank with the reference solver's rows
    if protocol is not None:  # on the stored column first, so the filter reaches the scan
        lf = lf.filter(pl.col("protocol").is_in([protocol, protocol.split("+", 1)[0]]))
    lf = lf.select(casts).with_columns(row_protocol_expr())
    if protocol is not None:
        lf = lf.filter(pl.col("protocol") == protocol)
    try:
        df = lf.collect()
    except pl.exceptions.PolarsError as exc:
        raise AnalysisError(f"{path}: a column has the wrong type: {exc}") from None
    except Exception as exc:
        raise AnalysisError(f"{path}: cannot read as parquet: {exc}") from exc
    nulls = [c for c in REQUIRED if df[c].null_count()]
    if nulls:
        raise AnalysisError(f"{path}: null values in required column(s) {nulls}")
    return df.with_columns(pl.lit(str(path)).alias("input"))


def _protocols_in(path: Path) -> set[str]:
    return set(pl.scan_parquet(path).select(pl.col("protocol").unique()).collect()["protocol"].to_list())


def _check_categories(df: pl.DataFrame) -> None:
    from geneb.catalog import category_order

    known = set(category_order())
    bad = df.filter(~pl.col("category").is_in(list(known))).select("input", "task", "category").unique()
    if bad.height:
        r = bad.row(0, named=True)
        raise AnalysisError(
            f"{r['input']}: task {r['task']!r} has unknown category {r['category']!r} "
            f"({bad.height} such task(s)); known: {', '.join(category_order())}"
        )
    cats = _task_categories()
    wrong = (
        df.select("input", "task", "category").unique()
        .filter(pl.col("task").is_in(list(cats)))
        .with_columns(pl.col("task").replace_strict(cats, default=None).alias("expected"))
        .filter(pl.col("expected") != pl.col("category"))
    )
    if wrong.height:
        r = wrong.row(0, named=True)
        raise AnalysisError(
            f"{r['input']}: task {r['task']!r} is in category {r['category']!r} but the catalog says {r['expected']!r}"
        )


def _check_duplicates(df: pl.DataFrame) -> None:
    # A seed-averaged row (seed null: a submission) beside per-seed rows of the same
    # (model, task, regime, protocol) would be averaged together: the same model twice.
    mixed = (
        df.group_by("model", "task", "regime", "protocol")
        .agg(pl.col("seed").null_count().alias("n_null"), pl.len().alias("n"), pl.col("input").unique().sort().alias("inputs"))
        .filter((pl.col("n_null") > 0) & (pl.col("n") > 1))
    )
    if mixed.height:
        r = mixed.sort("model", "task").row(0, named=True)
        raise AnalysisError(
            f"duplicate model {r['model']!r}: seed-averaged scores (a submission) and other rows for the same "
            f"task {r['task']!r} regime {r['regime']!r} protocol {r['protocol']!r} in {', '.join(r['inputs'])}; "
            "give each model once"
        )
    dup = df.filter(pl.struct(list(KEY)).is_duplicated())
    if dup.height == 0:
        return
    first = dup.row(0, named=True)
    same = dup.filter(*(pl.col(k).eq_missing(first[k]) for k in KEY))
    files = sorted(set(same["input"].to_list()))
    models = sorted(set(dup["model"].to_list()))
    raise AnalysisError(
        f"duplicate results: {dup.height} rows repeat a (model, task, regime, seed, protocol); "
        f"e.g. model {first['model']!r} task {first['task']!r} regime {first['regime']!r} seed {first['seed']} "
        f"in {', '.join(files)}; duplicated models: {models[:10]}"
    )


def _submission_protocol(meta: dict) -> list[pl.Expr]:
    """A submission exported from torch/cuML rows (meta.backend) is geneb-v1+<backend>."""
    from geneb.catalog.protocols import VARIANT_BACKENDS, variant_name

    backend = meta.get("backend")
    if backend in VARIANT_BACKENDS:
        return [pl.lit(variant_name(SUBMISSION_PROTOCOL, backend)).alias("protocol")]
    return []


def load_results(
    paths_or_dirs: PathLike | Iterable[PathLike] | None,
    submissions: PathLike | Iterable[PathLike] | None = None,
    metadata_csv: PathLike | pl.DataFrame | None = None,
    protocol: str | None = None,
    published: bool = False,
) -> pl.DataFrame:
    """Load results tables and/or GENEB submissions into one long frame with metadata.

    `published=True` adds the 40 published GENEB results shipped with geneb; the column
    `published` marks their rows. A user model with a published model's id keeps its id
    and the published one becomes `<id>@published`, so a reproduction ranks beside the
    original. Only results on the GENEB tasks rank with the published ones: a user row on
    another task, or on task data whose hash is not the pinned one, is an error.

    Raises `AnalysisError` for unreadable files, unknown categories or task ids,
    duplicate (model, task, regime, seed, protocol) rows and a `protocol` that is absent.
    Mixed protocols are kept (analyses refuse to rank across them); pass `protocol=`
    to keep one. Softer problems (missing regimes or tasks) are listed by `check_results`.
    """
    files = results_files(paths_or_dirs) if paths_or_dirs else []
    frames = [read_results_table(p, protocol) for p in files]
    subs = read_submissions(as_paths(submissions), _task_categories()) if submissions is not None else []
    if not frames and not subs and not published:
        raise AnalysisError("no inputs: give at least one results table or submission")
    parts = []
    if frames or subs:
        user = _combine(frames, subs, metadata_csv, protocol, files)
        if published:
            _check_rankable_with_published(user)
        parts.append(user.with_columns(pl.lit(False).alias("published")))
    if published:
        from .published import published_submissions

        pub = _combine([], published_submissions(), metadata_csv, protocol, [])
        taken = set(parts[0]["model"].unique().to_list()) if parts else set()
        if taken:
            pub = pub.with_columns(pl.when(pl.col("model").is_in(list(taken))).then(pl.col("model") + "@published")
                                   .otherwise(pl.col("model")).alias("model"))
        parts.append(pub.with_columns(pl.lit(True).alias("published")))
    return parts[0] if len(parts) == 1 else pl.concat(parts, how="diagonal_relaxed")


def _combine(frames: list[pl.DataFrame], subs: list, metadata_csv, protocol: str | None, files: list[Path]) -> pl.DataFrame:
    """Rows of results tables and parsed submissions, checked, with their metadata joined."""
    frames = list(frames)
    sub_meta = {}
    for s in subs:
        frames.append(
            s.rows.select([pl.col(c) if c in s.rows.columns else pl.lit(None, dtype=t).alias(c) for c, t in RESULT_SCHEMA.items()])
            .with_columns(pl.lit(str(s.path)).alias("input"), *_submission_protocol(s.meta))
        )
        sub_meta[s.model_id] = s.meta
    df = pl.concat(frames, how="vertical")
    if df.is_empty() and protocol is None:
        raise AnalysisError("the inputs hold no result rows")
    _check_categories(df)
    _check_duplicates(df)
    if protocol is not None:
        df = df.filter(pl.col("protocol") == protocol)  # submissions are read whole
        if df.is_empty():
            present = sorted(set().union(*(_protocols_in(p) for p in files)) if files else set())
            raise AnalysisError(f"no rows with protocol {protocol!r}; the inputs have {present}")
    meta = build_metadata(df["model"].unique(maintain_order=True).to_list(), sub_meta, metadata_csv)
    return df.join(meta, on="model", how="left")


def _check_rankable_with_published(df: pl.DataFrame) -> None:
    """A user's rows rank among the published ones only on the GENEB tasks and data."""
    from geneb.catalog import all_tasks

    from .checks import FLAGGED, data_fingerprint

    geneb = {tid for tid, t in all_tasks().items() if t.suite == "geneb"}
    off = df.filter(~pl.col("task").is_in(list(geneb))).select("model", "task", "input").unique(maintain_order=True)
    if off.height:
        r = off.row(0, named=True)
        models = sorted(set(off["model"].to_list()))
        raise AnalysisError(
            f"{r['input']}: model {r['model']!r} has results on task {r['task']!r}, which is not one of the 100 GENEB "
            f"tasks ({off.height} such (model, task) pair(s), models {models}); only results on the GENEB tasks rank "
            "with the published models (results on the built-in mini suite measure another benchmark)")
    fp = data_fingerprint(df)
    bad = fp.filter(pl.col("flagged") & pl.col("status").is_in(list(FLAGGED)))
    if bad.height:
        r = bad.row(0, named=True)
        why = (f"is not the pinned GENEB one ({r['pinned_hash']})" if r["pinned_hash"]
               else "differs from the other models' hashes for this task")
        raise AnalysisError(
            f"model {r['model']!r}, task {r['task']!r}: its task data hash {r['task_hash']} {why} "
            f"({bad.height} such (model, task) cell(s)); scores on other data cannot rank with the published models")


def load_predictions(
    paths_or_dirs: PathLike | Iterable[PathLike],
    models: Iterable[str] | None = None,
    regimes: Iterable[str] | None = None,
) -> pl.DataFrame | None:
    """The `<stem>.preds.parquet` side files beside the given results tables (None if none).

    Prediction files are large (one list per row); `models` / `regimes` are pushed down into
    the parquet scan so only the needed rows are read."""
    need = ["model", "task", "regime", "seed", "protocol", "y_true", "y_pred"]
    frames = []
    for p in results_files(paths_or_dirs):
        side = p.with_name(p.stem + PREDS_SUFFIX)
        if not side.is_file():
            continue
        lf = pl.scan_parquet(side)
        missing = sorted(set(need) - set(lf.collect_schema().names()))
        if missing:
            raise AnalysisError(f"{side}: missing column(s) {missing}")
        if models is not None:
            lf = lf.filter(pl.col("model").is_in(list(models)))
        if regimes is not None:
            lf = lf.filter(pl.col("regime").is_in(list(regimes)))
        frames.append(lf.select(need).collect())
    if not frames:
        return None
    return pl.concat(frames, how="vertical_relaxed")


def model_table(results: pl.DataFrame) -> pl.DataFrame:
    """One metadata row per model, from a loaded results frame."""
    cols = ["model", *[c for c in results.columns if c in META_COLUMNS or c not in {*RESULT_SCHEMA, "input"}]]
    return results.select(list(dict.fromkeys(cols))).unique(subset="model", keep="first", maintain_order=True)
