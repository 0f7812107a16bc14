"""Per-fit scores: MCC (multiclass form where needed), accuracy, macro-F1.

The same scikit-learn functions the reference harness calls, so scores are equal,
not merely close, given equal predictions.
"""

from __future__ import annotations

import warnings

import numpy as np


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``{"mcc", "acc", "f1"}`` for one set of test predictions."""
    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    with warnings.catch_warnings():
        # A constant prediction has MCC 0 and an undefined per-class F1 (0): both are
        # the reference harness's values, so the warnings carry no information here.
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        return {
            "mcc": float(matthews_corrcoef(y_true, y_pred)),
            "acc": float(accuracy_score(y_true, y_pred)),
            "f1": float(f1_score(y_true, y_pred, average="macro")),
        }
