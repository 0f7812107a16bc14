"""The analyses `geneb analyze` runs, one `Entry` each: the tables it adds and the keys it
adds to summary.json. Entries run in order over one shared `Context` (one protocol's
rows, their scores computed once, the tables of the entries before); a new analysis is
one module plus one entry in `ANALYSES`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import polars as pl

from . import ablations as ab
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
from .scores import category_scores, leaderboard, model_scores, regime_summary, task_scores
from .selection import TOO_FEW, Selection, with_param_counts
from .stability import ranking_stability
from .variance import high_variance_tasks, top_k_tally
from .winners import category_winners, rerank_counts, reranking

if TYPE_CHECKING:
    from .pipeline import AnalysisOptions

#: Metadata columns grouped by default; asking for one the metadata lacks is not an error.
DEFAULT_GROUPS = ("architecture", "tokenization", "pretraining_data")

Tables = dict[str, pl.DataFrame]


@dataclass
class Context:
    """What the analyses of one run share: the options, one protocol's rows (and every
    protocol's, for a protocol comparison), the test predictions, and the tables so far."""

    options: AnalysisOptions
    results: pl.DataFrame
    all_results: pl.DataFrame
    preds: pl.DataFrame | None
    tables: Tables = field(default_factory=dict)

    @cached_property
    def protocol(self) -> str:
        return self.results["protocol"][0]

    @cached_property
    def meta(self) -> pl.DataFrame:
        return model_table(self.results)

    @property
    def select(self) -> Selection:
        """Every model, on the run's metric (the rows are one protocol already)."""
        return Selection(self.options.metric)

    @property
    def model_scores(self) -> pl.DataFrame:
        return self.tables["model_scores"]

    @cached_property
    def regimes(self) -> list[str]:
        return ordered_regimes(self.model_scores["regime"].to_list())

    @cached_property
    def param_models(self) -> tuple[pl.DataFrame, dict[str, list[str]]]:
        """The base regime's models with a meaningful parameter count, and who is left out."""
        o = self.options
        return with_param_counts(self.model_scores.filter(pl.col("regime") == o.base_regime), o.param)

    @property
    def n_param_models(self) -> int:
        return self.param_models[0]["model"].n_unique()

    @property
    def scale_selection(self) -> Selection:
        o = self.options
        return Selection(o.metric, exclude=o.scale_exclude, exclude_where=o.scale_exclude_where or None)

    @property
    def pairs_selection(self) -> Selection:
        o = self.options
        return Selection(o.metric, where=o.pairs_where or None)


@dataclass(frozen=True)
class Entry:
    """One analysis: `tables(ctx)` computes its tables (it may read earlier entries'),
    `summary(ctx)` its summary.json keys once every table exists."""

    name: str
    tables: Callable[[Context], Tables]
    summary: Callable[[Context], dict[str, Any]] | None = None


def _rows_by(df: pl.DataFrame, key: str, value: str) -> dict[Any, Any]:
    return dict(zip(df[key].to_list(), df[value].to_list(), strict=True))


# -- scores, checks and leaderboards --------------------------------------------------
def _scores(ctx: Context) -> Tables:
    o, r = ctx.options, ctx.results
    t = {"task_scores": task_scores(r, o.metric), "category_scores": category_scores(r, o.metric),
         "model_scores": model_scores(r, o.metric)}
    regimes = ordered_regimes(t["model_scores"]["regime"].to_list())
    if o.base_regime not in regimes:
        raise AnalysisError(f"base regime {o.base_regime!r} not in the results (regimes: {regimes})")
    return t


def _scores_summary(ctx: Context) -> dict[str, Any]:
    ms = ctx.model_scores
    return {"leaders": {r: ms.filter((pl.col("regime") == r) & (pl.col("rank") == 1))["model"].sort().to_list()
                        for r in ctx.regimes}}


def _leaderboards(ctx: Context) -> Tables:
    # task_data: "not-geneb-data" marks a model whose task hashes differ from the pinned
    # ones or from the other models' (the scores are kept, and marked)
    fp = data_fingerprint(ctx.results)
    status = model_data_status(fp).select("model", "task_data")
    out = {"data_fingerprint": fp}
    for r in ctx.regimes:
        out[f"leaderboard_{r}"] = leaderboard(ctx.results, r, ctx.options.metric).join(status, on="model", how="left")
    return out


