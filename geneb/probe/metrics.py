"""Per-fit scores: MCC (multiclass form where needed), accuracy, macro-F1.

Computed from one integer confusion matrix with the very floating-point operations
scikit-learn's ``matthews_corrcoef``, ``accuracy_score`` and ``f1_score(average="macro")``
perform (scikit-learn >= 1.3 computes F from tp, fp, fn as below), so the numbers are equal
to the reference harness's, bit for bit, not merely close: every count is an exact integer
in float64, and each score is then the same single division (and square root) of the same
operands. The validation layers around scikit-learn's functions cost about 10 ms a call,
more than many fits; `tests/test_probe_metrics.py` holds this function equal to them.
"""

from __future__ import annotations

import numpy as np

from ..errors import InvalidArgument
from ..results.metrics import mcc_from_confusion


def confusion(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Confusion matrix over the sorted union of labels present (rows: true, columns: predicted),
    as scikit-learn builds it for these metrics."""
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    if len(y_true) != len(y_pred):
        raise InvalidArgument(f"y_true has {len(y_true)} labels but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise InvalidArgument("cannot score an empty test split")
    labels, codes = np.unique(np.concatenate([y_true, y_pred]), return_inverse=True)
    n, k = len(y_true), len(labels)
    return np.bincount(codes[:n] * k + codes[n:], minlength=k * k).reshape(k, k)


def score(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """``{"mcc", "acc", "f1"}`` for one set of test predictions."""
    C = confusion(y_true, y_pred)
    t_sum = C.sum(axis=1, dtype=np.float64)
    p_sum = C.sum(axis=0, dtype=np.float64)
    n_correct = np.trace(C, dtype=np.float64)
    n_samples = p_sum.sum()
    mcc = float(mcc_from_confusion(C))  # matthews_corrcoef
    # accuracy_score: the mean of a boolean vector, i.e. correct / n
    acc = float(n_correct / n_samples)
    # f1_score(average="macro"): per label 2 tp / (true + pred), a label with neither is 0
    tp = np.diag(C).astype(np.float64)
    denom = 1.0 * t_sum + p_sum
    zero = denom == 0
    f = (2.0 * tp) / np.where(zero, 1.0, denom)
    f[zero] = 0.0
    return {"mcc": mcc, "acc": acc, "f1": float(np.mean(f))}


def score_sklearn(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    """The same three scores through scikit-learn's own functions (the reference `score`
    is tested against)."""
    import warnings

    from sklearn.exceptions import UndefinedMetricWarning
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    with warnings.catch_warnings():
        # a constant prediction has MCC 0 and an undefined per-class F1 (0): the reference's values
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message="A single label was found")
        return {
            "mcc": float(matthews_corrcoef(y_true, y_pred)),
            "acc": float(accuracy_score(y_true, y_pred)),
            "f1": float(f1_score(y_true, y_pred, average="macro")),
        }
