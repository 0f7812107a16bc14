"""The static HTML leaderboard: one self-contained file with data, figures and CIs."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from geneb.analysis import AnalysisOptions, load_results, run_analysis
from geneb.report import build_report, render_report
from geneb.report.tables import to_markdown
from geneb.testing import synthetic_results


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    d = tmp_path_factory.mktemp("rep")
    synthetic_results(["kmer-3", "kmer-4", "GROVER", "MutBERT"], n_tasks=20, seeds=(1,)).write_parquet(d / "r.parquet")
    (d / "meta.csv").write_text("model,untrained\nkmer-4,true\n")
    df = load_results(d / "r.parquet", metadata_csv=d / "meta.csv")
    return run_analysis(df, AnalysisOptions(n_boot=30))


def test_report_is_self_contained(analysis, tmp_path):
    out = build_report(analysis, tmp_path / "report.html")
    html = out.read_text()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "external resource in the page"
    assert "<link" not in html and "cdn" not in html.lower()
    assert html.count('src="data:image/svg+xml;base64,') == 5
    data = json.loads(re.search(r'<script type="application/json" id="geneb-data">(.*?)</script>', html, re.S).group(1))
    assert data["regimes"] == ["full", "10shot", "1shot"]
    full = data["rows"]["full"]
    assert [r["model"] for r in full] == analysis.tables["leaderboard_full"]["model"].to_list()
    assert all(r["macro_ci"][0] <= r["macro"] <= r["macro_ci"][1] for r in full)
    assert next(r for r in full if r["model"] == "kmer-4")["untrained"] is True
    assert "untrained baselines (kmer-4)" in html
    assert 'id="stability"' in html and "full vs 10shot" in html


def test_report_escapes_script_breaking_text(analysis):
    a = analysis
    t = dict(a.tables)
    t["leaderboard_full"] = t["leaderboard_full"].with_columns(pl.lit("</script><b>x").alias("architecture"))
    html = render_report(type(a)(tables=t, summary=a.summary, options=a.options), figures=False)
    assert "</script><b>x" not in html


def test_markdown_table():
    md = to_markdown(pl.DataFrame({"a": [1.23456, None], "b": [["x", "y"], []], "c": ["p|q", "r"]}))
    assert md.splitlines()[0] == "| a | b | c |"
    assert "| 1.235 | x; y | p\\|q |" in md


def test_report_shows_ablation_effects(tmp_path):
    synthetic_results(["kmer-3", "GROVER"], n_tasks=35, seeds=(1,)).write_parquet(tmp_path / "r.parquet")
    (tmp_path / "abl.toml").write_text('[kmer-to-grover]\nfactor = "pretraining"\na = "kmer-3"\nb = "GROVER"\n')
    a = run_analysis(load_results(tmp_path / "r.parquet"), AnalysisOptions(n_boot=0, ablation_files=[str(tmp_path / "abl.toml")]))
    from geneb.report.html import ablation_grid

    grid = ablation_grid(a)
    row = next(r for r in grid["rows"] if r["id"] == "kmer-to-grover")
    eff = a.tables["ablation_effects"].filter((pl.col("ablation") == "kmer-to-grover") & (pl.col("regime") == "full"))
    assert dict(zip(grid["columns"], row["cells"], strict=True)) == pytest.approx(dict(eff.select("category", "diff").iter_rows()))
    assert row["a"] == "3-mer frequencies" and row["b"] == "GROVER"
    html = render_report(a, figures=False)
    assert 'id="ablations"' in html and "kmer-to-grover" in html
