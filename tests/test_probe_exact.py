"""geneb-v1 through `geneb probe --backend sklearn` equals the reference harness procedure
run inline (scikit-learn, one fit per seed per regime, the same sampling) on stored
embeddings: every seed's MCC, accuracy and F1, exactly, at the same BLAS thread count
(geneb-v1 fits on one BLAS thread, whatever --jobs or the machine's cores)."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

from geneb.cli import main
from geneb.probe import probe_arrays
from geneb.testing import SyntheticTask, make_embeddings, write_synthetic_store

SEEDS = (13, 17, 42, 123, 997)
TASKS = [
    SyntheticTask("bin", n_train=240, n_test=90, dim=24, n_classes=2, separation=2.0, seed=1),
    SyntheticTask("three", n_train=300, n_test=120, dim=32, n_classes=3, separation=2.5, seed=2),
    SyntheticTask("forty", n_train=480, n_test=200, dim=24, n_classes=40, separation=5.0, seed=3),
]


def reference_harness(X_train, y_train, X_test, y_test, blas_threads=1):
    """The published procedure, inline: a fit per seed per regime (on ``blas_threads``)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=blas_threads, user_api="blas"):
        return _reference(X_train, y_train, X_test, y_test)


def _reference(X_train, y_train, X_test, y_test):
    out = {}
    for regime, k in (("full", None), ("10shot", 10), ("1shot", 1)):
        for seed in SEEDS:
            if k is None:
                Xf, yf = X_train, y_train
            else:
                rng = np.random.RandomState(seed)
                idx = np.concatenate([
                    rng.choice(np.where(y_train == c)[0], size=min(k, int((y_train == c).sum())), replace=False)
                    for c in np.unique(y_train)
                ])
                Xf, yf = X_train[idx], y_train[idx]
            clf = LogisticRegression(max_iter=1000, random_state=seed).fit(Xf, yf)
            p = clf.predict(X_test)
            out[(regime, seed)] = (matthews_corrcoef(y_test, p), accuracy_score(y_test, p),
                                   f1_score(y_test, p, average="macro"), len(yf))
    return out


@pytest.fixture(scope="module")
def probed(tmp_path_factory):
    d = tmp_path_factory.mktemp("exact")
    url = str(d / "store.zarr")
    write_synthetic_store(url, "m-f32", TASKS, dtype="float32")
    write_synthetic_store(url, "m-f16", TASKS[1:2], dtype="float16")
    out = d / "results.parquet"
    assert main(["probe", "--store", url, "--out", str(out), "--backend", "sklearn", "--no-progress"]) == 0
    return url, out


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("model,task", [("m-f32", "bin"), ("m-f32", "three"), ("m-f32", "forty"), ("m-f16", "three")])
def test_cli_equals_reference_seed_by_seed(probed, model, task):
    from geneb.store import open_store

    url, out = probed
    st = open_store(url)
    # the reference harness loads float32 .npy arrays; the store hands out float32 too
    X_tr, X_te = st.X(model, task, "train"), st.X(model, task, "test")
    assert X_tr.dtype == np.float32 and X_te.dtype == np.float32
    ref = reference_harness(X_tr, st.y(model, task, "train"), X_te, st.y(model, task, "test"))
    got = pl.read_parquet(out).filter(pl.col("model") == model, pl.col("task") == task)
    assert got.height == 15
    for r in got.iter_rows(named=True):
        mcc, acc, f1, n = ref[(r["regime"], r["seed"])]
        assert (r["mcc"], r["acc"], r["f1"]) == (mcc, acc, f1), (r["regime"], r["seed"])
        assert r["n_train"] == n
        assert r["backend"] == "sklearn" and r["protocol"] == "geneb-v1"
        assert r["cache_key"] == st.cache_key_hash(model, task)
        assert r["blas_threads"] == 1


def test_results_schema_and_predictions(probed):
    from geneb.probe.table import PRED_SCHEMA, RESULT_SCHEMA

    _, out = probed
    res = pl.read_parquet(out)
    assert dict(res.schema) == RESULT_SCHEMA
    preds = pl.read_parquet(out.with_name("results.preds.parquet"))
    assert dict(preds.schema) == PRED_SCHEMA
    assert preds.height == res.height
    joined = res.join(preds, on=["model", "task", "regime", "seed", "protocol"])
    for r in joined.iter_rows(named=True):
        yt, yp = np.array(r["y_true"]), np.array(r["y_pred"])
        assert len(yt) == r["n_test"]
        assert accuracy_score(yt, yp) == r["acc"]
    assert set(res["category"].unique()) == {"unknown"}  # synthetic task ids are not in the catalog


def test_full_fit_shared_across_seeds(probed):
    _, out = probed
    full = pl.read_parquet(out).filter(pl.col("regime") == "full")
    per = full.group_by("model", "task").agg(pl.col("mcc").n_unique().alias("n"))
    assert (per["n"] == 1).all()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_input_dtype_matters_and_float32_is_used():
    """scikit-learn's lbfgs fits float32 input in float32: a float64 upcast is a different
    computation, so equality with the reference requires float32 in (the store's dtype)."""
    arr = make_embeddings(TASKS[1])
    (Xtr, ytr), (Xte, yte) = arr["train"], arr["test"]
    a = LogisticRegression(max_iter=1000).fit(Xtr, ytr)
    b = LogisticRegression(max_iter=1000).fit(Xtr.astype(np.float64), ytr)
    assert a.coef_.dtype == np.float32 and b.coef_.dtype == np.float64
    rows = probe_arrays(Xtr, ytr, Xte, yte, regimes=["full"], backend="sklearn")
    assert rows[0]["y_pred"].tolist() == a.predict(Xte).tolist()


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_numbers_do_not_depend_on_jobs_and_equal_the_reference_at_one_thread(tmp_path):
    """OpenBLAS float32 GEMM sums depend on its thread count (this 5-class shape is
    thread-sensitive on a 2-core box): every fit runs on one BLAS thread, so --jobs 1 and
    --jobs 2 give the same predictions, equal to the reference run on one thread;
    `--blas-threads 0` leaves the environment's count (recorded as null)."""
    from threadpoolctl import threadpool_limits

    from geneb.store import open_store

    url = str(tmp_path / "s.zarr")
    tasks = [SyntheticTask("five", 1000, 200, 256, 5, separation=1.0, seed=4), TASKS[0]]
    write_synthetic_store(url, "m", tasks)
    st = open_store(url)
    Xtr, ytr, Xte = st.X("m", "five", "train"), st.y("m", "five", "train"), st.X("m", "five", "test")
    with threadpool_limits(limits=1, user_api="blas"):
        want = LogisticRegression(max_iter=1000, random_state=13).fit(Xtr, ytr).predict(Xte)
    for jobs in ("1", "2"):
        out = tmp_path / f"r{jobs}.parquet"
        assert main(["probe", "--store", url, "--out", str(out), "--backend", "sklearn", "--jobs", jobs,
                     "--regimes", "full", "--no-progress"]) == 0
        preds = pl.read_parquet(tmp_path / f"r{jobs}.preds.parquet").filter(pl.col("task") == "five")
        assert preds.height == 5
        for row in preds.iter_rows(named=True):
            assert row["y_pred"] == want.tolist(), f"--jobs {jobs}"
        assert pl.read_parquet(out)["blas_threads"].to_list() == [1] * 10
    out = tmp_path / "env.parquet"
    assert main(["probe", "--store", url, "--out", str(out), "--backend", "sklearn", "--blas-threads", "0",
                 "--regimes", "full", "--no-progress"]) == 0
    assert pl.read_parquet(out)["blas_threads"].null_count() == 10