def _task_data_summary(ctx: Context) -> dict[str, Any]:
    """`task_data`: whether the ranked rows were computed on the pinned task data;
    `warning` is set when any model's are not the GENEB data."""
    fp = ctx.tables["data_fingerprint"]
    st = model_data_status(fp)
    flagged = st.filter(pl.col("task_data") == NOT_GENEB_DATA)["model"].to_list()
    differ = sorted(set(fp.filter(pl.col("status") == "differs-across-models")["task"].to_list()))
    pinned_tasks = fp.filter(pl.col("pinned_hash").is_not_null())["task"].n_unique()
    status = NOT_GENEB_DATA if flagged else ("pinned" if st.height and (st["task_data"] == "pinned").all() else "unverified")
    out: dict[str, Any] = {
        "status": status,
        "models": dict(st.select("model", "task_data").iter_rows()),
        "not_geneb_data": flagged,
        "flagged_cells": int(fp["flagged"].sum()),
        "tasks_differing_across_models": differ,
        "n_tasks": fp["task"].n_unique(),
        "n_tasks_pinned": pinned_tasks,
        "n_cells_not_recorded": fp.filter(pl.col("status") == "not-recorded").height,
    }
    if flagged:
        out["warning"] = (f"{len(flagged)} model(s) scored on task data that is {NOT_GENEB_DATA_TEXT} "
                          f"(task hashes differ from the pinned ones or from the other models'): {', '.join(flagged)}")
    return {"task_data": out}


def _regime_summary(ctx: Context) -> Tables:
    return {"regime_summary": regime_summary(ctx.results, ctx.options.metric, base=ctx.options.base_regime)}


def _regime_summary_summary(ctx: Context) -> dict[str, Any]:
    rs = ctx.tables["regime_summary"]
    return {"mean_macro": _rows_by(rs, "regime", "mean_macro"), "mean_macro_n_models": _rows_by(rs, "regime", "n_models"),
            "relative_drop": _rows_by(rs, "regime", "relative_drop")}


# -- scale, pairs, Pareto ---------------------------------------------------------------
def _scale(ctx: Context) -> Tables:
    o = ctx.options
    return {"scale": scale_correlation(ctx.results, o.param, o.base_regime, select=ctx.scale_selection,
                                       scores=ctx.model_scores, min_models=o.min_models)}


def _scale_summary(ctx: Context) -> dict[str, Any]:
    o = ctx.options
    sc = ctx.tables["scale"].row(0, named=True)
    left = ctx.param_models[1]
    n_counted = ctx.n_param_models
    note = "; ".join(f"{k}: {', '.join(v)}" for k, v in left.items())
    if note:
        note = f"left out of scale, pairs and Pareto ({note})"
    if n_counted < o.min_models:
        note = (note + "; " if note else "") + (
            f"{n_counted} model(s) with parameter counts: {TOO_FEW} (fewer than {o.min_models}) for scale statistics")
    return {
        "param_counts": {"param": o.param, "min_models": o.min_models, "n_counted": n_counted, "left_out": left,
                         "note": note},
        "scale": {"param": sc["param"], "regime": sc["regime"], "rho": sc["rho"], "p": sc["p"], "n": sc["n"],
                  "status": sc["status"], "excluded": sc["excluded"], "exclude_where": o.scale_exclude_where,
                  "no_params": sc["no_params"], "untrained": sc["untrained"]},
    }


def _pairs(ctx: Context) -> Tables:
    o = ctx.options
    return {"pairs": smaller_beats_larger(ctx.results, o.pairs_factor, o.param, o.base_regime,
                                          select=ctx.pairs_selection, scores=ctx.model_scores)}


