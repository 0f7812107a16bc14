"""Aggregation on a hand-made table; every expected number is worked out by hand."""

from __future__ import annotations

import polars as pl
import pytest

from geneb.analysis import (
    AnalysisError,
    category_scores,
    leaderboard,
    load_results,
    model_scores,
    regime_summary,
    task_scores,
)
from geneb.testing import results_frame

# Two categories: Promoters = {t1, t2}, Enhancers = {t3}.
CAT = {"t1": "Promoters", "t2": "Promoters", "t3": "Enhancers"}


def _rows(model, regime, scores):
    out = []
    for task, vals in scores.items():
        for seed, v in enumerate(vals if isinstance(vals, list) else [vals]):
            out.append({"model": model, "task": task, "category": CAT[task], "regime": regime, "seed": seed, "mcc": v})
    return out


def hand_table() -> pl.DataFrame:
    rows = (
        _rows("A", "full", {"t1": [0.2, 0.4], "t2": 0.5, "t3": 0.9})  # cat: P 0.4, E 0.9 -> macro 0.65, micro 0.5667
        + _rows("B", "full", {"t1": 0.6, "t2": 0.6, "t3": 0.1})  # P 0.6, E 0.1 -> macro 0.35, micro 0.4333
        + _rows("A", "10shot", {"t1": 0.1, "t2": 0.1, "t3": 0.1})  # macro 0.1
        + _rows("B", "10shot", {"t1": 0.3, "t2": 0.1, "t3": 0.2})  # P 0.2, E 0.2 -> macro 0.2
    )
    return results_frame(rows)


def test_task_scores_mean_over_seeds():
    ts = task_scores(hand_table())
    a1 = ts.filter((pl.col("model") == "A") & (pl.col("task") == "t1") & (pl.col("regime") == "full"))
    assert a1["score"][0] == pytest.approx(0.3)
    assert a1["n_seeds"][0] == 2
    assert a1["seed_std"][0] == pytest.approx(0.1414213, abs=1e-6)


def test_category_and_macro_micro_by_hand():
    cs = category_scores(hand_table()).filter(pl.col("regime") == "full")
    got = {(m, c): s for m, c, s in cs.select("model", "category", "score").iter_rows()}
    assert got[("A", "Promoters")] == pytest.approx(0.4)
    assert got[("A", "Enhancers")] == pytest.approx(0.9)
    assert got[("B", "Promoters")] == pytest.approx(0.6)
    ms = model_scores(hand_table())
    full = {m: (mac, mic, r) for m, mac, mic, r in ms.filter(pl.col("regime") == "full").select("model", "macro", "micro", "rank").iter_rows()}
    assert full["A"][0] == pytest.approx(0.65) and full["A"][1] == pytest.approx(1.7 / 3) and full["A"][2] == 1
    assert full["B"][0] == pytest.approx(0.35) and full["B"][1] == pytest.approx(1.3 / 3) and full["B"][2] == 2
    k10 = {m: r for m, r in ms.filter(pl.col("regime") == "10shot").select("model", "rank").iter_rows()}
    assert k10 == {"A": 2, "B": 1}
    assert set(ms["n_categories"].to_list()) == {2}


def test_macro_weights_categories_not_tasks():
    # micro would favour a model strong on the big category; macro does not.
    ms = model_scores(hand_table()).filter(pl.col("regime") == "full")
    a = ms.filter(pl.col("model") == "A").row(0, named=True)
    assert a["macro"] != pytest.approx(a["micro"])


def test_regime_summary_mean_and_relative_drop():
    rs = regime_summary(hand_table())
    got = {r: (m, d, rd) for r, m, d, rd in rs.select("regime", "mean_macro", "drop", "relative_drop").iter_rows()}
    assert rs["regime"].to_list() == ["full", "10shot"]
    assert got["full"][0] == pytest.approx(0.5)
    assert got["10shot"][0] == pytest.approx(0.15)
    assert got["10shot"][1] == pytest.approx(0.35)
    assert got["10shot"][2] == pytest.approx(0.7)


def test_incomplete_model_gets_no_macro_and_no_rank():
    df = pl.concat([hand_table(), results_frame(_rows("C", "full", {"t1": 0.99, "t2": 0.99}))])
    ms = model_scores(df).filter(pl.col("regime") == "full")
    c = ms.filter(pl.col("model") == "C").row(0, named=True)
    assert c["macro"] is None and c["rank"] is None and c["complete"] is False
    assert ms.filter(pl.col("model") == "A")["rank"][0] == 1
    # opting out of completeness averages what the model has
    loose = model_scores(df, require_complete=False).filter((pl.col("regime") == "full") & (pl.col("model") == "C"))
    assert loose["macro"][0] == pytest.approx(0.99) and loose["n_categories"][0] == 1


def test_ties_share_the_lower_rank():
    rows = _rows("A", "full", {"t1": 0.5, "t2": 0.5, "t3": 0.5}) + _rows("B", "full", {"t1": 0.5, "t2": 0.5, "t3": 0.5}) + _rows(
        "C", "full", {"t1": 0.1, "t2": 0.1, "t3": 0.1})
    ms = model_scores(results_frame(rows))
    assert dict(ms.select("model", "rank").iter_rows()) == {"A": 1, "B": 1, "C": 3}


def test_mixed_protocols_refuse_to_rank_and_protocol_selects():
    other = hand_table().with_columns(pl.lit("geneb-mlp").alias("protocol"), pl.col("mcc") * 0.5)
    df = pl.concat([hand_table(), other])
    with pytest.raises(AnalysisError, match="mix protocols"):
        model_scores(df)
    ms = model_scores(df, protocol="geneb-mlp").filter(pl.col("regime") == "full")
    assert ms.filter(pl.col("model") == "A")["macro"][0] == pytest.approx(0.325)


def test_leaderboard_wide_has_category_columns_in_official_order(tmp_path):
    p = tmp_path / "r.parquet"
    hand_table().write_parquet(p)
    df = load_results(p)
    lb = leaderboard(df, "full")
    assert lb["model"].to_list() == ["A", "B"]
    cols = lb.columns
    assert cols.index("Promoters") < cols.index("Enhancers")  # official order, not alphabetical
    assert lb["Enhancers"].to_list() == pytest.approx([0.9, 0.1])


def test_unknown_metric_is_an_error():
    with pytest.raises(AnalysisError, match="unknown metric"):
        task_scores(hand_table(), metric="auc")
