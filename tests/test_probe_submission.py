"""`geneb export-submission`: files the leaderboard validator accepts, refusals that
list what is missing, partial exports marked, and the validator's own rules."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from geneb.catalog import get_benchmark, get_protocol
from geneb.cli import main
from geneb.probe.submission import (
    SubmissionError,
    export_submission,
    submission_filename,
    validate_submission,
)
from geneb.probe.table import RESULT_SCHEMA

TASKS = list(get_benchmark("geneb").task_ids)
SEEDS = get_protocol("geneb-v1").seeds


def fake_results(model: str, tasks=TASKS, regimes=("full", "10shot", "1shot"), seeds=SEEDS, protocol="geneb-v1"):
    rng = np.random.default_rng(0)
    rows = []
    for t in tasks:
        for r in regimes:
            for s in seeds:
                rows.append({"model": model, "task": t, "category": "x", "regime": r, "seed": s,
                             "protocol": protocol, "backend": "sklearn", "mcc": float(rng.uniform(-0.2, 0.9)),
                             "acc": float(rng.uniform(0.3, 1)), "f1": float(rng.uniform(0.2, 1)),
                             "n_train": 10, "n_test": 5, "n_classes": 2, "converged": True,
                             "fit_seconds": 0.1, "cache_key": "k"})
    return pl.DataFrame(rows, schema=RESULT_SCHEMA)


@pytest.fixture
def model_id():
    from geneb.catalog import geneb_models

    return geneb_models()[0].model_id


def test_full_export_is_valid_and_rounded(tmp_path, model_id):
    table = fake_results(model_id)
    out = tmp_path / "r.parquet"
    table.write_parquet(out)
    assert main(["export-submission", "--results", str(out), "--out-dir", str(tmp_path / "subs"),
                 "--submitted-by", "tester"]) == 0
    path = tmp_path / "subs" / submission_filename(model_id)
    sub = json.loads(path.read_text())
    assert validate_submission(sub, path.name) == []
    assert sub["harness_version"] and sub["meta"]["provenance"] == "self-reported"
    assert sub["meta"]["submitted_by"] == "tester" and isinstance(sub["meta"]["params"], int)
    assert list(sub["results"]) == ["full", "10shot", "1shot"]
    assert list(sub["results"]["full"]) == TASKS  # official order
    t = TASKS[7]
    want = table.filter(pl.col("task") == t, pl.col("regime") == "10shot")["mcc"].mean()
    assert sub["results"]["10shot"][t]["MCC"] == round(want, 4)
    assert all(len(f"{v['F1']}".split(".")[-1]) <= 4 for v in sub["results"]["1shot"].values())


def test_missing_cells_refused_with_a_list(tmp_path, model_id):
    table = fake_results(model_id, tasks=TASKS[:-2])
    table = pl.concat([table, fake_results(model_id, tasks=TASKS[-2:], seeds=SEEDS[:4])])  # a seed short
    with pytest.raises(SubmissionError, match=r"6 cell\(s\) missing.*full: 2 task\(s\) missing") as e:
        export_submission(table, tmp_path)
    assert TASKS[-1] in str(e.value) and "--allow-partial" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_allow_partial_writes_warns_and_marks(tmp_path, model_id, caplog):
    table = fake_results(model_id, tasks=TASKS[:50])
    (path,) = export_submission(table, tmp_path, allow_partial=True)
    sub = json.loads(path.read_text())
    assert sub["meta"]["partial"] is True and sub["meta"]["missing"] == {"full": 50, "10shot": 50, "1shot": 50}
    assert "PARTIAL" in caplog.text
    assert any("50 task(s) missing" in e for e in validate_submission(sub, path.name))


def test_other_protocols_and_tasks_are_not_exported(tmp_path, model_id):
    table = pl.concat([fake_results(model_id), fake_results(model_id, protocol="geneb-mlp"),
                       fake_results(model_id, tasks=["mini_task"])])
    (path,) = export_submission(table, tmp_path)
    sub = json.loads(path.read_text())
    assert validate_submission(sub, path.name) == []
    v1 = fake_results(model_id)
    t = TASKS[0]
    assert sub["results"]["full"][t]["Acc"] == round(v1.filter(pl.col("task") == t, pl.col("regime") == "full")["acc"].mean(), 4)
    with pytest.raises(FileNotFoundError, match="no such results table"):
        export_submission(tmp_path / "missing.parquet", tmp_path)
    with pytest.raises(SubmissionError, match="no geneb-v1 rows"):
        export_submission(fake_results(model_id, protocol="geneb-mlp"), tmp_path / "x")


def test_unknown_model_needs_meta_and_official_is_refused(tmp_path):
    table = fake_results("my/model v2")
    with pytest.raises(SubmissionError, match="meta.display must be given"):
        export_submission(table, tmp_path)
    (path,) = export_submission(table, tmp_path, meta={"display": "Mine", "params": 1000})
    assert path.name == "my_model_v2.json"
    assert validate_submission(json.loads(path.read_text()), path.name) == []
    with pytest.raises(SubmissionError, match="reserved for the benchmark authors"):
        export_submission(table, tmp_path, meta={"display": "Mine", "params": 1, "provenance": "official"})
    with pytest.raises(SubmissionError, match="no geneb-v1 results for model\\(s\\) other"):
        export_submission(table, tmp_path, models=["other"])


def test_validator_rules():
    good = {"schema_version": "1.0", "model_id": "a/b", "harness_version": "geneb-0.1.0",
            "meta": {"display": "A", "params": 5, "url": "", "zero_shot": False, "training_data": "",
                     "provenance": "self-reported", "submitted_by": ""},
            "results": {r: {t: {"MCC": 0.1, "Acc": 0.5, "F1": 0.5} for t in TASKS} for r in ("full", "10shot", "1shot")}}
    assert validate_submission(good, "a_b.json") == []
    assert submission_filename("a/b c+d.e-f_g") == "a_b_c_d.e-f_g.json"
    cases = [
        ("file name", lambda s: None, "b.json"),
        ("harness_version", lambda s: s.pop("harness_version"), None),
        ("meta.display", lambda s: s["meta"].pop("display"), None),
        ("meta.params", lambda s: s["meta"].update(params=-1), None),
        ("meta.params", lambda s: s["meta"].update(params=True), None),
        ("meta.zero_shot", lambda s: s["meta"].update(zero_shot="no"), None),
        ("meta.provenance", lambda s: s["meta"].update(provenance="mine"), None),
        ("results.1shot is missing", lambda s: s["results"].pop("1shot"), None),
        ("1 task(s) missing", lambda s: s["results"]["full"].pop(TASKS[3]), None),
        ("unknown task", lambda s: s["results"]["10shot"].update(extra={"MCC": 0, "Acc": 0, "F1": 0}), None),
        ("outside [-1, 1]", lambda s: s["results"]["full"][TASKS[0]].update(MCC=1.5), None),
        ("outside [0, 1]", lambda s: s["results"]["full"][TASKS[0]].update(Acc=-0.1), None),
        ("must be a number", lambda s: s["results"]["full"][TASKS[0]].update(F1="0.5"), None),
        ("must be a number", lambda s: s["results"]["full"][TASKS[0]].pop("F1"), None),
    ]
    for needle, mutate, fname in cases:
        bad = json.loads(json.dumps(good))
        mutate(bad)
        errs = validate_submission(bad, fname or "a_b.json")
        assert any(needle in e for e in errs), (needle, errs)


# -- backends: only the reference solver's rows are a geneb-v1 submission --------------------


def _torch_rows(model, legacy=False):
    """geneb-v1+torch rows, or (legacy) torch rows an older geneb labelled geneb-v1."""
    t = fake_results(model, protocol="geneb-v1" if legacy else "geneb-v1+torch")
    return t.with_columns(pl.lit("torch").alias("backend"))


def test_reference_export_names_its_backend(tmp_path, model_id):
    (path,) = export_submission(fake_results(model_id), tmp_path)
    meta = json.loads(path.read_text())["meta"]
    assert meta["backend"] == "sklearn" and "protocol" not in meta


@pytest.mark.parametrize("legacy", [False, True], ids=["variant", "legacy-label"])
def test_torch_rows_are_refused_unless_allowed_then_marked(tmp_path, model_id, legacy):
    table = _torch_rows(model_id, legacy)
    with pytest.raises(SubmissionError, match="--allow-backend torch"):
        export_submission(table, tmp_path / "no")
    assert not (tmp_path / "no").exists()
    (path,) = export_submission(table, tmp_path / "yes", allow_backend="torch")
    sub = json.loads(path.read_text())
    assert sub["meta"]["backend"] == "torch" and sub["meta"]["protocol"] == "geneb-v1+torch"
    assert validate_submission(sub, path.name) == []  # extra meta keys are allowed, as officially
    # same numbers as the rows (mean over seeds, 4 decimals)
    t = TASKS[3]
    want = table.filter(pl.col("task") == t, pl.col("regime") == "full")["mcc"].mean()
    assert sub["results"]["full"][t]["MCC"] == round(want, 4)


def test_mixed_tables_export_only_reference_rows(tmp_path, model_id):
    from geneb.catalog import geneb_models

    other = geneb_models()[1].model_id
    table = pl.concat([fake_results(model_id), _torch_rows(other)])
    paths = export_submission(table, tmp_path)
    assert [p.name for p in paths] == [submission_filename(model_id)]
    with pytest.raises(SubmissionError, match=f"{other} has geneb-v1\\+torch rows only"):
        export_submission(table, tmp_path, [other])
    # a geneb-v1 row from a backend that is not the reference is refused too
    odd = fake_results(model_id).with_columns(pl.lit("mystery").alias("backend"))
    with pytest.raises(SubmissionError, match="backend\\(s\\) \\['mystery'\\]"):
        export_submission(odd, tmp_path)


def test_cli_allow_backend_and_analysis_keeps_it_apart(tmp_path, model_id):
    from geneb.analysis import load_results
    from geneb.analysis.errors import AnalysisError
    from geneb.analysis.scores import model_scores
    from geneb.catalog import geneb_models

    other = geneb_models()[1].model_id
    res = tmp_path / "r.parquet"
    pl.concat([fake_results(model_id), _torch_rows(other)]).write_parquet(res)
    subs = tmp_path / "subs"
    assert main(["export-submission", "--results", str(res), "--out-dir", str(subs)]) == 0
    assert main(["export-submission", "--results", str(res), "--out-dir", str(subs), "--models", other,
                 "--allow-backend", "torch"]) == 0
    loaded = load_results(None, submissions=subs)
    by = dict(loaded.select("model", "protocol").unique().iter_rows())
    assert by == {model_id: "geneb-v1", other: "geneb-v1+torch"}
    with pytest.raises(AnalysisError, match="mix protocols"):
        model_scores(loaded)
    assert set(model_scores(loaded, protocol="geneb-v1")["model"]) == {model_id}


# -- the official metadata, the reserved provenance, task hashes in meta ----------------------


def test_export_writes_the_official_display_and_params(tmp_path):
    from geneb.catalog import get_model

    caduceus = "caduceus-ps_seqlen-131k_d_model-256_n_layer-16"
    (path,) = export_submission(fake_results(caduceus), tmp_path)
    meta = json.loads(path.read_text())["meta"]
    # official benchmark/model_meta.json, not the catalog's current count (kept for analysis)
    assert meta["params"] == 1_930_000 and meta["display"] == "Caduceus-PS-131k-256"
    assert get_model(caduceus).params == 8_000_000
    # analysing the exported file keeps the catalog's counts (and the official display name)
    from geneb.analysis import load_results

    row = load_results(None, submissions=path).row(0, named=True)
    assert (row["params"], row["params_v1"], row["display"]) == (8_000_000, 1_930_000, "Caduceus-PS-131k-256")
    (path,) = export_submission(fake_results("kmer-4"), tmp_path / "k")  # not an official model: the catalog's
    assert json.loads(path.read_text())["meta"]["display"] == get_model("kmer-4").display


def test_shipped_official_meta_is_the_published_one():
    from geneb.probe.submission import official_ids, official_model_meta

    m = official_model_meta()
    assert len(m) == 40 and official_ids() == frozenset(m)
    assert m["eccdnamamba_weights"]["params"] == 1_000_000_000 and m["enformer-official-rough"]["params"] == 250_000_000
    assert m["agro-nucleotide-transformer-1b"]["display"] == "agro-NT-1b"


def test_validator_mirrors_the_official_provenance_and_defaults():
    base = {"schema_version": "1.0", "model_id": "GROVER", "harness_version": "geneb-0.1.0",
            "meta": {"display": "GROVER", "params": 5, "provenance": "official"},
            "results": {r: {t: {"MCC": 1.0000005, "Acc": -1e-7, "F1": 0.5} for t in TASKS} for r in ("full", "10shot", "1shot")}}
    # official ids may claim `official`; missing zero_shot counts as false; 1e-6 range tolerance
    assert validate_submission(base, "GROVER.json") == []
    ext = json.loads(json.dumps(base))
    ext["model_id"] = "my-model"
    assert any("reserved for the benchmark authors" in e for e in validate_submission(ext, "my-model.json"))
    ext["meta"].pop("provenance")  # absent = self-reported
    assert validate_submission(ext, "my-model.json") == []
    ext["results"]["extra"] = {}  # the official validator ignores other regimes
    assert validate_submission(ext, "my-model.json") == []


def test_task_hashes_and_storage_dtype_go_into_meta(tmp_path, model_id, monkeypatch):
    from geneb.data import fingerprint as fp

    hashes = {t: f"{i:064x}" for i, t in enumerate(TASKS)}
    table = fake_results(model_id).with_columns(
        pl.col("task").replace_strict(hashes).alias("task_hash"), pl.lit("float32").alias("storage_dtype"))
    (path,) = export_submission(table, tmp_path)
    sub = json.loads(path.read_text())
    assert sub["meta"]["task_hashes"] == hashes and list(sub["meta"]["task_hashes"]) == TASKS
    assert sub["meta"]["storage_dtype"] == "float32"
    assert validate_submission(sub, path.name) == []
    # rows without hashes (an older geneb): no task_hashes key
    (path,) = export_submission(fake_results(model_id), tmp_path / "old")
    assert "task_hashes" not in json.loads(path.read_text())["meta"]
    # one task computed on two different data sets
    mixed = table.with_columns(pl.when((pl.col("task") == TASKS[4]) & (pl.col("regime") == "1shot"))
                               .then(pl.lit("f" * 64)).otherwise(pl.col("task_hash")).alias("task_hash"))
    with pytest.raises(SubmissionError, match=f"more than one task hash.*{TASKS[4]}"):
        export_submission(mixed, tmp_path / "mixed")
    # a hash that differs from a pinned one is not the GENEB data
    monkeypatch.setattr(fp, "pinned_hashes", lambda: {TASKS[2]: "e" * 64})
    with pytest.raises(SubmissionError, match=f"not the GENEB data.*{TASKS[2]}"):
        export_submission(table, tmp_path / "pinned")
    monkeypatch.setattr(fp, "pinned_hashes", lambda: {TASKS[2]: hashes[TASKS[2]]})
    assert export_submission(table, tmp_path / "ok")
