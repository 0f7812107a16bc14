"""`geneb analyze` end to end: every documented summary key, tables, figures, errors."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest

from geneb.catalog import category_order, geneb_tasks
from geneb.cli import main
from geneb.testing import synthetic_results

MODELS = ["nucleotide-transformer-v2-50m-multi-species", "nucleotide-transformer-v2-100m-multi-species",
          "JanusDNA_72_w", "JanusDNA_72_wo", "GROVER", "evo-1-131k-base", "kmer-3"]


def one_task_per_category():
    seen, out = set(), []
    for t in geneb_tasks():
        if t.category not in seen:
            seen.add(t.category)
            out.append((t.task_id, t.category))
    return out


@pytest.fixture(scope="module")
def results_file(tmp_path_factory) -> Path:
    p = tmp_path_factory.mktemp("res") / "results.parquet"
    synthetic_results(MODELS, one_task_per_category(), seeds=(13, 17)).write_parquet(p)
    return p


def _documented_keys() -> set[str]:
    readme = Path(__file__).resolve().parents[1] / "analysis" / "README.md"
    return set(re.findall(r"^\| `([a-z_0-9]+)` \|", readme.read_text(), flags=re.M))


def test_analyze_writes_summary_tables_and_figures(results_file, tmp_path, capsys):
    out = tmp_path / "an"
    rc = main(["analyze", "--results", str(results_file), "--out", str(out), "--n-boot", "50",
               "--scale-exclude-where", "pretraining_data=prokaryotic", "--pairs-where", "source=geneb"])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text())
    documented = _documented_keys()
    assert documented, "analysis/README.md documents no summary keys"
    assert set(s) <= documented, f"undocumented keys: {set(s) - documented}"
    for key in ("mean_macro", "scale", "pairs", "pareto", "reranks", "high_variance", "recommendations", "uncertainty"):
        assert key in s
    assert s["macro_over_all_categories"] is True and s["macro_categories"]["full"] == list(category_order())
    # the prokaryotic model by filter, the k-mer baseline for having no parameters
    assert s["scale"]["n"] == 5 and s["scale"]["excluded"] == ["evo-1-131k-base", "kmer-3"] and s["scale"]["no_params"] == ["kmer-3"]
    assert s["pairs"]["where"] == ["source=geneb"]
    assert all(m != "kmer-3" for pair in s["pairs"]["pairs"] for m in pair)
    for name in ("model_scores", "leaderboard_full", "pairs", "pareto", "bootstrap", "ablation_effects", "issues"):
        assert (out / "tables" / f"{name}.csv").is_file() and (out / "tables" / f"{name}.md").is_file()
    for fig in ("heatmap", "pareto", "scale", "few_shot_drop", "rerank"):
        assert (out / "figures" / f"{fig}.png").stat().st_size > 1000
        assert (out / "figures" / f"{fig}.svg").read_text().lstrip().startswith("<?xml")
    lb = pl.read_csv(out / "tables" / "leaderboard_full.csv")
    assert lb["rank"].to_list() == sorted(lb["rank"].to_list())
    assert "mean macro full" in capsys.readouterr().out


def test_analyze_is_deterministic(results_file, tmp_path):
    for d in ("a", "b"):
        assert main(["analyze", "--results", str(results_file), "--out", str(tmp_path / d), "--n-boot", "20", "--no-figures"]) == 0
    sa = json.loads((tmp_path / "a" / "summary.json").read_text())
    sb = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert sa == sb


def test_analyze_mixed_protocols_is_a_clear_error(results_file, tmp_path, capsys):
    other = tmp_path / "mlp.parquet"
    pl.read_parquet(results_file).with_columns(pl.lit("geneb-mlp").alias("protocol")).write_parquet(other)
    rc = main(["analyze", "--results", str(results_file), str(other), "--out", str(tmp_path / "x"), "--no-figures"])
    assert rc == 2
    assert "mix protocols" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()  # nothing partial
    # choosing one works; comparing the two protocols' rankings works
    assert main(["analyze", "--results", str(results_file), str(other), "--protocol", "geneb-mlp",
                 "--out", str(tmp_path / "y"), "--no-figures", "--n-boot", "0"]) == 0
    assert main(["analyze", "--results", str(results_file), str(other), "--protocol", "geneb-v1", "--compare-by", "protocol",
                 "--compare", "geneb-v1", "geneb-mlp", "--out", str(tmp_path / "z"), "--no-figures", "--n-boot", "0"]) == 0
    st = json.loads((tmp_path / "z" / "summary.json").read_text())["stability"]
    assert st["spearman"] == pytest.approx(1.0) and st["by"] == "protocol"


def test_analyze_needs_an_input(tmp_path, capsys):
    assert main(["analyze", "--out", str(tmp_path / "x")]) == 2
    assert "--results" in capsys.readouterr().err


def test_every_option_has_help():
    from geneb.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("analyze", "report"):
        for act in sub.choices[name]._actions:
            assert act.help, f"geneb {name} {act.option_strings}: no help"


def test_report_from_an_analysis_directory_matches_direct_report(results_file, tmp_path):
    an = tmp_path / "an"
    assert main(["analyze", "--results", str(results_file), "--out", str(an), "--n-boot", "20", "--no-figures",
                 "--pairs-factor", "2"]) == 0
    assert (an / "analysed_rows.parquet").is_file()
    assert main(["report", "--analysis", str(an), "--out", str(tmp_path / "a.html"), "--no-figures"]) == 0
    assert main(["report", "--results", str(results_file), "--out", str(tmp_path / "b.html"), "--no-figures",
                 "--n-boot", "20", "--pairs-factor", "2"]) == 0
    assert (tmp_path / "a.html").read_text() == (tmp_path / "b.html").read_text()


def test_report_rejects_a_non_analysis_directory(tmp_path, capsys):
    assert main(["report", "--analysis", str(tmp_path), "--out", str(tmp_path / "r.html")]) == 2
    assert "summary.json" in capsys.readouterr().err


def _with_predictions(results_file: Path, tmp_path: Path) -> Path:
    """Copy the results table and add a predictions side file for its full-regime rows."""
    import numpy as np

    df = pl.read_parquet(results_file)
    out = tmp_path / "res.parquet"
    df.write_parquet(out)
    rng = np.random.default_rng(0)
    y = {t: rng.integers(0, 2, 60) for t in df["task"].unique()}
    rows = []
    for model, task, regime, seed, protocol in df.filter(pl.col("regime") == "full").select(
        "model", "task", "regime", "seed", "protocol"
    ).iter_rows():
        flip = rng.random(60) < (0.05 if model == MODELS[0] else 0.4)
        rows.append({"model": model, "task": task, "regime": regime, "seed": seed, "protocol": protocol,
                     "y_true": y[task].tolist(), "y_pred": np.where(flip, 1 - y[task], y[task]).tolist()})
    pl.DataFrame(rows, schema_overrides={"y_true": pl.List(pl.Int32), "y_pred": pl.List(pl.Int32)}).write_parquet(
        tmp_path / "res.preds.parquet")
    return out


def test_analyze_with_predictions_and_paired_comparison(results_file, tmp_path):
    res = _with_predictions(results_file, tmp_path)
    out = tmp_path / "an"
    assert main(["analyze", "--results", str(res), "--out", str(out), "--n-boot", "100", "--no-figures",
                 "--paired", MODELS[0], MODELS[1], "--example-bootstrap"]) == 0
    s = json.loads((out / "summary.json").read_text())
    pc = s["paired_comparison"]
    assert pc["a"] == MODELS[0] and pc["diff"] > 0 and pc["lo"] > 0 and pc["p"] < 0.05
    bp = pl.read_csv(out / "tables" / "bootstrap_predictions.csv")
    assert bp.height == len(MODELS) * 13 and (bp["lo"] <= bp["mcc"]).all() and (bp["mcc"] <= bp["hi"]).all()
    assert (out / "predictions.parquet").is_file()


def test_paired_comparison_without_predictions_is_a_clear_error(results_file, tmp_path, capsys):
    rc = main(["analyze", "--results", str(results_file), "--out", str(tmp_path / "x"), "--no-figures",
               "--paired", MODELS[0], MODELS[1]])
    assert rc == 2 and "preds.parquet" in capsys.readouterr().err


def test_analyze_into_the_results_directory_can_run_twice(results_file, tmp_path):
    d = tmp_path / "work"
    d.mkdir()
    (d / "results.parquet").write_bytes(results_file.read_bytes())
    for _ in range(2):  # the second run must not read analysed_rows.parquet as a results table
        assert main(["analyze", "--results", str(d), "--out", str(d), "--n-boot", "0", "--no-figures"]) == 0


def test_load_predictions_reads_only_what_is_asked(results_file, tmp_path):
    from geneb.analysis import load_predictions

    res = _with_predictions(results_file, tmp_path)
    every = load_predictions(res)
    two = load_predictions(res, models=MODELS[:2], regimes=["full"])
    assert every.height == len(MODELS) * 13 * 2
    assert two.height == 2 * 13 * 2 and set(two["model"]) == set(MODELS[:2])
    assert load_predictions(results_file) is None  # no side file


def test_analyze_geneb_submissions_directory(tmp_path):
    from geneb.analysis import write_submission

    subs = tmp_path / "subs"
    subs.mkdir()
    for i, mid in enumerate(["org/alpha", "org/beta"]):
        res = {r: {t.task_id: {"MCC": round(0.1 * (i + 1) + 0.001 * j, 4), "Acc": 0.5, "F1": 0.5}
                   for j, t in enumerate(geneb_tasks())} for r in ("full", "10shot", "1shot")}
        write_submission(subs, mid, res, {"display": mid.upper(), "params": 10**8 * (i + 1), "zero_shot": False,
                                          "provenance": "self-reported", "submitted_by": "t", "url": "", "training_data": "human"})
    out = tmp_path / "an"
    assert main(["analyze", "--submissions", str(subs), "--out", str(out), "--n-boot", "10", "--no-figures"]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["n_models"] == 2 and s["macro_over_all_categories"] and s["leaders"]["full"] == ["org/beta"]
    assert s["n_tasks"] == {"full": 100, "10shot": 100, "1shot": 100}


def test_unknown_group_by_column_is_an_error(results_file, tmp_path, capsys):
    rc = main(["analyze", "--results", str(results_file), "--out", str(tmp_path / "x"), "--no-figures", "--group-by", "colour"])
    assert rc == 2 and "colour" in capsys.readouterr().err
