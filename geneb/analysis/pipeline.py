"""Run every analysis with one set of options and collect the headline numbers
(`summary`) that `geneb analyze` writes to summary.json (keys: analysis/README.md)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from . import ablations as ab
from ._select import MIN_MODELS, TOO_FEW, with_param_counts
from .bootstrap import bootstrap_over_tasks
from .checks import (
    NOT_GENEB_DATA,
    NOT_GENEB_DATA_TEXT,
    check_results,
    data_fingerprint,
    model_data_status,
)
from .compare import nearest_published
from .errors import AnalysisError
from .fewshot import drop_vs_ceiling, few_shot_drops
from .groups import group_means
from .load import model_table
from .pairs import pair_models, smaller_beats_larger
from .pareto import pareto_frontier
from .predictions import bootstrap_predictions, paired_comparison
from .recommend import recommendations
from .scale import scale_correlation
from .schema import ordered_regimes
from .scores import (
    category_order_for,
    category_scores,
    leaderboard,
    model_scores,
    regime_summary,
    single_protocol,
    task_scores,
)
from .stability import ranking_stability
from .variance import high_variance_tasks, top_k_tally
from .winners import category_winners, rerank_counts, reranking

_DEFAULT_GROUPS = ("architecture", "tokenization", "pretraining_data")


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
    group_by: list[str] = field(default_factory=lambda: list(_DEFAULT_GROUPS))
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
    """Every analysis over one protocol's rows; `preds` adds the test-example bootstrap."""
    o = options or AnalysisOptions()
    compare_protocols = o.compare_by == "protocol"
    full_results = results
    results = single_protocol(results, o.protocol)
    protocol = results["protocol"][0]
    t: dict[str, pl.DataFrame] = {}
    t["issues"] = check_results(full_results)
    t["task_scores"] = task_scores(results, o.metric)
    t["category_scores"] = category_scores(results, o.metric)
    ms = t["model_scores"] = model_scores(results, o.metric)
    regimes = ordered_regimes(ms["regime"].to_list())
    if o.base_regime not in regimes:
        raise AnalysisError(f"base regime {o.base_regime!r} not in the results (regimes: {regimes})")
    t["data_fingerprint"] = data_fingerprint(results)
    data_status = model_data_status(t["data_fingerprint"]).select("model", "task_data")
    for r in regimes:
        # task_data: "not-geneb-data" marks a model whose task hashes differ from the pinned
        # ones or from the other models' (the scores are kept, and marked)
        t[f"leaderboard_{r}"] = leaderboard(results, r, o.metric).join(data_status, on="model", how="left")
    t["regime_summary"] = regime_summary(results, o.metric, base=o.base_regime)
    t["scale"] = scale_correlation(results, o.param, o.base_regime, scores=ms, exclude=o.scale_exclude,
                                   exclude_where=o.scale_exclude_where or None, min_models=o.min_models)
    t["pairs"] = smaller_beats_larger(results, o.pairs_factor, o.param, o.base_regime, scores=ms, where=o.pairs_where or None)
    t["pareto"] = pareto_frontier(results, o.param, scores=ms)
    if "published" in results.columns and results["published"].any() and not results["published"].all():
        t["neighbours"] = nearest_published(results, o.base_regime, o.neighbours, o.metric, max(o.n_boot, 200), o.ci, o.seed)
    t["category_winners"] = category_winners(results, o.metric)
    t["reranking"] = reranking(t["category_winners"], o.base_regime)
    t["rerank_counts"] = rerank_counts(t["category_winners"], o.base_regime)
    t["few_shot_drops"] = few_shot_drops(results, o.base_regime, scores=ms)
    t["drop_vs_ceiling"] = drop_vs_ceiling(t["few_shot_drops"], o.min_models)
    t["high_variance_tasks"] = high_variance_tasks(results, o.variance_threshold, o.base_regime, o.variance_top_k, o.tally_column, metric=o.metric)
    t["top_k_tally"] = top_k_tally(t["high_variance_tasks"])
    meta = model_table(results)
    unknown = [c for c in o.group_by if c not in meta.columns and c not in _DEFAULT_GROUPS]
    if unknown:
        raise AnalysisError(f"--group-by: no metadata column(s) {unknown}; available: {sorted(meta.columns)}")
    groups = [group_means(results, c, scores=ms) for c in o.group_by if c in meta.columns]
    t["group_means"] = pl.concat(groups, how="vertical") if groups else pl.DataFrame()
    abls = ab.load_ablations(o.ablation_files)
    t["ablation_effects"] = ab.ablation_effects(results, abls, o.metric)
    t["ablation_summary"] = ab.ablation_summary(t["ablation_effects"])
    t["recommendations"] = recommendations(results, o.recommend_regime, o.max_params, o.param, metric=o.metric)
    can_compare = (
        {o.compare_a, o.compare_b} <= set(full_results["protocol"].unique().to_list())
        if compare_protocols else {o.compare_a, o.compare_b} <= set(regimes)
    )
    if can_compare:
        t["stability"] = ranking_stability(full_results if compare_protocols else results, o.compare_by, o.compare_a, o.compare_b,
                                           regime=o.base_regime, protocol=None if compare_protocols else protocol, metric=o.metric)
    if o.n_boot > 0:
        t["bootstrap"] = bootstrap_over_tasks(results, o.n_boot, o.ci, o.seed, o.metric)
    if preds is not None and not preds.is_empty():
        pp = preds.filter(pl.col("protocol") == protocol)
        if o.example_bootstrap:
            t["bootstrap_predictions"] = bootstrap_predictions(pp, max(o.n_boot, 1), o.ci, o.seed, [o.base_regime])
        if o.paired:
            t["paired_comparison"] = paired_comparison(pp, o.paired[0], o.paired[1], o.base_regime, protocol, max(o.n_boot, 1), o.ci, o.seed)
    elif o.paired or o.example_bootstrap:
        raise AnalysisError("a paired comparison or example bootstrap needs test predictions (<results stem>.preds.parquet beside the results)")
    summary = _summary(results, t, o, protocol, regimes)
    if o.preset == "paper":
        from .published import paper_models, paper_vs_computed

        rows = paper_vs_computed(results, o.metric)
        summary["paper"] = _clean({"rows": rows, "all_match": all(r["match"] is not False for r in rows),
                                   **paper_models(results)})
    return Analysis(tables=t, summary=summary, options=o, results=full_results, preds=preds)


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


