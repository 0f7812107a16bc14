"""Soft problems in a loaded results frame, listed rather than raised: mixed protocols,
models missing a regime or some tasks, unknown task ids, models without a parameter
count, non-converged fits and uneven seed counts."""

from __future__ import annotations

import polars as pl

_SCHEMA = {"kind": pl.String, "model": pl.String, "regime": pl.String, "detail": pl.String}


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
