"""The `geneb-robust` probe: standardised features, C chosen by stratified k-fold
cross-validation on the training rows only (never the test split), scored by MCC.

A scikit-learn style estimator (``fit`` returns ``self``; ``C_``, ``cv_scores_``,
``converged_`` learned). When the smallest class has fewer than two rows (1-shot) no
stratified split exists, and ``fallback_C`` is used; ``cv_folds_`` records 0 then.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np

from ..errors import InvalidArgument


class CVLogisticRegression:
    """StandardScaler + L2 logistic regression with C picked by stratified CV on MCC."""

    def __init__(
        self,
        Cs: Sequence[float] = (0.001, 0.01, 0.1, 1.0, 10.0, 100.0),
        cv_folds: int = 5,
        max_iter: int = 1000,
        tol: float = 1e-4,
        fallback_C: float = 1.0,
        random_state: int | None = None,
    ) -> None:
        self.Cs = Cs
        self.cv_folds = cv_folds
        self.max_iter = max_iter
        self.tol = tol
        self.fallback_C = fallback_C
        self.random_state = random_state

    def _model(self, C: float):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        lr = LogisticRegression(C=C, max_iter=self.max_iter, tol=self.tol, random_state=self.random_state)
        return make_pipeline(StandardScaler(), lr)

    def fit(self, X: np.ndarray, y: np.ndarray) -> CVLogisticRegression:
        from threadpoolctl import threadpool_limits

        # many small fits: threads cost more than they save (and far more on a busy box)
        if np.asarray(X).size < 2_000_000:
            with threadpool_limits(limits=1):
                return self._fit(X, y)
        return self._fit(X, y)

    def _fit(self, X: np.ndarray, y: np.ndarray) -> CVLogisticRegression:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.metrics import matthews_corrcoef
        from sklearn.model_selection import StratifiedKFold

        y = np.asarray(y)
        Cs = sorted(float(c) for c in self.Cs)
        if not Cs:
            raise InvalidArgument("geneb-robust: Cs is empty")
        _, counts = np.unique(y, return_counts=True)
        folds = min(int(self.cv_folds), int(counts.min()))
        converged = True
        scores = np.full(len(Cs), np.nan)
        if folds >= 2:
            skf = StratifiedKFold(n_splits=folds, shuffle=True, random_state=self.random_state)
            per_fold = np.zeros((folds, len(Cs)))
            for f, (tr, va) in enumerate(skf.split(X, y)):
                for j, C in enumerate(Cs):
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always", ConvergenceWarning)
                        m = self._model(C).fit(X[tr], y[tr])
                    converged &= not any(issubclass(w.category, ConvergenceWarning) for w in caught)
                    per_fold[f, j] = matthews_corrcoef(y[va], m.predict(X[va]))
            scores = per_fold.mean(axis=0)
            best = Cs[int(np.argmax(scores))]  # first maximum: the smallest C (most regularised)
        else:
            best = float(self.fallback_C)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            self.model_ = self._model(best).fit(X, y)
        converged &= not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        self.C_ = best
        self.cv_folds_ = folds if folds >= 2 else 0
        self.cv_scores_ = scores
        self.converged_ = converged
        self.classes_ = self.model_.classes_
        return self

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.model_.predict(X)