def _pairs_summary(ctx: Context) -> dict[str, Any]:
    o, pairs = ctx.options, ctx.tables["pairs"]
    models, left = pair_models(ctx.results, o.param, o.base_regime, select=ctx.pairs_selection, scores=ctx.model_scores)
    enough = len(models) >= o.min_models
    return {"pairs": {"factor": o.pairs_factor, "param": o.param, "where": o.pairs_where,
                      "status": "ok" if enough else TOO_FEW, "count": pairs.height if enough else None,
                      "n_models": len(models), "models": models, "left_out": left,
                      "pairs": [[a, b] for a, b in pairs.select("smaller", "larger").iter_rows()]}}


def _pareto(ctx: Context) -> Tables:
    return {"pareto": pareto_frontier(ctx.results, ctx.options.param, scores=ctx.model_scores)}


def _pareto_summary(ctx: Context) -> dict[str, Any]:
    p = ctx.tables["pareto"]
    return {"pareto": {r: p.filter((pl.col("regime") == r) & pl.col("on_frontier"))["model"].to_list() for r in ctx.regimes},
            "pareto_status": "ok" if ctx.n_param_models >= ctx.options.min_models else TOO_FEW}


# -- a user's models among the published ones -------------------------------------------
def _mixes_published(ctx: Context) -> bool:
    r = ctx.results
    return "published" in r.columns and bool(r["published"].any()) and not r["published"].all()


def _neighbours(ctx: Context) -> Tables:
    if not _mixes_published(ctx):
        return {}
    o = ctx.options
    return {"neighbours": nearest_published(ctx.results, o.base_regime, o.neighbours, o.metric, max(o.n_boot, 200),
                                            o.ci, o.seed)}


def _placement(ctx: Context) -> dict[str, Any]:
    """`published`: each of the user's models' rank among the published ones (per regime,
    with the bootstrap rank interval) and its nearest published neighbours."""
    if "neighbours" not in ctx.tables:
        return {}
    t = ctx.tables
    boot = t.get("bootstrap")
    out: dict[str, Any] = {"models": {}}
    for r in ctx.regimes:
        ranked = t[f"leaderboard_{r}"].filter(pl.col("macro").is_not_null())
        for row in ranked.filter(~pl.col("published").fill_null(False)).iter_rows(named=True):
            m = row["model"]
            ci = None
            if boot is not None:
                b = boot.filter((pl.col("regime") == r) & (pl.col("model") == m) & (pl.col("scope") == "macro"))
                ci = [b["rank_lo"][0], b["rank_hi"][0]] if b.height else None
            out["models"].setdefault(m, {})[r] = {"rank": row["rank"], "of": ranked.height, "macro": row["macro"],
                                                  "rank_ci": ci}
    nb = t["neighbours"]
    for m in out["models"]:
        out["models"][m]["neighbours"] = nb.filter(pl.col("model") == m).drop("model", "rank").to_dicts()
    out["regime"] = ctx.options.base_regime
    return {"published": out}


# -- winners, few-shot, variance, groups --------------------------------------------------
def _winners(ctx: Context) -> Tables:
    cw = category_winners(ctx.results, select=ctx.select)
    base = ctx.options.base_regime
    return {"category_winners": cw, "reranking": reranking(cw, base), "rerank_counts": rerank_counts(cw, base)}


def _winners_summary(ctx: Context) -> dict[str, Any]:
    cw = ctx.tables["category_winners"]
    return {
        "winners": {r: dict(cw.filter(pl.col("regime") == r).select("category", "winner").iter_rows()) for r in ctx.regimes},
        "reranks": {"base": ctx.options.base_regime, **{
            row["regime"]: {"n_reranked": row["n_reranked"], "n_categories": row["n_categories"], "categories": row["categories"]}
            for row in ctx.tables["rerank_counts"].iter_rows(named=True)
        }},
    }


def _few_shot(ctx: Context) -> Tables:
    drops = few_shot_drops(ctx.results, ctx.options.base_regime, scores=ctx.model_scores)
    return {"few_shot_drops": drops, "drop_vs_ceiling": drop_vs_ceiling(drops, ctx.options.min_models)}


def _few_shot_summary(ctx: Context) -> dict[str, Any]:
    return {"few_shot": {row["regime"]: {k: v for k, v in row.items() if k != "regime"}
                         for row in ctx.tables["drop_vs_ceiling"].iter_rows(named=True)}}


