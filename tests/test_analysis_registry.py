"""The analysis registry and the shared Selection: an analysis added as one entry runs
in `run_analysis` and lands in its tables and summary; every entry owns its tables; one
Selection selects the same models in every analysis."""

from __future__ import annotations

import polars as pl
import pytest

from geneb.analysis import (
    AnalysisOptions,
    Selection,
    category_winners,
    few_shot_drops,
    high_variance_tasks,
    pareto_frontier,
    recommendations,
    run_analysis,
    scale_correlation,
    select_models,
)
from geneb.analysis import registry as reg
from geneb.analysis.load import model_table
from geneb.analysis.metadata import build_metadata
from geneb.testing import synthetic_results


@pytest.fixture(scope="module")
def results() -> pl.DataFrame:
    r = synthetic_results(n_models=10, n_tasks=26, random_state=3)
    return r.join(build_metadata(r["model"].unique().sort().to_list()), on="model", how="left")


def test_an_analysis_is_one_entry(results, monkeypatch):
    """A median-macro analysis defined here, registered by appending one Entry."""

    def tables(ctx: reg.Context) -> reg.Tables:
        ms = ctx.model_scores  # the shared scores, not recomputed
        return {"median_macro": ms.group_by("regime", maintain_order=True).agg(pl.col("macro").median())}

    def summary(ctx: reg.Context) -> dict:
        return {"median_macro": dict(ctx.tables["median_macro"].iter_rows())}

    monkeypatch.setattr(reg, "ANALYSES", (*reg.ANALYSES, reg.Entry("median_macro", tables, summary)))
    a = run_analysis(results, AnalysisOptions(n_boot=0))
    ms = a.tables["model_scores"]
    want = ms.filter(pl.col("regime") == "full")["macro"].median()
    assert a.summary["median_macro"]["full"] == pytest.approx(want)
    assert set(a.summary["median_macro"]) == set(ms["regime"].unique().to_list())


def test_each_table_has_one_owner(results):
    """No entry overwrites another's table; the run's tables are exactly the entries'."""
    ctx = reg.Context(AnalysisOptions(n_boot=20), results, results, None)
    owner: dict[str, str] = {}
    for e in reg.ANALYSES:
        got = e.tables(ctx)
        clash = {k: owner[k] for k in got if k in owner}
        assert not clash, f"{e.name} overwrites {clash}"
        owner.update(dict.fromkeys(got, e.name))
        ctx.tables.update(got)
    names = [e.name for e in reg.ANALYSES]
    assert len(names) == len(set(names))
    assert set(run_analysis(results, AnalysisOptions(n_boot=20)).tables) == set(owner)


def test_selection_value():
    s = Selection(exclude="a", where=["pretraining_data!=prokaryotic"])
    assert s.exclude == ("a",) and s.where == ("pretraining_data!=prokaryotic",)
    assert hash(s) == hash(Selection(exclude=["a"], where=("pretraining_data!=prokaryotic",)))
    assert s.scores_only() == Selection()
    with pytest.raises(TypeError, match="Selection"):
        scale_correlation(pl.DataFrame(), select={"exclude": ["a"]})


def test_one_selection_selects_alike_everywhere(results):
    """The same Selection keeps the same models in every model-level analysis, and they are
    the models select_models keeps."""
    meta = model_table(results)
    where = "architecture!=" + meta["architecture"].drop_nulls()[0]
    drop = meta["model"][1]
    sel = Selection(where=where, exclude=[drop])
    want = set(select_models(meta, where, [drop])["model"].to_list())
    assert drop not in want and 0 < len(want) < meta.height

    assert set(few_shot_drops(results, select=sel)["model"].to_list()) <= want
    assert set(few_shot_drops(results, select=sel)["model"].to_list()) == want
    assert set(pareto_frontier(results, select=sel)["model"].to_list()) <= want
    winners = category_winners(results, select=sel)
    assert set(winners["winner"].to_list()) <= want
    assert set(recommendations(results, select=sel)["model"].to_list()) <= want
    hv = high_variance_tasks(results, threshold=0.0, select=sel)
    assert {m for ms in hv["top_models"].to_list() for m in ms} <= want
    sc = scale_correlation(results, select=sel).row(0, named=True)
    assert drop in sc["excluded"] and set(sc["excluded"]) >= set(meta["model"].to_list()) - want


def test_selection_metric_reaches_the_scores(results):
    """select.metric picks the metric column, as metric= did."""
    a = category_winners(results, select=Selection(metric="mcc"))
    b = category_winners(results, select=Selection(metric="acc"))
    assert a["score"].to_list() != b["score"].to_list()
