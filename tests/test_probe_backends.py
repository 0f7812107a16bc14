"""Backends: torch (and cuML where present) against the scikit-learn reference, the
shared objective, convergence recording, backend selection, and a torch-free probe half."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from geneb.catalog import get_protocol
from geneb.probe import backends as B
from geneb.probe import probe_arrays
from geneb.probe.synthetic import SyntheticTask, make_embeddings

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

PARITY = [
    SyntheticTask("bin", 400, 200, 32, 2, separation=1.2, seed=21),
    SyntheticTask("three", 450, 200, 32, 3, separation=1.5, seed=22),
    SyntheticTask("forty", 800, 400, 48, 40, separation=5.0, seed=23),
]


def _arrays(t):
    a = make_embeddings(t)
    return (*a["train"], *a["test"])


@pytest.mark.parametrize("task", PARITY, ids=lambda t: t.task)
def test_torch_parity_with_sklearn(task):
    pytest.importorskip("torch")
    Xtr, ytr, Xte, yte = _arrays(task)
    ref = probe_arrays(Xtr, ytr, Xte, yte, backend="sklearn")
    got = probe_arrays(Xtr, ytr, Xte, yte, backend="torch")
    assert [(r["regime"], r["seed"], r["n_train"]) for r in ref] == [(r["regime"], r["seed"], r["n_train"]) for r in got]
    compared = 0
    for r, g in zip(ref, got, strict=True):
        assert g["backend"] == "torch" and g["converged"]
        if r["converged"]:
            assert abs(r["mcc"] - g["mcc"]) <= 0.01, (r["regime"], r["seed"], r["mcc"], g["mcc"])
            compared += 1
    assert compared >= 10


@pytest.mark.parametrize("task", PARITY, ids=lambda t: t.task)
def test_torch_minimises_sklearns_objective(task):
    """Same objective (C/n scaling, unpenalised intercept, one weight vector for binary):
    both solved tightly, the coefficients agree."""
    pytest.importorskip("torch")
    from sklearn.linear_model import LogisticRegression

    from geneb.probe.backends.torch_backend import TorchLogisticRegression

    Xtr, ytr, _, _ = _arrays(task)
    X = Xtr.astype(np.float64)
    sk = LogisticRegression(max_iter=20000, tol=1e-10).fit(X, ytr)
    th = TorchLogisticRegression(gtol=1e-9, max_iter=5000).fit(X, ytr)
    assert th.converged_ and th.coef_.shape == sk.coef_.shape
    rel = np.linalg.norm(th.coef_ - sk.coef_) / np.linalg.norm(sk.coef_)
    assert rel < 1e-3, rel
    np.testing.assert_array_equal(th.classes_, sk.classes_)


def test_torch_batch_equals_one_by_one():
    torch = pytest.importorskip("torch")
    from geneb.probe.backends.torch_solver import solve_batch

    Xtr, ytr, _, _ = _arrays(PARITY[1])
    subsets = [np.arange(30), np.arange(40, 100), np.arange(100, 112)]
    X = torch.from_numpy(Xtr).double()
    pad = max(len(s) for s in subsets)
    sel = torch.stack([torch.as_tensor(np.r_[s, np.full(pad - len(s), s[0])]) for s in subsets])
    batch = solve_batch(X[sel], torch.from_numpy(ytr)[sel], torch.tensor([len(s) for s in subsets]), 3, gtol=1e-9)
    for j, s in enumerate(subsets):
        one = solve_batch(X[s][None], torch.from_numpy(ytr[s])[None], torch.tensor([len(s)]), 3, gtol=1e-9)
        np.testing.assert_allclose(batch.coef[j], one.coef[0], rtol=1e-5, atol=1e-6)
    assert batch.converged.all()


@pytest.mark.parametrize("backend", ["sklearn", "torch"])
def test_unconverged_fits_are_recorded(backend):
    if backend == "torch":
        pytest.importorskip("torch")
    Xtr, ytr, Xte, yte = _arrays(PARITY[2])
    proto = get_protocol("geneb-v1")
    short = dataclasses.replace(proto, probe_params={**proto.probe_params, "max_iter": 2})
    if backend == "torch":
        from geneb.probe.backends.torch_backend import TorchBackend

        be = TorchBackend(max_iter=2)
    else:
        be = backend
    rows = probe_arrays(Xtr, ytr, Xte, yte, protocol=short, regimes=["full"], backend=be)
    assert not any(r["converged"] for r in rows)
    ok = probe_arrays(Xtr, ytr, Xte, yte, regimes=["full"], backend="sklearn")
    assert all(r["converged"] for r in ok)


def test_auto_picks_sklearn_on_cpu_and_gpu_backends_when_present(monkeypatch):
    v1, robust = get_protocol("geneb-v1"), get_protocol("geneb-robust")
    monkeypatch.setattr(B, "_nvidia_present", lambda: False)
    assert B.resolve_backend_name("auto", v1) == "sklearn"
    monkeypatch.setattr(B, "_cuml_usable", lambda: True)
    assert B.resolve_backend_name("auto", v1) == "cuml"
    assert B.resolve_backend_name("auto", robust) == "sklearn"  # only sklearn implements it
    monkeypatch.setattr(B, "_cuml_usable", lambda: False)
    monkeypatch.setattr(B, "_cuda_usable_by_torch", lambda: True)
    assert B.resolve_backend_name("auto", v1) == "torch"
    with pytest.raises(ValueError, match="unknown backend 'gpu'"):
        B.resolve_backend_name("gpu", v1)


def test_torch_refuses_protocols_it_does_not_implement():
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="does not implement protocol 'geneb-mlp'"):
        B.get_backend("torch", get_protocol("geneb-mlp"))


def test_cuml_arguments_are_all_pinned():
    from geneb.probe.backends.cuml_backend import cuml_kwargs

    kw = cuml_kwargs(get_protocol("geneb-v1").probe_params)
    # every argument of cuml.linear_model.LogisticRegression (26.x) is set explicitly
    assert set(kw) == {"penalty", "tol", "C", "fit_intercept", "class_weight", "max_iter",
                       "linesearch_max_iter", "l1_ratio", "solver", "lbfgs_memory",
                       "penalty_normalized", "verbose", "output_type"}
    assert (kw["C"], kw["tol"], kw["max_iter"], kw["lbfgs_memory"], kw["linesearch_max_iter"]) == (1.0, 1e-4, 1000, 10, 50)
    assert kw["penalty_normalized"] is True


@pytest.mark.gpu
@pytest.mark.parametrize("task", PARITY, ids=lambda t: t.task)
def test_cuml_parity_with_sklearn(task):
    pytest.importorskip("cuml")
    Xtr, ytr, Xte, yte = _arrays(task)
    ref = probe_arrays(Xtr, ytr, Xte, yte, backend="sklearn")
    got = probe_arrays(Xtr, ytr, Xte, yte, backend="cuml")
    for r, g in zip(ref, got, strict=True):
        if r["converged"]:
            assert abs(r["mcc"] - g["mcc"]) <= 0.01


def test_probe_half_runs_without_torch(tmp_path):
    """torch blocked at import: the store -> probe -> results path still works."""
    code = textwrap.dedent(f"""
        import sys
        class NoTorch:  # as if torch were not installed
            def find_spec(self, name, path=None, target=None):
                if name == "torch" or name.startswith("torch."):
                    raise ImportError("No module named 'torch'")
        sys.meta_path.insert(0, NoTorch())
        import importlib.util
        importlib.util.find_spec = (lambda f: (lambda name, *a: None if name == "torch" else f(name, *a)))(importlib.util.find_spec)
        from geneb.probe import run_probes
        from geneb.probe.synthetic import SyntheticTask, write_synthetic_store
        url = {str(tmp_path / "s.zarr")!r}
        write_synthetic_store(url, "m", [SyntheticTask("t", 60, 30, 8, 2, seed=1)])
        df = run_probes(url, {str(tmp_path / "r.parquet")!r}, progress=False)
        assert df.height == 15 and set(df["backend"]) == {{"sklearn"}}
        try:
            run_probes(url, {str(tmp_path / "r2.parquet")!r}, backend="torch", progress=False)
        except ImportError as e:
            assert "needs PyTorch" in str(e)
        else:
            raise SystemExit("torch backend ran without torch")
        assert "torch" not in sys.modules
    """)
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
