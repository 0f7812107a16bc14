"""Bootstrap over tasks (category/macro CIs, rank intervals) and over test examples
(per-task MCC CIs, paired comparisons)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import matthews_corrcoef

from geneb.analysis import (
    AnalysisError,
    bootstrap_over_tasks,
    bootstrap_predictions,
    mcc_from_confusion,
    paired_comparison,
)
from geneb.analysis.predictions import resample_weights, resampled_mcc
from geneb.catalog import geneb_tasks
from geneb.testing import results_frame, synthetic_results


def _table():
    tasks = [(t.task_id, t.category) for t in geneb_tasks()[:40]]
    return synthetic_results(["kmer-3", "kmer-4", "kmer-5", "kmer-6"], tasks, regimes=("full",), seeds=(1,), random_state=5)


def test_bootstrap_matches_a_naive_loop():
    df = _table()
    boot = bootstrap_over_tasks(df, n_boot=50, seed=7)
    # naive reference: same draws (same generator, same category order), one resample at a time
    ts = df.group_by("model", "task", "category").agg(pl.col("mcc").mean())
    models = sorted(ts["model"].unique())
    from geneb.analysis.scores import category_order_for

    cats = category_order_for(ts["category"].to_list())
    rng = np.random.default_rng(7)
    draws = {}
    for c in cats:
        tasks_c = sorted(ts.filter(pl.col("category") == c)["task"].unique())
        draws[c] = (tasks_c, rng.integers(0, len(tasks_c), size=(50, len(tasks_c))))
    score = {(m, t): v for m, t, v in ts.select("model", "task", "mcc").iter_rows()}
    macro_boot = np.zeros((len(models), 50))
    for b in range(50):
        for i, m in enumerate(models):
            macro_boot[i, b] = np.mean([np.mean([score[(m, tasks_c[j])] for j in d[b]]) for tasks_c, d in draws.values()])
    lo, hi = np.percentile(macro_boot, [2.5, 97.5], axis=1)
    got = boot.filter(pl.col("scope") == "macro").sort("model")
    assert got["lo"].to_numpy() == pytest.approx(lo)
    assert got["hi"].to_numpy() == pytest.approx(hi)


def test_bootstrap_properties():
    df = _table()
    boot = bootstrap_over_tasks(df, n_boot=200, seed=1)
    assert boot.equals(bootstrap_over_tasks(df, n_boot=200, seed=1))  # deterministic
    assert not boot.equals(bootstrap_over_tasks(df, n_boot=200, seed=2))
    m = boot.filter(pl.col("scope") == "macro")
    assert (m["lo"] <= m["estimate"]).all() and (m["estimate"] <= m["hi"]).all()
    assert m["rank"].is_not_null().all() and (m["rank_lo"] <= m["rank_hi"]).all()
    assert set(boot["scope"].unique()) == {"macro", *df["category"].unique()}


def test_single_task_category_has_zero_width_and_dominant_model_rank_one():
    rows = []
    for m, base in (("top", 0.9), ("mid", 0.5), ("low", 0.1)):
        for i in range(5):
            rows.append({"model": m, "task": f"p{i}", "category": "Promoters", "regime": "full", "mcc": base + 0.01 * i})
        rows.append({"model": m, "task": "e0", "category": "Enhancers", "regime": "full", "mcc": base})
    boot = bootstrap_over_tasks(results_frame(rows), n_boot=100)
    e = boot.filter(pl.col("scope") == "Enhancers")
    assert (e["lo"] == e["hi"]).all()
    top = boot.filter((pl.col("scope") == "macro") & (pl.col("model") == "top")).row(0, named=True)
    assert top["rank"] == top["rank_lo"] == top["rank_hi"] == 1


def test_bootstrap_argument_checks():
    with pytest.raises(AnalysisError, match="n_boot"):
        bootstrap_over_tasks(_table(), n_boot=0)
    with pytest.raises(AnalysisError, match="ci"):
        bootstrap_over_tasks(_table(), ci=1.5)


# --- test-example bootstrap ----------------------------------------------------------------

@pytest.mark.parametrize("k", [2, 3, 5])
def test_mcc_from_confusion_matches_sklearn(k):
    rng = np.random.default_rng(k)
    for _ in range(5):
        yt, yp = rng.integers(0, k, 200), rng.integers(0, k, 200)
        yp[:120] = yt[:120]
        C = np.zeros((k, k), dtype=np.int64)
        np.add.at(C, (yt, yp), 1)
        assert mcc_from_confusion(C) == pytest.approx(matthews_corrcoef(yt, yp), abs=1e-12)
        ones = np.ones((1, 200), dtype=np.float32)
        assert resampled_mcc(yt, yp, ones, k)[0] == pytest.approx(matthews_corrcoef(yt, yp), abs=1e-12)
        # a resample's weights give the MCC of the explicitly resampled examples
        rng2 = np.random.default_rng(k)
        W = resample_weights(200, 3, rng2)
        idx = np.random.default_rng(k).integers(0, 200, size=(3, 200))
        for b in range(3):
            assert resampled_mcc(yt, yp, W[b : b + 1], k)[0] == pytest.approx(matthews_corrcoef(yt[idx[b]], yp[idx[b]]), abs=1e-9)
    # constant prediction -> 0, as sklearn
    assert mcc_from_confusion(np.array([[5, 0], [3, 0]])) == 0.0


def _preds(models: dict[str, list[np.ndarray]], y: np.ndarray, task="t1", regime="full"):
    rows = []
    for m, preds in models.items():
        for seed, p in enumerate(preds):
            rows.append({"model": m, "task": task, "regime": regime, "seed": seed, "protocol": "geneb-v1",
                         "y_true": y.astype(np.int32).tolist(), "y_pred": p.astype(np.int32).tolist()})
    return pl.DataFrame(rows, schema_overrides={"y_true": pl.List(pl.Int32), "y_pred": pl.List(pl.Int32)})


def test_bootstrap_predictions_point_is_mean_over_seeds():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 300)
    p1, p2 = y.copy(), y.copy()
    p1[:60] = rng.integers(0, 3, 60)
    p2[:120] = rng.integers(0, 3, 120)
    out = bootstrap_predictions(_preds({"A": [p1, p2]}, y), n_boot=300).row(0, named=True)
    want = (matthews_corrcoef(y, p1) + matthews_corrcoef(y, p2)) / 2
    assert out["mcc"] == pytest.approx(want) and out["lo"] < want < out["hi"] and out["n_seeds"] == 2


def test_paired_comparison_identical_and_clearly_different():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 400)
    noisy = np.where(rng.random(400) < 0.3, 1 - y, y)
    both = pl.concat([_preds({"good": [y], "same": [y.copy()], "bad": [noisy]}, y, task=t) for t in ("t1", "t2")])
    same = paired_comparison(both, "good", "same", n_boot=200)
    assert same["diff"].to_list() == [0.0, 0.0, 0.0] and same["p"].to_list() == [1.0, 1.0, 1.0]
    diff = paired_comparison(both, "good", "bad", n_boot=200)
    ov = diff.filter(pl.col("task") == "overall").row(0, named=True)
    assert ov["lo"] > 0 and ov["p"] < 0.01 and ov["diff"] == pytest.approx(1 - matthews_corrcoef(y, noisy))
    with pytest.raises(AnalysisError, match="no predictions for model 'nope'"):
        paired_comparison(both, "good", "nope")


def test_paired_comparison_needs_the_same_test_labels():
    y = np.array([0, 1, 0, 1, 1, 0])
    a = _preds({"A": [y]}, y)
    b = _preds({"B": [y]}, 1 - y)
    with pytest.raises(AnalysisError, match="y_true"):
        paired_comparison(pl.concat([a, b]), "A", "B", n_boot=10)
