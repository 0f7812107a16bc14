"""Run every analysis of the registry with one set of options and collect the headline
numbers (`summary`) that `geneb analyze` writes to summary.json (keys: analysis/README.md)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from . import registry
from .errors import AnalysisError
from .load import model_table
from .registry import DEFAULT_GROUPS, Context
from .scores import category_order_for, single_protocol
from .selection import MIN_MODELS


@dataclass
class AnalysisOptions:
    """Every parameter of every analysis (CLI flags map one to one; defaults = the paper's)."""

    metric: str = "mcc"
    protocol: str | None = None
    base_regime: str = "full"
    param: str = "params"
    scale_exclude: list[str] = field(default_factory=list)
    scale_exclude_where: list[str] = field(default_factory=list)
    pairs_factor: float = 5.0
    pairs_where: list[str] = field(default_factory=list)
    variance_threshold: float = 0.12
    variance_top_k: int = 3
    tally_column: str = "pretraining_data"
    group_by: list[str] = field(default_factory=lambda: list(DEFAULT_GROUPS))
    ablation_files: list[str] = field(default_factory=list)
    recommend_regime: str = "full"
    max_params: float | None = None
    compare_by: str = "regime"
    compare_a: str = "full"
    compare_b: str = "10shot"
    n_boot: int = 1000
    ci: float = 0.95
    seed: int = 0
    paired: tuple[str, str] | None = None
    example_bootstrap: bool = False  # per-task CIs over test examples (base regime; needs predictions)
    min_models: int = MIN_MODELS  # fewer models: scale, pairs and Pareto say "too few models"
    preset: str | None = None  # the named preset these options came from ("paper": summary gets the paper table)
    neighbours: int = 2  # published models above and below each of a user's models (with published results)


@dataclass
class Analysis:
    """All result tables by name, plus the JSON-ready summary."""

    tables: dict[str, pl.DataFrame]
    summary: dict[str, Any]
    options: AnalysisOptions
    results: pl.DataFrame | None = None  # the analysed rows (with metadata), so a report can be rebuilt
    preds: pl.DataFrame | None = None


def _clean(x: Any) -> Any:
    """JSON-safe: NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(x, dict):
        return {str(k): _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if hasattr(x, "item") and not isinstance(x, str):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def run_analysis(results: pl.DataFrame, options: AnalysisOptions | None = None, preds: pl.DataFrame | None = None) -> Analysis:
    """Every analysis of `registry.ANALYSES` over one protocol's rows; `preds` adds the
    test-example bootstrap and paired comparison."""
    o = options or AnalysisOptions()
    ctx = Context(o, single_protocol(results, o.protocol), results, preds)
    entries = registry.ANALYSES  # read at call time: a registered analysis runs from then on
    for entry in entries:
        ctx.tables.update(entry.tables(ctx))
    summary = _header(ctx)
    for entry in entries:
        if entry.summary is not None:
            summary.update(entry.summary(ctx))
    return Analysis(tables=ctx.tables, summary=_clean(summary), options=o, results=results, preds=preds)


def _header(ctx: Context) -> dict[str, Any]:
    """summary.json's keys about the run itself: versions, options, what was ranked."""
    from geneb import __version__
    from geneb.catalog import category_order

    ts, meta, regimes = ctx.tables["task_scores"], ctx.meta, ctx.regimes
    cats = {r: category_order_for(ts.filter(pl.col("regime") == r)["category"].to_list()) for r in regimes}
    return {
        "geneb_version": __version__,
        "protocol": ctx.protocol,
        "metric": ctx.options.metric,
        "options": asdict(ctx.options),
        "regimes": regimes,
        "n_models": meta.height,
        "n_tasks": {r: ts.filter(pl.col("regime") == r)["task"].n_unique() for r in regimes},
        "macro_categories": cats,
        "macro_over_all_categories": all(set(c) == set(category_order()) for c in cats.values()),
        "untrained_models": (sorted(meta.filter(pl.col("untrained").fill_null(False))["model"].to_list())
                             if "untrained" in meta.columns else []),
        "models": describe_models(ctx.results),
    }


def options_from_dict(d: dict[str, Any]) -> AnalysisOptions:
    """AnalysisOptions from the `options` block of a summary.json (unknown keys are an error)."""
    known = set(AnalysisOptions.__dataclass_fields__)
    unknown = set(d) - known
    if unknown:
        raise AnalysisError(f"summary.json options: unknown key(s) {sorted(unknown)}")
    d = dict(d)
    if d.get("paired") is not None:
        d["paired"] = tuple(d["paired"])
    return AnalysisOptions(**d)


def load_analysis(directory: str | Path) -> Analysis:
    """Recompute an analysis written by `write_analysis` from its saved rows and options."""
    import json

    d = Path(directory)
    for name in ("summary.json", "analysed_rows.parquet"):
        if not (d / name).is_file():
            raise AnalysisError(f"{d}: no {name}; is this a `geneb analyze` output directory?")
    try:
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise AnalysisError(f"{d / 'summary.json'}: not valid JSON: {exc}") from exc
    opts = options_from_dict(summary.get("options", {}))
    preds = pl.read_parquet(d / "predictions.parquet") if (d / "predictions.parquet").is_file() else None
    return run_analysis(pl.read_parquet(d / "analysed_rows.parquet"), opts, preds)


def describe_models(results: pl.DataFrame) -> str:
    """One line on what the ranked models are and which tasks they were scored on, so a
    page of built-in baselines on the mini suite never passes for the GENEB leaderboard."""
    from geneb.catalog import all_tasks

    meta = model_table(results)
    suites = {all_tasks()[t].suite if t in all_tasks() else "user" for t in results["task"].unique().to_list()}
    n_tasks = results["task"].n_unique()
    where = {frozenset({"geneb"}): f"{n_tasks} GENEB task(s)" if n_tasks != 100 else "the 100 GENEB tasks",
             frozenset({"mini"}): "the built-in mini suite (geneb-mini), not the GENEB benchmark"}.get(
        frozenset(suites), f"{n_tasks} task(s) of " + ", ".join(sorted(suites)) + " suites")
    n_pub = meta.filter(pl.col("published").fill_null(False)).height if "published" in meta.columns else 0
    if n_pub and n_pub == meta.height:
        return f"The {n_pub} published GENEB models (the official submissions shipped with geneb) on {where}."
    if n_pub:
        return f"{meta.height - n_pub} of your model(s) ranked among the {n_pub} published GENEB models on {where}."
    src = meta["source"].fill_null("unknown").to_list()
    kinds = []
    untrained = int(meta["untrained"].fill_null(False).sum()) if "untrained" in meta.columns else 0
    if src.count("builtin"):
        kinds.append(f"{src.count('builtin')} built-in baseline(s)" + (f" ({untrained} untrained)" if untrained else ""))
    if src.count("geneb"):
        kinds.append(f"{src.count('geneb')} GENEB catalog model(s)")
    other = len(src) - src.count("builtin") - src.count("geneb")
    if other:
        kinds.append(f"{other} other model(s)")
    return f"{', '.join(kinds)} on {where}."
