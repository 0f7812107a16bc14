"""Named protocols beyond geneb-v1: geneb-robust (standardised, C by stratified CV on
train only) and geneb-mlp (one hidden layer); rows of different protocols coexist in
one table without mixing."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from geneb.catalog import get_protocol
from geneb.probe import GridReport, probe_arrays, run_probes
from geneb.probe.robust import CVLogisticRegression
from geneb.testing import SyntheticTask, make_embeddings, write_synthetic_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
TASK = SyntheticTask("t", n_train=90, n_test=60, dim=8, n_classes=3, separation=1.5, seed=31)


def _arrays():
    a = make_embeddings(TASK)
    return (*a["train"], *a["test"])


def test_robust_is_scale_invariant_unlike_v1():
    Xtr, ytr, Xte, yte = _arrays()
    scale = np.linspace(1, 1000, Xtr.shape[1]).astype(np.float32)
    a = probe_arrays(Xtr, ytr, Xte, yte, protocol="geneb-robust", regimes=["10shot"], backend="sklearn")
    b = probe_arrays(Xtr * scale, ytr, Xte * scale, yte, protocol="geneb-robust", regimes=["10shot"], backend="sklearn")
    assert [r["mcc"] for r in a] == pytest.approx([r["mcc"] for r in b], abs=1e-9)
    c = probe_arrays(Xtr * scale, ytr, Xte * scale, yte, regimes=["full"], backend="sklearn")
    d = probe_arrays(Xtr, ytr, Xte, yte, regimes=["full"], backend="sklearn")
    assert c[0]["mcc"] != d[0]["mcc"]  # geneb-v1 is raw features, as published


def test_robust_cv_picks_C_from_the_grid_on_train_rows_only():
    Xtr, ytr, _, _ = _arrays()
    params = get_protocol("geneb-robust").probe_params
    m = CVLogisticRegression(random_state=13, **params).fit(Xtr, ytr)
    assert m.C_ in params["Cs"] and m.cv_folds_ == 5 and m.cv_scores_.shape == (len(params["Cs"]),)
    assert m.C_ == sorted(params["Cs"])[int(np.argmax(m.cv_scores_))]
    # pure noise features: the heaviest regularisation wins (ties go to the smaller C)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(60, 200)).astype(np.float32)
    yn = np.repeat([0, 1], 30)
    assert CVLogisticRegression(random_state=1, **params).fit(noise, yn).C_ <= 0.1
    # 1-shot: one row per class, no stratified split: the fallback C, recorded as 0 folds
    one = CVLogisticRegression(random_state=1, **params).fit(Xtr[[0, 1, 2]], np.array([0, 1, 2]))
    assert one.cv_folds_ == 0 and one.C_ == params["fallback_C"]


def test_mlp_probe_is_seeded_and_nonlinear():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 2)).astype(np.float32)
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)  # XOR: no linear probe can do it
    Xte = rng.normal(size=(200, 2)).astype(np.float32)
    yte = (Xte[:, 0] * Xte[:, 1] > 0).astype(np.int64)
    mlp = probe_arrays(X, y, Xte, yte, protocol="geneb-mlp", regimes=["full"], backend="sklearn")
    lin = probe_arrays(X, y, Xte, yte, regimes=["full"], backend="sklearn")
    assert min(r["mcc"] for r in mlp) > 0.6 > max(r["mcc"] for r in lin)
    assert len({r["mcc"] for r in mlp}) >= 1 and {r["seed"] for r in mlp} == set(get_protocol("geneb-mlp").seeds)
    again = probe_arrays(X, y, Xte, yte, protocol="geneb-mlp", regimes=["full"], backend="sklearn")
    assert [r["mcc"] for r in again] == [r["mcc"] for r in mlp]


def test_protocols_share_a_table_without_mixing(tmp_path):
    url = str(tmp_path / "s.zarr")
    write_synthetic_store(url, "m", [TASK])
    out = tmp_path / "r.parquet"
    run_probes(url, out, regimes=["1shot"], backend="sklearn", progress=False)
    rep = GridReport()
    table = run_probes(url, out, protocol="geneb-robust", regimes=["1shot"], progress=False, report=rep)
    assert rep.cells_todo == 1  # geneb-v1 rows do not count as done for geneb-robust
    assert table.group_by("protocol").len().sort("protocol")["len"].to_list() == [5, 5]
    assert set(table.filter(pl.col("protocol") == "geneb-robust")["backend"]) == {"sklearn"}