def _task_data_summary(fp: pl.DataFrame) -> dict[str, Any]:
    """summary.json `task_data`: whether the ranked rows were computed on the pinned task
    data; `warning` is set when any model's are not the GENEB data."""
    st = model_data_status(fp)
    flagged = st.filter(pl.col("task_data") == NOT_GENEB_DATA)["model"].to_list()
    differ = sorted(set(fp.filter(pl.col("status") == "differs-across-models")["task"].to_list()))
    n_tasks = fp["task"].n_unique()
    pinned_tasks = fp.filter(pl.col("pinned_hash").is_not_null())["task"].n_unique()
    status = NOT_GENEB_DATA if flagged else ("pinned" if st.height and (st["task_data"] == "pinned").all() else "unverified")
    out: dict[str, Any] = {
        "status": status,
        "models": dict(st.select("model", "task_data").iter_rows()),
        "not_geneb_data": flagged,
        "flagged_cells": int(fp["flagged"].sum()),
        "tasks_differing_across_models": differ,
        "n_tasks": n_tasks,
        "n_tasks_pinned": pinned_tasks,
        "n_cells_not_recorded": fp.filter(pl.col("status") == "not-recorded").height,
    }
    if flagged:
        out["warning"] = (f"{len(flagged)} model(s) scored on task data that is {NOT_GENEB_DATA_TEXT} "
                          f"(task hashes differ from the pinned ones or from the other models'): {', '.join(flagged)}")
    return out


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


