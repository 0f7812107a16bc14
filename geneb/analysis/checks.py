"""Soft problems in a loaded results frame, listed rather than raised: mixed protocols,
models missing a regime or some tasks, unknown task ids, models without a parameter
count, non-converged fits and uneven seed counts; and task data that is not the pinned
GENEB data (`data_fingerprint`): task hashes that differ from the catalog's pinned ones,
or from the other models' on the same task."""

from __future__ import annotations

import polars as pl

_SCHEMA = {"kind": pl.String, "model": pl.String, "regime": pl.String, "detail": pl.String}
#: Per-(model, task) status of the task data a score was computed on.
DATA_PINNED, DATA_UNPINNED, DATA_NOT_RECORDED = "pinned", "unpinned", "not-recorded"
DATA_DIFFERS_PINNED, DATA_DIFFERS_MODELS, DATA_MIXED = "differs-from-pinned", "differs-across-models", "mixed-hashes"
FLAGGED = (DATA_DIFFERS_PINNED, DATA_DIFFERS_MODELS, DATA_MIXED)
#: Per-model verdict (leaderboard column `task_data`).
NOT_GENEB_DATA, VERIFIED, UNVERIFIED = "not-geneb-data", "pinned", "unverified"
NOT_GENEB_DATA_TEXT = "not the GENEB data"
_FP_SCHEMA = {"model": pl.String, "task": pl.String, "task_hash": pl.String, "pinned_hash": pl.String,
              "status": pl.String, "flagged": pl.Boolean}


def data_fingerprint(results: pl.DataFrame, pins: dict[str, str] | None = None) -> pl.DataFrame:
    """One row per (model, task): the task hash its rows record, the catalog's pinned hash,
    a status and whether it is flagged as not the GENEB data.

    Statuses: ``pinned`` (equal to the pinned hash), ``differs-from-pinned``; on a task
    with no pin, ``unpinned`` (agrees with the other models) or ``differs-across-models``
    (differs from the hash most models have; when no hash has a majority, every model
    on that task is flagged); ``mixed-hashes`` (one model's rows on one task record
    different hashes); ``not-recorded`` (no hash: rows of an older geneb, submissions
    without ``meta.task_hashes``), which cannot be checked and is not flagged."""
    if pins is None:
        from geneb.data.fingerprint import pinned_hashes

        pins = pinned_hashes()
    if "task_hash" not in results.columns:
        results = results.with_columns(pl.lit(None, dtype=pl.String).alias("task_hash"))
    per = (results.group_by("model", "task")
           .agg(pl.col("task_hash").drop_nulls().unique().sort().alias("hashes"))
           .sort("task", "model"))
    rows = []
    for (task,), g in per.group_by("task", maintain_order=True):
        pinned = pins.get(task)
        single = [hs[0] for hs in g["hashes"].to_list() if len(hs) == 1]
        counts: dict[str, int] = {}
        for h in single:
            counts[h] = counts.get(h, 0) + 1
        top = sorted(counts.values(), reverse=True)
        modal = max(counts, key=lambda k: counts[k]) if counts and (len(top) == 1 or top[0] > top[1]) else None
        for model, hs in g.select("model", "hashes").iter_rows():
            if not hs:
                status, h = DATA_NOT_RECORDED, None
            elif len(hs) > 1:
                status, h = DATA_MIXED, ",".join(hs)
            else:
                h = hs[0]
                if pinned is not None:
                    status = DATA_PINNED if h == pinned else DATA_DIFFERS_PINNED
                elif len(counts) > 1 and h != modal:
                    status = DATA_DIFFERS_MODELS
                else:
                    status = DATA_UNPINNED
            rows.append({"model": model, "task": task, "task_hash": h, "pinned_hash": pinned,
                         "status": status, "flagged": status in FLAGGED})
    return pl.DataFrame(rows, schema=_FP_SCHEMA)


def model_data_status(fp: pl.DataFrame) -> pl.DataFrame:
    """Per model: ``task_data`` = ``not-geneb-data`` (any flagged task), ``pinned`` (every
    task equal to its pinned hash) or ``unverified``; and ``n_flagged``."""
    return (fp.group_by("model")
            .agg(pl.col("flagged").sum().cast(pl.Int64).alias("n_flagged"),
                 (pl.col("status") == DATA_PINNED).all().alias("all_pinned"))
            .with_columns(pl.when(pl.col("n_flagged") > 0).then(pl.lit(NOT_GENEB_DATA))
                          .when(pl.col("all_pinned")).then(pl.lit(VERIFIED))
                          .otherwise(pl.lit(UNVERIFIED)).alias("task_data"))
            .select("model", "task_data", "n_flagged").sort("model"))


