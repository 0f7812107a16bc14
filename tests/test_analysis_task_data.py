"""Results from mismatched task data are flagged: task hashes that differ from the
catalog's pinned ones, or from the other ranked models', mark the model as "not the GENEB
data" in the issues, summary.json, the leaderboard tables and the HTML report."""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from geneb.analysis import AnalysisOptions, load_results, run_analysis
from geneb.analysis.checks import check_results, data_fingerprint
from geneb.analysis.submissions import write_submission
from geneb.catalog import geneb_tasks, mini_tasks
from geneb.cli import main
from geneb.data.fingerprint import pinned_hashes
from geneb.report import render_report
from geneb.testing import synthetic_results

MODELS = ["kmer-3", "kmer-4", "GROVER", "MutBERT"]


def _mini(models=MODELS):
    tasks = [(t.task_id, t.category) for t in mini_tasks()]
    return synthetic_results(models, tasks=tasks, seeds=(1,))


def _with_hashes(df, hashes, override=None):
    """task_hash per row: the given task -> hash, with (model, task) -> hash overrides."""
    override = override or {}
    return df.with_columns(
        pl.struct("model", "task").map_elements(
            lambda r: override.get((r["model"], r["task"]), hashes.get(r["task"])), return_dtype=pl.String
        ).alias("task_hash")
    )


def _run(df, tmp_path, name="r.parquet"):
    df.write_parquet(tmp_path / name)
    return run_analysis(load_results(tmp_path / name), AnalysisOptions(n_boot=0))


def test_pinned_hashes_verify_and_a_differing_one_is_flagged_everywhere(tmp_path):
    pins = pinned_hashes()
    bad_task = mini_tasks()[2].task_id
    df = _with_hashes(_mini(), pins, {("GROVER", bad_task): "f" * 64})
    a = _run(df, tmp_path)
    fp = a.tables["data_fingerprint"]
    assert fp.filter(pl.col("flagged"))[["model", "task", "status"]].rows() == [("GROVER", bad_task, "differs-from-pinned")]
    lb = a.tables["leaderboard_full"]
    assert dict(lb.select("model", "task_data").iter_rows()) == {
        "GROVER": "not-geneb-data", "kmer-3": "pinned", "kmer-4": "pinned", "MutBERT": "pinned"}
    s = a.summary["task_data"]
    assert s["status"] == "not-geneb-data" and s["not_geneb_data"] == ["GROVER"] and s["flagged_cells"] == 1
    assert "not the GENEB data" in s["warning"] and s["n_tasks_pinned"] == len(mini_tasks())
    (issue,) = [i for i in a.summary["issues"] if i["kind"] == "not-geneb-data"]
    assert issue["model"] == "GROVER" and "pinned" in issue["detail"] and bad_task in issue["detail"]
    html = render_report(a, figures=False)
    assert 'id="data-warning"' in html and "NOT the GENEB data" in html
    data = json.loads(re.search(r'id="geneb-data">(.*?)</script>', html, re.S).group(1))
    marks = {r["model"]: r["task_data"] for r in data["rows"]["full"]}
    assert marks["GROVER"] == "not-geneb-data" and marks["kmer-3"] == "pinned"


def test_clean_pinned_run_has_no_warning(tmp_path):
    a = _run(_with_hashes(_mini(), pinned_hashes()), tmp_path)
    assert a.summary["task_data"]["status"] == "pinned" and "warning" not in a.summary["task_data"]
    assert not [i for i in a.summary["issues"] if i["kind"] in ("not-geneb-data", "task-data-unverified")]
    assert 'id="data-warning"' not in render_report(a, figures=False)


