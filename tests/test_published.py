"""The published GENEB results shipped in the package: intact, equal to the official
leaderboard, the paper reproduced by `--preset paper`, and a user's model ranked among them."""

from __future__ import annotations

import json
import math

import polars as pl
import pytest

from geneb.analysis import AnalysisError, AnalysisOptions, load_results, run_analysis
from geneb.analysis.published import (
    PAPER_NUMBERS,
    official_leaderboard,
    published_files,
    published_manifest,
    published_model_ids,
)
from geneb.analysis.scores import category_scores, model_scores
from geneb.catalog import geneb_tasks, mini_tasks
from geneb.cli import main
from geneb.testing import synthetic_results


@pytest.fixture(scope="module")
def published():
    return load_results(None, published=True)


def test_packaged_files_are_the_published_ones_with_provenance():
    files = published_files()  # checks every git blob hash against the manifest
    man = published_manifest()
    assert man["repository"].endswith("chenkenbio/GENEB") and set(man["commits"]) <= set(files)
    subs = [n for n in files if n.startswith("submissions/")]
    assert len(subs) == 40 and len(published_model_ids()) == 40
    doc = json.loads(files["submissions/MutBERT.json"])
    assert doc["model_id"] == "MutBERT" and set(doc["results"]) == {"full", "10shot", "1shot"}
    assert all(len(doc["results"][r]) == 100 for r in doc["results"])


def test_computed_scores_equal_the_official_leaderboard(published):
    """geneb's aggregation over the packaged submissions gives the official leaderboard.json
    (built by the official tools/build_leaderboard.py) for every model, regime and category."""
    ms = model_scores(published)
    cs = category_scores(published)
    for regime, rows in official_leaderboard().items():
        assert len(rows) == 40
        for row in rows:
            m = ms.filter((pl.col("model") == row["model"]) & (pl.col("regime") == regime)).row(0, named=True)
            assert m["macro"] == pytest.approx(row["macro_MCC"], abs=1e-12)
            assert m["micro"] == pytest.approx(row["micro_MCC"], abs=1e-12)
            got = dict(cs.filter((pl.col("model") == row["model"]) & (pl.col("regime") == regime))
                       .select("category", "score").iter_rows())
            assert got == pytest.approx(row["cat_MCC"], abs=1e-12)