def _variance(ctx: Context) -> Tables:
    o = ctx.options
    hv = high_variance_tasks(ctx.results, o.variance_threshold, o.base_regime, o.variance_top_k, o.tally_column,
                             select=ctx.select)
    return {"high_variance_tasks": hv, "top_k_tally": top_k_tally(hv)}


def _variance_summary(ctx: Context) -> dict[str, Any]:
    o, hv = ctx.options, ctx.tables["high_variance_tasks"]
    return {"high_variance": {
        "threshold": o.variance_threshold, "regime": o.base_regime, "top_k": o.variance_top_k, "column": o.tally_column,
        "n_tasks": hv.height, "tasks": hv["task"].to_list(),
        "tally": dict(ctx.tables["top_k_tally"].select("value", "count").iter_rows()),
    }}


def _groups(ctx: Context) -> Tables:
    o, meta = ctx.options, ctx.meta
    unknown = [c for c in o.group_by if c not in meta.columns and c not in DEFAULT_GROUPS]
    if unknown:
        raise AnalysisError(f"--group-by: no metadata column(s) {unknown}; available: {sorted(meta.columns)}")
    groups = [group_means(ctx.results, c, scores=ctx.model_scores) for c in o.group_by if c in meta.columns]
    return {"group_means": pl.concat(groups, how="vertical") if groups else pl.DataFrame()}


def _groups_summary(ctx: Context) -> dict[str, Any]:
    g, base = ctx.tables["group_means"], ctx.options.base_regime
    return {"groups": {
        by: {row["group"]: row["mean_macro"] for row in g.filter((pl.col("by") == by) & (pl.col("regime") == base)).iter_rows(named=True)}
        for by in (g["by"].unique().to_list() if g.height else [])
    }}


# -- ablations, recommendations, stability, uncertainty -----------------------------------
def _ablations(ctx: Context) -> Tables:
    effects = ab.ablation_effects(ctx.results, ab.load_ablations(ctx.options.ablation_files), ctx.options.metric)
    return {"ablation_effects": effects, "ablation_summary": ab.ablation_summary(effects)}


def _ablations_summary(ctx: Context) -> dict[str, Any]:
    return {"ablations": {
        row["ablation"] + "@" + row["regime"]: {"factor": row["factor"], "macro_diff": row["macro_diff"],
                                                 "n_b_better": row["n_b_better"], "n_categories": row["n_categories"]}
        for row in ctx.tables["ablation_summary"].iter_rows(named=True)
    }}


def _recommendations(ctx: Context) -> Tables:
    o = ctx.options
    return {"recommendations": recommendations(ctx.results, o.recommend_regime, o.max_params, o.param, select=ctx.select)}


def _recommendations_summary(ctx: Context) -> dict[str, Any]:
    o = ctx.options
    return {"recommendations": {
        "regime": o.recommend_regime, "max_params": o.max_params,
        "by_category": {row["category"]: {"model": row["model"], "score": row["score"], "runner_up": row["runner_up"],
                                          "margin": row["margin"]}
                        for row in ctx.tables["recommendations"].iter_rows(named=True)},
    }}


def _stability(ctx: Context) -> Tables:
    o = ctx.options
    by_protocol = o.compare_by == "protocol"
    have = set(ctx.all_results["protocol"].unique().to_list()) if by_protocol else set(ctx.regimes)
    if not {o.compare_a, o.compare_b} <= have:
        return {}
    return {"stability": ranking_stability(ctx.all_results if by_protocol else ctx.results, o.compare_by, o.compare_a,
                                           o.compare_b, regime=o.base_regime,
                                           protocol=None if by_protocol else ctx.protocol, metric=o.metric)}


def _stability_summary(ctx: Context) -> dict[str, Any]:
    if "stability" not in ctx.tables:
        return {}
    o, st = ctx.options, ctx.tables["stability"]
    ov = st.filter(pl.col("scope") == "overall").row(0, named=True)
    return {"stability": {"by": o.compare_by, "a": o.compare_a, "b": o.compare_b, "spearman": ov["spearman"],
                          "spearman_p": ov["spearman_p"], "kendall": ov["kendall"], "kendall_p": ov["kendall_p"],
                          "n_models": ov["n_models"],
                          "categories_same_top": int(st.filter(pl.col("scope") != "overall")["same_top"].sum())}}


