"""Loading results tables, GENEB submissions and metadata; every user error names its file."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from geneb.analysis import (
    AnalysisError,
    category_scores,
    check_results,
    load_results,
    model_scores,
    submission_filename,
    write_submission,
)
from geneb.catalog import category_order, geneb_tasks
from geneb.testing import results_frame, synthetic_results


def _small(models=("kmer-3", "kmer-4"), regimes=("full", "10shot")):
    tasks = [(t.task_id, t.category) for t in geneb_tasks()[:4]]
    return synthetic_results(list(models), tasks, regimes=regimes, seeds=(13, 17))


def test_load_file_and_directory_with_catalog_metadata(tmp_path):
    _small().write_parquet(tmp_path / "a.parquet")
    _small(("kmer-5",)).write_parquet(tmp_path / "b.parquet")
    df = load_results(tmp_path)
    assert sorted(df["model"].unique()) == ["kmer-3", "kmer-4", "kmer-5"]
    assert {"params", "architecture", "pretraining_data", "untrained", "display", "input"} <= set(df.columns)
    assert df.filter(pl.col("model") == "kmer-3")["display"][0] == "3-mer frequencies"


def test_missing_column_names_the_file(tmp_path):
    p = tmp_path / "bad.parquet"
    _small().drop("mcc").write_parquet(p)
    with pytest.raises(AnalysisError, match=r"bad\.parquet.*mcc"):
        load_results(p)


def test_missing_path_is_clear(tmp_path):
    with pytest.raises(AnalysisError, match="not found"):
        load_results(tmp_path / "nope.parquet")
    with pytest.raises(AnalysisError, match="no \\*.parquet"):
        load_results(tmp_path)


def test_duplicate_rows_across_files_name_both_files(tmp_path):
    _small().write_parquet(tmp_path / "one.parquet")
    _small().write_parquet(tmp_path / "two.parquet")
    with pytest.raises(AnalysisError, match=r"duplicate results.*one\.parquet.*two\.parquet"):
        load_results(tmp_path)


def test_unknown_category_and_wrong_category_are_errors(tmp_path):
    p = tmp_path / "r.parquet"
    results_frame([{"model": "m", "task": "x", "category": "Nonsense", "regime": "full", "mcc": 0.1}]).write_parquet(p)
    with pytest.raises(AnalysisError, match=r"r\.parquet.*unknown category 'Nonsense'"):
        load_results(p)
    t = geneb_tasks()[0]
    wrong = "Promoters" if t.category != "Promoters" else "Enhancers"
    results_frame([{"model": "m", "task": t.task_id, "category": wrong, "regime": "full", "mcc": 0.1}]).write_parquet(p)
    with pytest.raises(AnalysisError, match="catalog says"):
        load_results(p)


def test_protocol_filter_and_mixed_protocols(tmp_path):
    a = _small()
    b = _small().with_columns(pl.lit("geneb-mlp").alias("protocol"))
    a.write_parquet(tmp_path / "a.parquet")
    b.write_parquet(tmp_path / "b.parquet")
    df = load_results(tmp_path)
    assert check_results(df).filter(pl.col("kind") == "mixed-protocols").height == 1
    with pytest.raises(AnalysisError, match="mix protocols"):
        model_scores(df)
    assert load_results(tmp_path, protocol="geneb-mlp")["protocol"].unique().to_list() == ["geneb-mlp"]
    with pytest.raises(AnalysisError, match="no rows with protocol 'x'"):
        load_results(tmp_path, protocol="x")


def test_metadata_csv_overrides_and_extends(tmp_path):
    p = tmp_path / "r.parquet"
    rows = [{"model": m, "task": "my-task", "category": "Promoters", "regime": "full", "mcc": v} for m, v in (("kmer-3", 0.2), ("path:/x/my-bert", 0.5))]
    results_frame(rows).write_parquet(p)
    csv = tmp_path / "meta.csv"
    csv.write_text("model,params,architecture,lab\npath:/x/my-bert,123000000,T-enc,ours\nkmer-3,1,k-mer counts,\n")
    df = load_results(p, metadata_csv=csv)
    mine = df.filter(pl.col("model") == "path:/x/my-bert").row(0, named=True)
    assert mine["params"] == 123_000_000 and mine["architecture"] == "T-enc" and mine["lab"] == "ours"
    assert df.filter(pl.col("model") == "kmer-3")["params"][0] == 1  # overrides the catalog's 0
    kinds = set(check_results(df)["kind"].to_list())
    assert "unknown-task" in kinds


def test_metadata_csv_errors_name_the_file(tmp_path):
    p = tmp_path / "r.parquet"
    _small().write_parquet(p)
    bad = tmp_path / "m.csv"
    bad.write_text("name,params\nx,1\n")
    with pytest.raises(AnalysisError, match=r"m\.csv.*'model'"):
        load_results(p, metadata_csv=bad)
    bad.write_text("model,params\nx,1\nx,2\n")
    with pytest.raises(AnalysisError, match=r"m\.csv.*duplicate"):
        load_results(p, metadata_csv=bad)
    bad.write_text("model,params\nx,lots\n")
    with pytest.raises(AnalysisError, match=r"m\.csv.*params"):
        load_results(p, metadata_csv=bad)
    bad.write_text("model,mcc\nx,1\n")
    with pytest.raises(AnalysisError, match="clash"):
        load_results(p, metadata_csv=bad)


def test_check_results_reports_missing_regimes_and_tasks(tmp_path):
    df = pl.concat([_small(("kmer-3",)), _small(("kmer-4",), regimes=("full",))])
    df = df.filter(~((pl.col("model") == "kmer-3") & (pl.col("task") == geneb_tasks()[0].task_id) & (pl.col("regime") == "full")))
    p = tmp_path / "r.parquet"
    df.write_parquet(p)
    issues = check_results(load_results(p))
    got = {(k, m, r) for k, m, r in issues.select("kind", "model", "regime").iter_rows()}
    assert ("missing-regime", "kmer-4", "10shot") in got
    assert ("missing-tasks", "kmer-3", "full") in got


def test_check_results_flags_regimes_over_different_categories(tmp_path):
    rows = [{"model": "m", "task": "a", "category": "Promoters", "regime": "full", "mcc": 0.5},
            {"model": "m", "task": "b", "category": "Enhancers", "regime": "full", "mcc": 0.5},
            {"model": "m", "task": "a", "category": "Promoters", "regime": "10shot", "mcc": 0.2}]
    issues = check_results(results_frame(rows))
    assert "category-sets-differ" in issues["kind"].to_list()


# --- GENEB submissions --------------------------------------------------------------------

def _write_submissions(directory, n_models=3, seed=0):
    """A generated directory of valid GENEB submissions covering all 100 tasks x 3 regimes."""
    rng = np.random.default_rng(seed)
    tasks = geneb_tasks()
    truth = {}
    for i in range(n_models):
        mid = f"lab/new-model-{i}"
        res = {}
        for regime in ("full", "10shot", "1shot"):
            res[regime] = {}
            for t in tasks:
                v = round(float(rng.uniform(-0.2, 0.9)), 4)
                res[regime][t.task_id] = {"MCC": v, "Acc": 0.5, "F1": 0.5}
                truth[(mid, regime, t.task_id)] = v
        write_submission(directory, mid, res, {"display": f"New {i}", "params": (i + 1) * 10**8, "url": "",
                                               "zero_shot": False, "training_data": "human",
                                               "provenance": "self-reported", "submitted_by": "test"})
    return truth


def test_submission_import_matches_published_aggregation_rule(tmp_path):
    truth = _write_submissions(tmp_path)
    assert (tmp_path / submission_filename("lab/new-model-0")).is_file()
    assert submission_filename("lab/new-model-0") == "lab_new-model-0.json"
    df = load_results(None, submissions=tmp_path)
    cs = category_scores(df)
    ms = model_scores(df)
    cat_of = {t.task_id: t.category for t in geneb_tasks()}
    for (mid, regime) in {(m, r) for m, r, _ in truth}:
        # the rule, computed independently: category mean of tasks, macro mean of 13 categories
        per_cat = {c: np.mean([v for (m, r, t), v in truth.items() if m == mid and r == regime and cat_of[t] == c]) for c in category_order()}
        got = dict(cs.filter((pl.col("model") == mid) & (pl.col("regime") == regime)).select("category", "score").iter_rows())
        assert got == pytest.approx(per_cat, abs=1e-12)
        macro = ms.filter((pl.col("model") == mid) & (pl.col("regime") == regime))["macro"][0]
        assert macro == pytest.approx(np.mean(list(per_cat.values())), abs=1e-12)
        assert ms.filter((pl.col("model") == mid) & (pl.col("regime") == regime))["n_categories"][0] == 13
    meta = df.filter(pl.col("model") == "lab/new-model-2").row(0, named=True)
    assert meta["params"] == 3 * 10**8 and meta["display"] == "New 2" and meta["pretraining_data"] == "human"
    assert meta["source"] == "submission"


def test_submission_errors_name_the_file(tmp_path):
    _write_submissions(tmp_path, n_models=1)
    f = next(tmp_path.glob("*.json"))
    doc = json.loads(f.read_text())
    doc["results"]["full"]["not-a-task"] = {"MCC": 0.1, "Acc": 0.5, "F1": 0.5}
    f.write_text(json.dumps(doc))
    with pytest.raises(AnalysisError, match=rf"{f.name}.*unknown task id.*not-a-task"):
        load_results(None, submissions=f)
    del doc["results"]["full"]["not-a-task"]
    doc["results"]["full"][geneb_tasks()[0].task_id]["MCC"] = 1.5
    f.write_text(json.dumps(doc))
    with pytest.raises(AnalysisError, match=rf"{f.name}.*outside \[-1, 1\]"):
        load_results(None, submissions=f)
    f.write_text("{not json")
    with pytest.raises(AnalysisError, match=rf"{f.name}.*not valid JSON"):
        load_results(None, submissions=f)


def test_duplicate_model_across_submission_files(tmp_path):
    _write_submissions(tmp_path, n_models=1)
    f = next(tmp_path.glob("*.json"))
    (tmp_path / "copy.json").write_text(f.read_text())
    with pytest.raises(AnalysisError, match="duplicate model 'lab/new-model-0'"):
        load_results(None, submissions=tmp_path)


def test_submission_and_results_of_same_model_are_duplicates(tmp_path):
    (tmp_path / "subs").mkdir()
    _write_submissions(tmp_path / "subs", n_models=1)
    df = load_results(None, submissions=tmp_path / "subs")
    # the same rows again as a results table (seed null, same protocol) collide
    p = tmp_path / "r.parquet"
    df.select(pl.exclude("input", "display", "params", "params_v1", "architecture", "tokenization", "pretraining_data",
                         "family", "untrained", "source")).write_parquet(p)
    with pytest.raises(AnalysisError, match="duplicate model 'lab/new-model-0'"):
        load_results(p, submissions=tmp_path / "subs")


def test_submission_and_per_seed_results_of_one_model_are_a_duplicate(tmp_path):
    (tmp_path / "subs").mkdir()
    _write_submissions(tmp_path / "subs", n_models=1)
    tasks = [(t.task_id, t.category) for t in geneb_tasks()[:3]]
    p = tmp_path / "r.parquet"
    synthetic_results(["lab/new-model-0"], tasks, seeds=(13, 17)).write_parquet(p)
    with pytest.raises(AnalysisError, match=r"duplicate model 'lab/new-model-0'.*r\.parquet.*lab_new-model-0\.json"):
        load_results(p, submissions=tmp_path / "subs")


def test_public_entry_point_and_no_torch():
    import subprocess
    import sys

    import geneb
    from geneb.analysis import load_results as lr

    assert geneb.load_results is lr
    code = ("import sys, geneb.analysis, geneb.report, geneb.cli.analyze_cmd; "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; print(bad); sys.exit(bool(bad))")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode == 0
