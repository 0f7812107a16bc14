"""cuML backend (GPU): cuML's quasi-Newton logistic regression with every setting
pinned to scikit-learn's objective and lbfgs settings rather than left at cuML's
defaults: L2 penalty normalised by the sample count (scikit-learn's 1/(C n) scaling),
unpenalised intercept, no class weights, L-BFGS memory 10 (scipy's default, cuML's is
5), at most 50 line-search steps (scikit-learn's maxls), the protocol's C, tol and
max_iter. cuML is imported only when this backend is used.

Pinned settings are not the same solver: cuML's quasi-Newton runs in float32 on the GPU
with its own line search and stopping test, so its answers are not scikit-learn's. It
computes the variant protocol ``geneb-v1+cuml`` (never ``geneb-v1``); its deviation
from the reference has not been measured here (no GPU with RAPIDS was available: run
benchmarks/bench_backends.py on one)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ...catalog import ProtocolSpec
from ...errors import InvalidArgument
from .base import Backend

#: cuML arguments that pin its objective and solver to scikit-learn's lbfgs.
PINNED = {
    "penalty": "l2",
    "fit_intercept": True,
    "class_weight": None,
    "l1_ratio": None,
    "solver": "qn",
    "lbfgs_memory": 10,
    "linesearch_max_iter": 50,
    "penalty_normalized": True,
}


def cuml_kwargs(params: dict[str, Any]) -> dict[str, Any]:
    """The full cuML argument set for a protocol's probe_params (no cuML default used)."""
    if params.get("penalty", "l2") != "l2" or not params.get("fit_intercept", True):
        raise InvalidArgument("cuml backend: only the L2 penalty with an intercept is pinned to scikit-learn")
    return {
        **PINNED,
        "C": float(params.get("C", 1.0)),
        "tol": float(params.get("tol", 1e-4)),
        "max_iter": int(params.get("max_iter", 1000)),
        "output_type": "numpy",
        "verbose": False,
    }


class CumlLogisticRegression:
    """scikit-learn-style wrapper: numpy in/out, ``converged_`` from the iteration count."""

    def __init__(self, **params: Any) -> None:
        self.params = params

    def fit(self, X: np.ndarray, y: np.ndarray) -> CumlLogisticRegression:
        from cuml.linear_model import LogisticRegression

        kw = cuml_kwargs(self.params)
        self.model_ = LogisticRegression(**kw).fit(np.ascontiguousarray(X, dtype=np.float32), np.asarray(y))
        self.classes_ = np.asarray(self.model_.classes_)
        n_iter = np.asarray(getattr(self.model_, "n_iter_", [0])).ravel()
        self.n_iter_ = n_iter
        self.converged_ = bool(len(n_iter) == 0 or int(n_iter.max()) < kw["max_iter"])
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return np.asarray(self.model_.predict(np.ascontiguousarray(X, dtype=np.float32)))


class CumlBackend(Backend):
    name = "cuml"
    probes = frozenset({"logreg"})

    def seed_matters(self, protocol: ProtocolSpec) -> bool:
        return False  # quasi-Newton from a zero start: the seed is never read

    def make_estimator(self, protocol: ProtocolSpec, seed: int) -> CumlLogisticRegression:
        return CumlLogisticRegression(**protocol.probe_params)