def test_preset_paper_reproduces_every_headline_number(tmp_path, capsys):
    out = tmp_path / "paper"
    assert main(["analyze", "--published", "--preset", "paper", "--n-boot", "0", "--no-figures", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    rows = {r["key"]: r for r in s["paper"]["rows"]}
    assert set(rows) == {n.key for n in PAPER_NUMBERS}
    # each claim, held here independently of the table's own tolerance
    want = {"mean_macro.full": 0.488, "mean_macro.10shot": 0.253, "mean_macro.1shot": 0.106,
            "rho.params_v1": 0.565, "rho.params_v1.no_prokaryotic": 0.686,
            "diff.MutBERT-eccdnamamba_weights": 0.110, "tf_binding.enformer-official-rough": 0.698}
    for key, v in want.items():
        assert round(rows[key]["computed"], 3) == v, key
    assert round(rows["relative_drop.10shot"]["computed"], 2) == 0.48 and round(rows["relative_drop.1shot"]["computed"], 2) == 0.78
    assert rows["pairs.count"]["computed"] == 31 and rows["pairs.n_models"]["computed"] == 36
    assert rows["reranks.10shot"]["computed"] == 8 and rows["reranks.1shot"]["computed"] == 11
    assert s["paper"]["all_match"] is True and all(r["match"] in (True, None) for r in rows.values())
    assert s["paper"]["left_out"] == sorted(["evo-1-131k-base", "PlantCaduceus_l32", "agro-nucleotide-transformer-1b", "DNABERT-S"])
    # the preset's options are the analysis's own: the summary's headline agrees with the table
    assert s["options"]["preset"] == "paper" and s["options"]["param"] == "params_v1"
    assert s["scale"]["rho"] == pytest.approx(rows["rho.params_v1"]["computed"]) and s["pairs"]["count"] == 31
    assert s["winners"]["full"]["TF Binding"] == "enformer-official-rough"
    text = capsys.readouterr().out
    assert "paper vs computed" in text and "DIFFERS" not in text


def test_preset_paper_needs_the_published_results(tmp_path, capsys):
    p = tmp_path / "r.parquet"
    synthetic_results(["GROVER", "MutBERT"], n_tasks=13, seeds=(1,)).write_parquet(p)
    assert main(["analyze", "--results", str(p), "--preset", "paper", "--out", str(tmp_path / "o")]) == 2
    assert "add --published" in capsys.readouterr().err
    # an explicit flag wins over the preset
    out = tmp_path / "p2"
    assert main(["analyze", "--published", "--preset", "paper", "--param", "params", "--n-boot", "0",
                 "--no-figures", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    assert s["scale"]["param"] == "params" and s["paper"]["all_match"] is True


def _my_submission(tmp_path, model_id="my-dna-model", shift=0.01):
    doc = json.loads(published_files()["submissions/MutBERT.json"])
    doc["model_id"], doc["meta"]["display"], doc["meta"]["provenance"] = model_id, "My DNA model", "self-reported"
    doc["meta"]["params"] = 90_000_000
    for tasks in doc["results"].values():
        for m in tasks.values():
            m["MCC"] = min(1.0, m["MCC"] + shift)
    p = tmp_path / f"{model_id}.json"
    p.write_text(json.dumps(doc))
    return p


def test_with_published_ranks_a_user_model_among_the_40(tmp_path):
    sub = _my_submission(tmp_path)
    out = tmp_path / "an"
    assert main(["analyze", "--submissions", str(sub), "--with-published", "--n-boot", "200", "--no-figures", "--out", str(out)]) == 0
    s = json.loads((out / "summary.json").read_text())
    lb = pl.read_csv(out / "tables" / "leaderboard_full.csv")
    assert lb.height == 41 and lb.filter(~pl.col("published"))["model"].to_list() == ["my-dna-model"]
    place = s["published"]["models"]["my-dna-model"]["full"]
    mine = lb.filter(pl.col("model") == "my-dna-model").row(0, named=True)
    assert place["rank"] == mine["rank"] and place["of"] == 41
    # its macro is MutBERT's + 0.01 exactly (every category mean shifts by 0.01, none clipped at 1)
    mut = lb.filter(pl.col("model") == "MutBERT")["macro"][0]
    assert mine["macro"] == pytest.approx(mut + 0.01, abs=1e-9)
    assert place["rank_ci"][0] <= place["rank"] <= place["rank_ci"][1]
    nb = s["published"]["models"]["my-dna-model"]["neighbours"]
    assert {n["side"] for n in nb} == {"above", "below"} and len(nb) == 4
    for n in nb:
        other = lb.filter(pl.col("model") == n["neighbour"])["macro"][0]
        assert n["diff"] == pytest.approx(mine["macro"] - other, abs=1e-9) and n["lo"] <= n["diff"] <= n["hi"]
        assert (other >= mine["macro"]) == (n["side"] == "above")
    assert "ranked among the 40 published" in s["models"]


def test_a_reproduction_ranks_beside_the_published_original(tmp_path):
    sub = _my_submission(tmp_path, model_id="MutBERT", shift=0.0)
    df = load_results(None, submissions=sub, published=True)
    assert df["model"].n_unique() == 41
    assert {"MutBERT", "MutBERT@published"} <= set(df["model"].unique().to_list())
    meta = df.filter(pl.col("model") == "MutBERT@published").row(0, named=True)
    assert meta["published"] and meta["params"] == 86_000_000  # the catalog's metadata follows the rename


def test_only_geneb_task_results_rank_with_the_published(tmp_path):
    mini = [(t.task_id, t.category) for t in mini_tasks()]
    p = tmp_path / "mini.parquet"
    synthetic_results(["kmer-3"], mini, seeds=(1,)).write_parquet(p)
    with pytest.raises(AnalysisError, match=r"kmer-3.*not one of the 100 GENEB tasks"):
        load_results(p, published=True)
    # on GENEB task ids but other data: a task hash that differs from the pinned one (where the
    # catalog pins one) or from the other models' (the GENEB tasks: no pins here) is refused too
    tasks = [(t.task_id, t.category) for t in geneb_tasks()]
    df = synthetic_results(["GROVER", "MutBERT", "DNABERT-S"], tasks, seeds=(1,)).with_columns(
        pl.when((pl.col("model") == "GROVER") & (pl.col("task") == tasks[0][0])).then(pl.lit("e" * 64))
        .otherwise(pl.lit("d" * 64)).alias("task_hash"))
    df.write_parquet(tmp_path / "other.parquet")
    with pytest.raises(AnalysisError, match=r"GROVER.*differs from the other models"):
        load_results(tmp_path / "other.parquet", published=True)


def test_statistics_without_parameter_counts_say_so(tmp_path):
    """The built-in default's models: two k-mer baselines (0 parameters), two untrained nets."""
    df = synthetic_results(["kmer-3", "kmer-4", "GROVER", "MutBERT"], n_tasks=13, seeds=(1,))
    meta = pl.DataFrame({"model": ["GROVER", "MutBERT"], "untrained": [True, True]})
    a = run_analysis(_with_meta(df, tmp_path, meta), AnalysisOptions(n_boot=0))
    s = a.summary
    assert s["scale"]["rho"] is None and s["scale"]["status"] == "too few models" and s["scale"]["n"] == 0
    assert s["scale"]["no_params"] == ["kmer-3", "kmer-4"] and s["scale"]["untrained"] == ["GROVER", "MutBERT"]
    assert s["pairs"]["count"] is None and s["pairs"]["status"] == "too few models" and s["pairs"]["pairs"] == []
    assert s["pareto_status"] == "too few models" and all(v == [] for v in s["pareto"].values())
    note = s["param_counts"]["note"]
    assert "kmer-3" in note and "untrained" in note and "too few models" in note


def _with_meta(df, tmp_path, meta):
    p = tmp_path / "r.parquet"
    df.write_parquet(p)
    meta.write_csv(tmp_path / "meta.csv")
    return load_results(p, metadata_csv=tmp_path / "meta.csv")


def test_min_models_threshold_is_an_option(tmp_path):
    df = synthetic_results(["GROVER", "MutBERT", "DNABERT-S", "JanusDNA_72_w"], n_tasks=13, seeds=(1,))
    res = _with_meta(df, tmp_path, pl.DataFrame({"model": ["GROVER"], "untrained": [False]}))
    assert run_analysis(res, AnalysisOptions(n_boot=0)).summary["scale"]["status"] == "too few models"
    s = run_analysis(res, AnalysisOptions(n_boot=0, min_models=4)).summary
    assert s["scale"]["status"] == "ok" and math.isfinite(s["scale"]["rho"]) and s["pairs"]["count"] is not None
