"""geneb's scores equal scikit-learn's matthews_corrcoef, accuracy_score and
f1_score(average="macro") bit for bit (the reference harness calls those), over random
label vectors of every shape the grid meets: binary and multiclass, labels missing from
the predictions or only in them, constant predictions, unsorted and non-contiguous labels,
and test splits large enough that the MCC's products round."""

from __future__ import annotations

import numpy as np
import pytest

from geneb.probe.metrics import confusion, score, score_sklearn


def _cases(rng: np.random.Generator):
    for n in (1, 2, 3, 7, 50, 333, 4096):
        for k in (1, 2, 3, 5, 40):
            y = rng.integers(0, k, n)
            yield y, rng.integers(0, k, n)  # unrelated predictions
            flip = rng.random(n) < 0.2
            yield y, np.where(flip, rng.integers(0, k, n), y)  # mostly right
            yield y, np.full(n, y[0])  # constant prediction
            yield y, rng.integers(0, k + 3, n)  # labels only in the predictions
            yield y * 7 - 3, np.where(flip, 11, y * 7 - 3)  # negative, gapped labels
    y = rng.integers(0, 2, 120_000)  # n**4 > 2**53: the MCC's product of covariances rounds
    yield y, np.where(rng.random(len(y)) < 0.3, 1 - y, y)
    y = rng.integers(0, 13, 200_000)
    yield y, np.where(rng.random(len(y)) < 0.5, rng.integers(0, 13, len(y)), y)


def test_scores_equal_sklearn_bit_for_bit():
    rng = np.random.default_rng(0)
    n = 0
    for y_true, y_pred in _cases(rng):
        got, want = score(y_true, y_pred), score_sklearn(y_true, y_pred)
        assert got == want, (len(y_true), len(np.unique(y_true)), got, want)
        assert all(type(v) is float for v in got.values())
        n += 1
    assert n > 150


def test_confusion_matrix_equals_sklearn():
    from sklearn.metrics import confusion_matrix

    rng = np.random.default_rng(1)
    y_true, y_pred = rng.integers(-2, 6, 500), rng.integers(0, 9, 500)
    np.testing.assert_array_equal(confusion(y_true, y_pred), confusion_matrix(y_true, y_pred))


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="3 labels but y_pred has 2"):
        score(np.array([0, 1, 1]), np.array([0, 1]))
    with pytest.raises(ValueError, match="empty"):
        score(np.array([], int), np.array([], int))