def _placement(t: dict[str, pl.DataFrame], o: AnalysisOptions, regimes: list[str]) -> dict[str, Any]:
    """summary.json `published`: each of the user's models' rank among the published ones
    (per regime, with the bootstrap rank interval) and its nearest published neighbours."""
    boot = t.get("bootstrap")
    out: dict[str, Any] = {"models": {}}
    for r in regimes:
        lb = t[f"leaderboard_{r}"]
        ranked = lb.filter(pl.col("macro").is_not_null())
        for row in ranked.filter(~pl.col("published").fill_null(False)).iter_rows(named=True):
            m = row["model"]
            rec = out["models"].setdefault(m, {})
            ci = None
            if boot is not None:
                b = boot.filter((pl.col("regime") == r) & (pl.col("model") == m) & (pl.col("scope") == "macro"))
                ci = [b["rank_lo"][0], b["rank_hi"][0]] if b.height else None
            rec[r] = {"rank": row["rank"], "of": ranked.height, "macro": row["macro"], "rank_ci": ci}
    nb = t["neighbours"]
    for m in out["models"]:
        out["models"][m]["neighbours"] = nb.filter(pl.col("model") == m).drop("model", "rank").to_dicts()
    out["regime"] = o.base_regime
    return out


def _summary(results: pl.DataFrame, t: dict[str, pl.DataFrame], o: AnalysisOptions, protocol: str, regimes: list[str]) -> dict[str, Any]:
    from geneb import __version__
    from geneb.catalog import category_order

    ms = t["model_scores"]
    cats = {r: category_order_for(t["task_scores"].filter(pl.col("regime") == r)["category"].to_list()) for r in regimes}
    rs = t["regime_summary"]
    sc = t["scale"].row(0, named=True)
    meta = model_table(results)
    boot = t.get("bootstrap")
    counted, left = with_param_counts(ms.filter(pl.col("regime") == o.base_regime), o.param)
    n_counted, left_out = counted["model"].n_unique(), left
    pair_set, pair_left = pair_models(results, o.param, o.base_regime, o.metric, o.pairs_where or None, scores=ms)
    param_note = "; ".join(f"{k}: {', '.join(v)}" for k, v in left.items())
    if param_note:
        param_note = f"left out of scale, pairs and Pareto ({param_note})"
    if n_counted < o.min_models:
        param_note = (param_note + "; " if param_note else "") + (
            f"{n_counted} model(s) with parameter counts: {TOO_FEW} (fewer than {o.min_models}) for scale statistics")
    s: dict[str, Any] = {
        "geneb_version": __version__,
        "protocol": protocol,
        "metric": o.metric,
        "options": asdict(o),
        "regimes": regimes,
        "n_models": meta.height,
        "n_tasks": {r: t["task_scores"].filter(pl.col("regime") == r)["task"].n_unique() for r in regimes},
        "macro_categories": cats,
        "macro_over_all_categories": all(set(c) == set(category_order()) for c in cats.values()),
        "untrained_models": sorted(meta.filter(pl.col("untrained").fill_null(False))["model"].to_list()) if "untrained" in meta.columns else [],
        "mean_macro": dict(zip(rs["regime"].to_list(), rs["mean_macro"].to_list(), strict=True)),
        "mean_macro_n_models": dict(zip(rs["regime"].to_list(), rs["n_models"].to_list(), strict=True)),
        "relative_drop": dict(zip(rs["regime"].to_list(), rs["relative_drop"].to_list(), strict=True)),
        "leaders": {
            r: ms.filter((pl.col("regime") == r) & (pl.col("rank") == 1))["model"].sort().to_list() for r in regimes
        },
        "models": describe_models(results),
        "param_counts": {"param": o.param, "min_models": o.min_models, "n_counted": n_counted, "left_out": left_out,
                         "note": param_note},
        "scale": {"param": sc["param"], "regime": sc["regime"], "rho": sc["rho"], "p": sc["p"], "n": sc["n"],
                  "status": sc["status"], "excluded": sc["excluded"], "exclude_where": o.scale_exclude_where,
                  "no_params": sc["no_params"], "untrained": sc["untrained"]},
        "pairs": {"factor": o.pairs_factor, "param": o.param, "where": o.pairs_where,
                  "status": "ok" if len(pair_set) >= o.min_models else TOO_FEW,
                  "count": t["pairs"].height if len(pair_set) >= o.min_models else None,
                  "n_models": len(pair_set), "models": pair_set, "left_out": pair_left,
                  "pairs": [[a, b] for a, b in t["pairs"].select("smaller", "larger").iter_rows()]},
        "pareto": {r: t["pareto"].filter((pl.col("regime") == r) & pl.col("on_frontier"))["model"].to_list() for r in regimes},
        "pareto_status": "ok" if n_counted >= o.min_models else TOO_FEW,
        "winners": {r: dict(t["category_winners"].filter(pl.col("regime") == r).select("category", "winner").iter_rows()) for r in regimes},
        "reranks": {"base": o.base_regime, **{
            row["regime"]: {"n_reranked": row["n_reranked"], "n_categories": row["n_categories"], "categories": row["categories"]}
            for row in t["rerank_counts"].iter_rows(named=True)
        }},
        "few_shot": {row["regime"]: {k: v for k, v in row.items() if k != "regime"} for row in t["drop_vs_ceiling"].iter_rows(named=True)},
        "high_variance": {
            "threshold": o.variance_threshold, "regime": o.base_regime, "top_k": o.variance_top_k, "column": o.tally_column,
            "n_tasks": t["high_variance_tasks"].height, "tasks": t["high_variance_tasks"]["task"].to_list(),
            "tally": dict(t["top_k_tally"].select("value", "count").iter_rows()),
        },
        "groups": {
            by: {row["group"]: row["mean_macro"] for row in t["group_means"].filter((pl.col("by") == by) & (pl.col("regime") == o.base_regime)).iter_rows(named=True)}
            for by in (t["group_means"]["by"].unique().to_list() if t["group_means"].height else [])
        },
        "ablations": {
            row["ablation"] + "@" + row["regime"]: {"factor": row["factor"], "macro_diff": row["macro_diff"],
                                                     "n_b_better": row["n_b_better"], "n_categories": row["n_categories"]}
            for row in t["ablation_summary"].iter_rows(named=True)
        },
        "recommendations": {
            "regime": o.recommend_regime, "max_params": o.max_params,
            "by_category": {row["category"]: {"model": row["model"], "score": row["score"], "runner_up": row["runner_up"], "margin": row["margin"]}
                            for row in t["recommendations"].iter_rows(named=True)},
        },
        "issues": t["issues"].to_dicts(),
        "task_data": _task_data_summary(t["data_fingerprint"]),
    }
    if "stability" in t:
        st = t["stability"]
        ov = st.filter(pl.col("scope") == "overall").row(0, named=True)
        s["stability"] = {"by": o.compare_by, "a": o.compare_a, "b": o.compare_b, "spearman": ov["spearman"], "spearman_p": ov["spearman_p"],
                          "kendall": ov["kendall"], "kendall_p": ov["kendall_p"], "n_models": ov["n_models"],
                          "categories_same_top": int(st.filter(pl.col("scope") != "overall")["same_top"].sum())}
    if boot is not None:
        mb = boot.filter(pl.col("scope") == "macro")
        s["uncertainty"] = {
            "n_boot": o.n_boot, "ci": o.ci, "seed": o.seed, "resampling": "tasks within category",
            "macro": {r: {row["model"]: {"macro": row["estimate"], "lo": row["lo"], "hi": row["hi"], "rank_lo": row["rank_lo"], "rank_hi": row["rank_hi"]}
                          for row in mb.filter(pl.col("regime") == r).iter_rows(named=True)} for r in regimes},
        }
    if "neighbours" in t:
        s["published"] = _placement(t, o, regimes)
    if "paired_comparison" in t:
        ov = t["paired_comparison"].filter(pl.col("task") == "overall").row(0, named=True)
        s["paired_comparison"] = {"a": o.paired[0], "b": o.paired[1], "diff": ov["diff"], "lo": ov["lo"], "hi": ov["hi"], "p": ov["p"]}
    return _clean(s)