def test_unpinned_tasks_are_compared_across_models():
    tasks = [t.task_id for t in geneb_tasks()[:6]]
    df = synthetic_results(MODELS, n_tasks=6, seeds=(1,))
    same = {t: f"{i:064x}" for i, t in enumerate(tasks)}
    # one model of four on other data: it alone is flagged
    fp = data_fingerprint(_with_hashes(df, same, {("MutBERT", tasks[1]): "e" * 64}), pins={})
    assert fp.filter(pl.col("flagged"))[["model", "status"]].rows() == [("MutBERT", "differs-across-models")]
    assert set(fp.filter(~pl.col("flagged"))["status"]) == {"unpinned"}
    # two models, two hashes, no majority: both are flagged
    two = df.filter(pl.col("model").is_in(["kmer-3", "kmer-4"]))
    fp = data_fingerprint(_with_hashes(two, same, {("kmer-4", tasks[0]): "e" * 64}), pins={})
    assert sorted(fp.filter(pl.col("flagged"))["model"]) == ["kmer-3", "kmer-4"]
    # one model's rows on one task with two hashes
    mixed = _with_hashes(df, same).with_columns(
        pl.when((pl.col("model") == "GROVER") & (pl.col("task") == tasks[2]) & (pl.col("regime") == "1shot"))
        .then(pl.lit("d" * 64)).otherwise(pl.col("task_hash")).alias("task_hash"))
    fp = data_fingerprint(mixed, pins={})
    assert fp.filter(pl.col("flagged"))[["model", "status"]].rows() == [("GROVER", "mixed-hashes")]
    # a pin decides against a majority
    fp = data_fingerprint(_with_hashes(df, same), pins={tasks[0]: "c" * 64})
    assert set(fp.filter(pl.col("flagged"))["task"]) == {tasks[0]} and fp["flagged"].sum() == 4


def test_rows_without_hashes_are_unverified_not_flagged(tmp_path):
    old = synthetic_results(MODELS, n_tasks=6, seeds=(1,)).drop("storage_dtype", "task_hash")  # an older table
    a = _run(old, tmp_path)
    assert set(a.tables["data_fingerprint"]["status"]) == {"not-recorded"}
    assert a.summary["task_data"]["status"] == "unverified" and not a.summary["task_data"]["not_geneb_data"]
    (i,) = [i for i in a.summary["issues"] if i["kind"] == "task-data-unverified"]
    assert "record no task hash" in i["detail"]
    assert "unverified" in render_report(a, figures=False)


def test_submission_task_hashes_are_compared_with_probe_rows(tmp_path, capsys):
    tasks = [t.task_id for t in geneb_tasks()]
    same = {t: f"{i:064x}" for i, t in enumerate(tasks)}
    rows = _with_hashes(synthetic_results(["kmer-3", "kmer-4"], seeds=(1,)), same)
    rows.write_parquet(tmp_path / "r.parquet")
    scores = {r: {t: {"MCC": 0.5, "Acc": 0.7, "F1": 0.6} for t in tasks} for r in ("full", "10shot", "1shot")}
    other = {**same, tasks[5]: "9" * 64}
    write_submission(tmp_path / "s.json", "GROVER", scores,
                     {"display": "G", "params": 1, "provenance": "self-reported", "task_hashes": other,
                      "storage_dtype": "float32"})
    df = load_results(tmp_path / "r.parquet", submissions=tmp_path / "s.json")
    sub = df.filter(pl.col("model") == "GROVER")
    assert sub.filter(pl.col("task") == tasks[5])["task_hash"].unique().to_list() == ["9" * 64]
    assert set(sub["storage_dtype"]) == {"float32"}
    issues = check_results(df)
    flagged = issues.filter(pl.col("kind") == "not-geneb-data")
    assert flagged["model"].to_list() == ["GROVER"] and "other models'" in flagged["detail"][0]
    # the CLI says so in summary.json
    out = tmp_path / "an"
    assert main(["analyze", "--results", str(tmp_path / "r.parquet"), "--submissions", str(tmp_path / "s.json"),
                 "--out", str(out), "--n-boot", "0", "--no-figures"]) == 0
    assert "WARNING: 1 model(s) scored on task data that is not the GENEB data" in capsys.readouterr().out
    s = json.loads((out / "summary.json").read_text())
    assert s["task_data"]["not_geneb_data"] == ["GROVER"] and "warning" in s["task_data"]
    lb = pl.read_csv(out / "tables" / "leaderboard_full.csv")
    assert dict(lb.select("model", "task_data").iter_rows())["GROVER"] == "not-geneb-data"


def test_malformed_task_hashes_in_a_submission_are_refused(tmp_path):
    from geneb.analysis import AnalysisError

    tasks = [t.task_id for t in geneb_tasks()]
    scores = {"full": {t: {"MCC": 0.5} for t in tasks}}
    write_submission(tmp_path / "s.json", "GROVER", scores, {"task_hashes": ["x"]})
    with pytest.raises(AnalysisError, match="meta.task_hashes must map"):
        load_results(None, submissions=tmp_path / "s.json")
