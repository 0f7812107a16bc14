"""Model-level analyses on small hand-made tables with hand-worked answers."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest
from scipy import stats

from geneb.analysis import (
    AnalysisError,
    Selection,
    category_winners,
    drop_vs_ceiling,
    few_shot_drops,
    group_means,
    high_variance_tasks,
    pareto_frontier,
    ranking_stability,
    recommendations,
    rerank_counts,
    reranking,
    scale_correlation,
    smaller_beats_larger,
    spearman,
    top_k_tally,
)
from geneb.analysis.pareto import dominated
from geneb.testing import results_frame


def one_task_table(macros: dict[str, float], meta: dict[str, dict], regime: str = "full") -> pl.DataFrame:
    """One task per model, so macro = the given score."""
    rows = [{"model": m, "task": "t1", "category": "Promoters", "regime": regime, "mcc": v} for m, v in macros.items()]
    df = results_frame(rows)
    md = pl.DataFrame([{"model": m, **v} for m, v in meta.items()])
    return df.join(md, on="model", how="left")


# --- Spearman -------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2])
def test_spearman_matches_scipy_with_ties(seed):
    rng = np.random.default_rng(seed)
    x = rng.integers(0, 5, 30).astype(float)  # many ties
    y = rng.normal(size=30)
    assert spearman(x, y) == pytest.approx(stats.spearmanr(x, y).statistic, abs=1e-12)


def test_spearman_is_vectorised_over_rows():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(4, 20)), rng.normal(size=(4, 20))
    got = spearman(X, Y)
    assert got == pytest.approx([stats.spearmanr(a, b).statistic for a, b in zip(X, Y, strict=True)])


def test_scale_correlation_against_scipy_and_exclusions():
    params = {"A": 10, "B": 20, "C": 30, "D": 40, "E": 50, "F": 1000}
    macro = {"A": 0.1, "B": 0.3, "C": 0.2, "D": 0.5, "E": 0.4, "F": 0.05}
    meta = {m: {"params": p, "params_v1": p * 2 if m != "A" else 5000, "pretraining_data": "prokaryotic" if m == "F" else "human"} for m, p in params.items()}
    df = one_task_table(macro, meta)
    r = scale_correlation(df).row(0, named=True)
    want = stats.spearmanr(list(params.values()), list(macro.values()))
    assert r["rho"] == pytest.approx(want.statistic) and r["p"] == pytest.approx(want.pvalue) and r["n"] == 6
    # excluding the outlier by metadata: A..E only -> rho = 0.8 by hand (ranks 1..5 vs 1,3,2,5,4)
    r2 = scale_correlation(df, select=Selection(exclude_where="pretraining_data=prokaryotic")).row(0, named=True)
    assert r2["rho"] == pytest.approx(0.8) and r2["n"] == 5 and r2["excluded"] == ["F"]
    assert scale_correlation(df, select=Selection(exclude=["F"])).row(0, named=True)["rho"] == pytest.approx(0.8)
    # the parameter column is a choice
    r3 = scale_correlation(df, param="params_v1").row(0, named=True)
    want3 = stats.spearmanr([meta[m]["params_v1"] for m in params], list(macro.values()))
    assert r3["rho"] == pytest.approx(want3.statistic)
    with pytest.raises(AnalysisError, match="no metadata column"):
        scale_correlation(df, param="nope")
    with pytest.raises(AnalysisError, match="not in the results"):
        scale_correlation(df, select=Selection(exclude=["ZZ"]))


# --- smaller-beats-larger -------------------------------------------------------------------

def test_pairs_by_hand_with_ties_and_equal_params():
    # params: S=1, M=5, M2=5, L=25 ; macros: S .5, M .6, M2 .6 (tie), L .4
    meta = {"S": {"params": 1}, "M": {"params": 5}, "M2": {"params": 5}, "L": {"params": 25}}
    df = one_task_table({"S": 0.5, "M": 0.6, "M2": 0.6, "L": 0.4}, meta)
    got = set(smaller_beats_larger(df, factor=5).select("smaller", "larger").iter_rows())
    # F=5: S vs M,M2 (5>=5 but .5<.6: no), S vs L (yes), M vs L (yes), M2 vs L (yes); M vs M2 5<25: n/a
    assert got == {("S", "L"), ("M", "L"), ("M2", "L")}
    # F=1: equal params qualify (params_b >= params_a) but a tie in macro is not a win
    got1 = set(smaller_beats_larger(df, factor=1).select("smaller", "larger").iter_rows())
    assert ("M", "M2") not in got1 and ("M2", "M") not in got1
    assert got1 == {("S", "L"), ("M", "L"), ("M2", "L")}
    # strict-ratio boundary: F slightly above 5 loses the S-vs-L? no: 25 >= 5.01*1; but M-L needs 25 >= 5.01*5 -> no
    got5 = set(smaller_beats_larger(df, factor=5.01).select("smaller", "larger").iter_rows())
    assert got5 == {("S", "L")}


def test_pairs_subset_by_metadata_filter():
    meta = {"S": {"params": 1, "pretraining_data": "human"}, "M": {"params": 10, "pretraining_data": "prokaryotic"},
            "L": {"params": 100, "pretraining_data": "human"}}
    df = one_task_table({"S": 0.9, "M": 0.5, "L": 0.1}, meta)
    assert smaller_beats_larger(df, factor=5).height == 3
    sub = smaller_beats_larger(df, factor=5, select=Selection(where="pretraining_data!=prokaryotic"))
    assert sub.select("smaller", "larger").rows() == [("S", "L")]
    assert sub["ratio"][0] == pytest.approx(100.0) and sub["margin"][0] == pytest.approx(0.8)


# --- Pareto ---------------------------------------------------------------------------------

def test_dominance_rule_on_ties_and_equal_params():
    p = np.array([1, 1, 2, 2, 3.0])
    m = np.array([0.5, 0.5, 0.5, 0.7, 0.6])
    # two identical points (1, .5) dominate nobody and are not dominated: both on the frontier
    # (2, .5) is dominated by (1, .5); (2, .7) on the frontier; (3, .6) dominated by (2, .7)
    assert dominated(p, m).tolist() == [False, False, True, False, True]


def test_pareto_frontier_per_regime():
    meta = {"A": {"params": 1}, "B": {"params": 10}, "C": {"params": 10}, "D": {"params": 100}}
    df = pl.concat([
        one_task_table({"A": 0.2, "B": 0.5, "C": 0.4, "D": 0.6}, meta, "full"),
        one_task_table({"A": 0.3, "B": 0.1, "C": 0.1, "D": 0.2}, meta, "10shot"),
    ])
    pf = pareto_frontier(df)
    on = {r: set(pf.filter((pl.col("regime") == r) & pl.col("on_frontier"))["model"]) for r in ("full", "10shot")}
    assert on["full"] == {"A", "B", "D"}  # C: same params as B, lower macro
    assert on["10shot"] == {"A"}
    assert pf["regime"].to_list()[0] == "full"


# --- winners, reranking -----------------------------------------------------------------------

def _cat_table():
    rows = []
    data = {  # (regime, category) -> {model: score}
        ("full", "Promoters"): {"A": 0.9, "B": 0.5, "C": 0.1},
        ("full", "Enhancers"): {"A": 0.2, "B": 0.8, "C": 0.8},  # tie B, C
        ("10shot", "Promoters"): {"A": 0.3, "B": 0.6, "C": 0.1},  # rerank
        ("10shot", "Enhancers"): {"A": 0.1, "B": 0.4, "C": 0.4},  # same tie -> no rerank
    }
    for (regime, cat), sc in data.items():
        for m, v in sc.items():
            rows.append({"model": m, "task": f"t-{cat}", "category": cat, "regime": regime, "mcc": v})
    return results_frame(rows)


def test_category_winners_ties_and_rerank_counts():
    w = category_winners(_cat_table())
    full = w.filter(pl.col("regime") == "full")
    enh = full.filter(pl.col("category") == "Enhancers").row(0, named=True)
    assert enh["winners"] == ["B", "C"] and enh["runner_up"] == "A" and enh["margin"] == pytest.approx(0.6)
    pro = full.filter(pl.col("category") == "Promoters").row(0, named=True)
    assert pro["winner"] == "A" and pro["runner_up"] == "B" and pro["margin"] == pytest.approx(0.4)
    rr = reranking(w)
    assert dict(rr.select("category", "reranked").iter_rows()) == {"Promoters": True, "Enhancers": False}
    rc = rerank_counts(w).row(0, named=True)
    assert rc["regime"] == "10shot" and rc["n_reranked"] == 1 and rc["n_categories"] == 2
    assert rc["categories"] == ["Promoters"]


# --- few-shot drops ---------------------------------------------------------------------------

def test_few_shot_drops_and_ceiling_correlation():
    meta = {m: {"params": 1} for m in "ABCD"}
    full = {"A": 0.8, "B": 0.6, "C": 0.4, "D": 0.2}
    k10 = {"A": 0.2, "B": 0.3, "C": 0.3, "D": 0.15}  # drops .6 .3 .1 .05: monotone in the ceiling
    df = pl.concat([one_task_table(full, meta, "full"), one_task_table(k10, meta, "10shot")])
    d = few_shot_drops(df)
    got = dict(d.select("model", "drop").iter_rows())
    assert got == pytest.approx({"A": 0.6, "B": 0.3, "C": 0.1, "D": 0.05})
    assert d.filter(pl.col("model") == "A")["relative_drop"][0] == pytest.approx(0.75)
    c = drop_vs_ceiling(d, min_models=4).row(0, named=True)
    assert c["spearman"] == pytest.approx(1.0) and c["n"] == 4 and c["mean_drop"] == pytest.approx(0.2625)
    few = drop_vs_ceiling(d).row(0, named=True)  # 4 models < the default minimum of 5
    assert few["status"] == "too few models" and math.isnan(few["spearman"]) and few["mean_drop"] == pytest.approx(0.2625)
    assert c["pearson"] == pytest.approx(stats.pearsonr(list(full.values()), [0.6, 0.3, 0.1, 0.05]).statistic)


# --- high variance ----------------------------------------------------------------------------

def test_high_variance_tasks_and_tally():
    rows = []
    t1 = {"A": 0.9, "B": 0.1, "C": 0.5, "D": 0.3}  # std (ddof=1) = 0.3416
    t2 = {"A": 0.50, "B": 0.52, "C": 0.51, "D": 0.49}  # tiny spread
    for task, sc in (("t1", t1), ("t2", t2)):
        for m, v in sc.items():
            rows.append({"model": m, "task": task, "category": "Promoters", "regime": "full", "mcc": v})
    md = pl.DataFrame({"model": list("ABCD"), "pretraining_data": ["human", "multi", "human", "plant"]})
    df = results_frame(rows).join(md, on="model")
    hv = high_variance_tasks(df, threshold=0.12, top_k=3)
    assert hv["task"].to_list() == ["t1"]
    assert hv["std"][0] == pytest.approx(np.std([0.9, 0.1, 0.5, 0.3], ddof=1))
    assert hv["top_models"][0].to_list() == ["A", "C", "D"]
    tally = dict(top_k_tally(hv).select("value", "count").iter_rows())
    assert tally == {"human": 2, "plant": 1}
    # ddof=0 and a higher threshold are parameters
    assert high_variance_tasks(df, threshold=0.3, ddof=0).is_empty()  # population std = 0.2958
    assert high_variance_tasks(df, threshold=0.3, ddof=1).height == 1


# --- group means ------------------------------------------------------------------------------

def test_group_means_any_column():
    meta = {"A": {"architecture": "T-enc", "params": 1}, "B": {"architecture": "T-enc", "params": 1},
            "C": {"architecture": "Mamba", "params": 1}}
    df = one_task_table({"A": 0.2, "B": 0.6, "C": 0.5}, meta)
    g = group_means(df, by="architecture")
    got = {r["group"]: (r["n_models"], r["mean_macro"], r["best_model"]) for r in g.iter_rows(named=True)}
    assert got["T-enc"][0] == 2 and got["T-enc"][1] == pytest.approx(0.4) and got["T-enc"][2] == "B"
    assert got["Mamba"] == (1, pytest.approx(0.5), "C")
    with pytest.raises(AnalysisError, match="no metadata column"):
        group_means(df, by="colour")


def test_group_means_keep_untrained_baselines_apart():
    meta = {"A": {"architecture": "T-enc", "untrained": False}, "R": {"architecture": "T-enc", "untrained": True}}
    g = group_means(one_task_table({"A": 0.6, "R": 0.1}, meta), by="architecture")
    assert dict(g.select("group", "mean_macro").iter_rows()) == pytest.approx({"T-enc": 0.6, "T-enc (untrained)": 0.1})


# --- ranking stability ------------------------------------------------------------------------

def test_ranking_stability_between_regimes_and_protocols():
    meta = {m: {"params": 1} for m in "ABCDE"}
    full = {"A": 0.9, "B": 0.8, "C": 0.7, "D": 0.6, "E": 0.5}
    k10 = {"A": 0.5, "B": 0.6, "C": 0.4, "D": 0.3, "E": 0.2}  # A and B swap
    df = pl.concat([one_task_table(full, meta, "full"), one_task_table(k10, meta, "10shot")])
    st = ranking_stability(df, "regime", "full", "10shot")
    ov = st.filter(pl.col("scope") == "overall").row(0, named=True)
    assert ov["spearman"] == pytest.approx(0.9) and ov["kendall"] == pytest.approx(0.8) and ov["same_top"] is False
    assert st["scope"].to_list() == ["overall", "Promoters"]
    # protocols: the same rows under another protocol name with reversed scores
    other = one_task_table({m: 1 - v for m, v in full.items()}, meta, "full").with_columns(pl.lit("geneb-mlp").alias("protocol"))
    both = pl.concat([one_task_table(full, meta, "full"), other])
    sp = ranking_stability(both, "protocol", "geneb-v1", "geneb-mlp", regime="full")
    assert sp.filter(pl.col("scope") == "overall")["spearman"][0] == pytest.approx(-1.0)
    with pytest.raises(AnalysisError, match="mix protocols"):
        ranking_stability(both, "regime", "full", "10shot")


# --- recommendations --------------------------------------------------------------------------

def test_recommendations_with_budget_and_untrained():
    meta = {"Big": {"params": 1000, "untrained": False}, "Small": {"params": 10, "untrained": False},
            "Rand": {"params": 5, "untrained": True}}
    df = one_task_table({"Big": 0.9, "Small": 0.6, "Rand": 0.95}, meta)
    r = recommendations(df).row(0, named=True)
    assert r["model"] == "Big" and r["runner_up"] == "Small" and r["margin"] == pytest.approx(0.3)
    r2 = recommendations(df, max_params=100).row(0, named=True)
    assert r2["model"] == "Small" and r2["runner_up"] is None
    r3 = recommendations(df, include_untrained=True).row(0, named=True)
    assert r3["model"] == "Rand"