def data_issues(fp: pl.DataFrame, where: str = "") -> list[dict]:
    """Issue rows for flagged task data, one per model and kind, plus one line saying how
    much could not be checked."""
    rows: list[dict] = []
    for (model, status), g in fp.filter(pl.col("flagged")).group_by("model", "status", maintain_order=True):
        eg = ", ".join(g["task"].head(3).to_list())
        why = {DATA_DIFFERS_PINNED: "task hash differs from the catalog's pinned hash",
               DATA_DIFFERS_MODELS: "task hash differs from the other models' on the same task",
               DATA_MIXED: "rows record more than one task hash"}[status]
        rows.append({"kind": "not-geneb-data", "model": model, "regime": None,
                     "detail": f"{where}{NOT_GENEB_DATA_TEXT}: {g.height} task(s): {why} (e.g. {eg})"})
    unpinned = fp.filter(pl.col("status") == DATA_UNPINNED)["task"].n_unique()
    missing = fp.filter(pl.col("status") == DATA_NOT_RECORDED)["model"].unique().sort().to_list()
    if unpinned or missing:
        parts = []
        if unpinned:
            parts.append(f"{unpinned} task(s) have no pinned hash in the catalog (checked across models only)")
        if missing:
            parts.append(f"{len(missing)} model(s) record no task hash for some tasks ({', '.join(missing[:5])}"
                         f"{' ...' if len(missing) > 5 else ''}: older results or submissions without meta.task_hashes)")
        rows.append({"kind": "task-data-unverified", "model": None, "regime": None, "detail": where + "; ".join(parts)})
    return rows


def check_results(results: pl.DataFrame) -> pl.DataFrame:
    """One row per problem: kind, model, regime, detail (empty frame = nothing to report)."""
    from geneb.catalog import all_tasks

    rows: list[dict] = []
    protocols = sorted(results["protocol"].unique().to_list())
    if len(protocols) > 1:
        rows.append({"kind": "mixed-protocols", "model": None, "regime": None,
                     "detail": f"protocols {protocols}: analyses need one (--protocol)"})
    for proto in protocols:
        df = results.filter(pl.col("protocol") == proto)
        regimes = sorted(df["regime"].unique().to_list())
        have = df.group_by("model").agg(pl.col("regime").unique().alias("r"))
        for model, r in have.sort("model").iter_rows():
            for miss in sorted(set(regimes) - set(r)):
                rows.append({"kind": "missing-regime", "model": model, "regime": miss,
                             "detail": f"protocol {proto}: no rows for regime {miss!r}"})
        cats = {r: sorted(g["category"].unique().to_list()) for (r,), g in df.group_by("regime")}
        if len({tuple(c) for c in cats.values()}) > 1:
            rows.append({"kind": "category-sets-differ", "model": None, "regime": None,
                         "detail": f"protocol {proto}: regimes cover different categories "
                                   f"({', '.join(f'{r}: {len(c)}' for r, c in sorted(cats.items()))}); "
                                   "their macros average different sets"})
        tasks = df.group_by("regime").agg(pl.col("task").n_unique().alias("n"))
        per = df.group_by("model", "regime").agg(pl.col("task").n_unique().alias("k")).join(tasks, on="regime")
        for model, regime, k, n in per.filter(pl.col("k") < pl.col("n")).sort("model", "regime").iter_rows():
            rows.append({"kind": "missing-tasks", "model": model, "regime": regime,
                         "detail": f"protocol {proto}: {k} of {n} tasks; no macro score (not comparable)"})
        seeds = df.filter(pl.col("seed").is_not_null()).group_by("model", "regime", "task").agg(pl.len().alias("s"))
        uneven = seeds.group_by("model", "regime").agg(pl.col("s").min().alias("lo"), pl.col("s").max().alias("hi"))
        for model, regime, lo, hi in uneven.filter(pl.col("lo") != pl.col("hi")).sort("model", "regime").iter_rows():
            rows.append({"kind": "uneven-seeds", "model": model, "regime": regime,
                         "detail": f"between {lo} and {hi} seeds per task"})
        rows += data_issues(data_fingerprint(df), f"protocol {proto}: " if len(protocols) > 1 else "")
    known = set(all_tasks())
    for t in sorted(set(results["task"].unique().to_list()) - known):
        rows.append({"kind": "unknown-task", "model": None, "regime": None,
                     "detail": f"task {t!r} is not in the catalog (kept with its category)"})
    if "params" in results.columns:
        for m in sorted(results.filter(pl.col("params").is_null())["model"].unique().to_list()):
            rows.append({"kind": "no-params", "model": m, "regime": None,
                         "detail": "no parameter count (catalog, submission meta or --metadata CSV); left out of scale analyses"})
    nc = results.filter(pl.col("converged").is_not_null() & ~pl.col("converged"))
    if nc.height:
        for (m,), g in nc.group_by("model", maintain_order=True):
            rows.append({"kind": "not-converged", "model": m, "regime": None, "detail": f"{g.height} fit(s) did not converge"})
    return pl.DataFrame(rows, schema=_SCHEMA)