def _bootstrap(ctx: Context) -> Tables:
    o = ctx.options
    return {"bootstrap": bootstrap_over_tasks(ctx.results, o.n_boot, o.ci, o.seed, o.metric)} if o.n_boot > 0 else {}


def _uncertainty_summary(ctx: Context) -> dict[str, Any]:
    boot, o = ctx.tables.get("bootstrap"), ctx.options
    if boot is None:
        return {}
    mb = boot.filter(pl.col("scope") == "macro")
    return {"uncertainty": {
        "n_boot": o.n_boot, "ci": o.ci, "seed": o.seed, "resampling": "tasks within category",
        "macro": {r: {row["model"]: {"macro": row["estimate"], "lo": row["lo"], "hi": row["hi"], "rank_lo": row["rank_lo"],
                                     "rank_hi": row["rank_hi"]}
                      for row in mb.filter(pl.col("regime") == r).iter_rows(named=True)} for r in ctx.regimes},
    }}


def _predictions(ctx: Context) -> Tables:
    o, preds = ctx.options, ctx.preds
    if preds is None or preds.is_empty():
        if o.paired or o.example_bootstrap:
            raise AnalysisError("a paired comparison or example bootstrap needs test predictions "
                                "(<results stem>.preds.parquet beside the results)")
        return {}
    pp = preds.filter(pl.col("protocol") == ctx.protocol)
    out = {}
    if o.example_bootstrap:
        out["bootstrap_predictions"] = bootstrap_predictions(pp, max(o.n_boot, 1), o.ci, o.seed, [o.base_regime])
    if o.paired:
        out["paired_comparison"] = paired_comparison(pp, o.paired[0], o.paired[1], o.base_regime, ctx.protocol,
                                                     max(o.n_boot, 1), o.ci, o.seed)
    return out


def _paired_summary(ctx: Context) -> dict[str, Any]:
    if "paired_comparison" not in ctx.tables:
        return {}
    o = ctx.options
    ov = ctx.tables["paired_comparison"].filter(pl.col("task") == "overall").row(0, named=True)
    return {"paired_comparison": {"a": o.paired[0], "b": o.paired[1], "diff": ov["diff"], "lo": ov["lo"], "hi": ov["hi"],
                                  "p": ov["p"]}}


def _paper_summary(ctx: Context) -> dict[str, Any]:
    if ctx.options.preset != "paper":
        return {}
    from .published import paper_models, paper_vs_computed

    rows = paper_vs_computed(ctx.results, ctx.options.metric)
    return {"paper": {"rows": rows, "all_match": all(r["match"] is not False for r in rows), **paper_models(ctx.results)}}


#: Every analysis of `geneb analyze`, in the order they run (an entry may read the tables
#: of those before it; summaries are built once every table exists).
ANALYSES: tuple[Entry, ...] = (
    Entry("checks", lambda ctx: {"issues": check_results(ctx.all_results)},
          lambda ctx: {"issues": ctx.tables["issues"].to_dicts()}),
    Entry("scores", _scores, _scores_summary),
    Entry("leaderboards", _leaderboards, _task_data_summary),
    Entry("regime_summary", _regime_summary, _regime_summary_summary),
    Entry("scale", _scale, _scale_summary),
    Entry("pairs", _pairs, _pairs_summary),
    Entry("pareto", _pareto, _pareto_summary),
    Entry("neighbours", _neighbours, _placement),
    Entry("winners", _winners, _winners_summary),
    Entry("few_shot", _few_shot, _few_shot_summary),
    Entry("variance", _variance, _variance_summary),
    Entry("groups", _groups, _groups_summary),
    Entry("ablations", _ablations, _ablations_summary),
    Entry("recommendations", _recommendations, _recommendations_summary),
    Entry("stability", _stability, _stability_summary),
    Entry("bootstrap", _bootstrap, _uncertainty_summary),
    Entry("predictions", _predictions, _paired_summary),
    Entry("paper", lambda ctx: {}, _paper_summary),
)
