"""The backend contract: a backend turns fit requests on one (model, task) into test
predictions. Estimators follow scikit-learn's contract (``fit`` returns ``self``,
learned state ends in ``_``); ``fit_predict`` may batch many small fits at once."""

from __future__ import annotations

import contextlib
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from ...catalog import ProtocolSpec


@dataclass(frozen=True)
class FitSpec:
    """One fit: train on ``rows`` of the train split (None = all rows) with ``seed``."""

    rows: np.ndarray | None
    seed: int


@dataclass(frozen=True)
class FitOutcome:
    """Test-split predictions of one fit, whether the solver converged, and its cost."""

    y_pred: np.ndarray
    converged: bool
    fit_seconds: float


class Estimator(Protocol):
    classes_: np.ndarray

    def fit(self, X: np.ndarray, y: np.ndarray) -> Estimator: ...

    def predict(self, X: np.ndarray) -> np.ndarray: ...


class Backend:
    """Base class: one estimator per fit, fitted one after the other."""

    name: str = "base"
    #: probe kinds (``ProtocolSpec.probe``) this backend implements.
    probes: frozenset[str] = frozenset()

    def supports(self, protocol: ProtocolSpec) -> bool:
        """Whether this backend computes ``protocol``'s numbers: its probe kind, and the
        protocol names this backend as its solver (geneb-v1 is scikit-learn's only)."""
        return protocol.probe in self.probes and protocol.backend == self.name

    def seed_matters(self, protocol: ProtocolSpec) -> bool:
        """Whether fits that differ only in seed can differ (False lets the runner reuse
        one full-data fit for every seed)."""
        return True

    def make_estimator(self, protocol: ProtocolSpec, seed: int) -> Estimator:
        raise NotImplementedError

    def fit_context(self, first: bool) -> contextlib.AbstractContextManager[Any]:
        """Held around each fit and its prediction; ``first``: the unit's first fit."""
        return contextlib.nullcontext()

    def fit_predict(
        self,
        protocol: ProtocolSpec,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_test: np.ndarray,
        fits: Sequence[FitSpec],
    ) -> list[FitOutcome]:
        """Arrays as `geneb.probe.unit.check_arrays` accepts them (finite, matching shapes)."""
        out = []
        for i, spec in enumerate(fits):
            X = X_train if spec.rows is None else X_train[spec.rows]
            y = y_train if spec.rows is None else y_train[spec.rows]
            est = self.make_estimator(protocol, spec.seed)
            with self.fit_context(first=i == 0):
                t0 = time.perf_counter()
                est, converged = fit_recording_convergence(est, X, y)
                secs = time.perf_counter() - t0
                y_pred = np.asarray(est.predict(X_test))
            out.append(FitOutcome(y_pred, converged, secs))
        return out


def fit_recording_convergence(est: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, bool]:
    """Fit and report convergence: False when the estimator warned that it stopped
    unconverged (e.g. lbfgs reaching max_iter), or says so in ``converged_``."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        # k-shot fits have few rows per class by design; sklearn's "regression?" hint is noise
        warnings.filterwarnings("ignore", message="The number of unique classes is greater than 50%")
        est = est.fit(X, y)
    warned = any(issubclass(w.category, ConvergenceWarning) for w in caught)
    for w in caught:
        if not issubclass(w.category, ConvergenceWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return est, (not warned) and bool(getattr(est, "converged_", True))
