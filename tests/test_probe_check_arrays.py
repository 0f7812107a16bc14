"""`check_arrays`, the gate before any fit: non-finite embeddings are refused naming the
split and the rows, whatever the dtype, and finite ones pass, including values whose sums
overflow (the fast whole-array check must fall back, never refuse good data)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb.probe.errors import ProbeError
from geneb.probe.unit import check_arrays

DTYPES = ("float16", "float32", "float64")


def _pair(X_train, X_test):
    y_tr = np.arange(len(X_train)) % 2
    return X_train, y_tr, X_test, np.zeros(len(X_test), dtype=np.int64)


@settings(max_examples=60, deadline=None)
@given(
    dtype=st.sampled_from(DTYPES),
    n=st.integers(2, 40),
    dim=st.integers(1, 9),
    bad=st.lists(st.tuples(st.integers(0, 39), st.integers(0, 8), st.sampled_from([np.nan, np.inf, -np.inf])),
                 min_size=1, max_size=4),
    split=st.sampled_from(["train", "test"]),
    seed=st.integers(0, 2**16),
)
def test_non_finite_values_are_refused_naming_split_and_rows(dtype, n, dim, bad, split, seed):
    rng = np.random.default_rng(seed)
    X = {s: rng.standard_normal((n, dim)).astype(dtype) for s in ("train", "test")}
    rows = set()
    for r, c, v in bad:
        X[split][r % n, c % dim] = v
        rows.add(r % n)
    with pytest.raises(ProbeError, match=rf"u/t: {split} embeddings have non-finite values .* in {len(rows)} row"):
        check_arrays(*_pair(X["train"], X["test"]), "u/t")
    try:
        check_arrays(*_pair(X["train"], X["test"]), "u/t")
    except ProbeError as e:
        assert f"first rows {sorted(rows)[:5]}" in str(e)


@pytest.mark.parametrize("dtype", DTYPES)
def test_finite_values_whose_sums_overflow_pass(dtype):
    big = np.finfo(dtype).max
    X = np.full((6, 3), big, dtype=dtype)  # every column sum overflows to inf
    X[1] = -big
    check_arrays(*_pair(X, X.copy()), "u/t")


def test_integer_embeddings_are_finite():
    X = np.arange(12, dtype=np.int64).reshape(6, 2)
    check_arrays(*_pair(X, X[:2]), "u/t")
