"""Model filters: the same selection from a CLI string, a mapping, a list or an expression."""

from __future__ import annotations

import polars as pl
import pytest

from geneb.analysis import AnalysisError, parse_filter, select_models

META = pl.DataFrame({
    "model": ["a", "b", "c", "d"],
    "params": [0, 10**8, 5 * 10**8, None],
    "pretraining_data": ["none", "human", "prokaryotic", "human"],
    "untrained": [False, False, False, True],
})


def ids(df):
    return sorted(df["model"].to_list())


@pytest.mark.parametrize(
    ("where", "want"),
    [
        ("pretraining_data=human", ["b", "d"]),
        ("pretraining_data=Human,NONE", ["a", "b", "d"]),  # any of, case-insensitive
        ("pretraining_data!=prokaryotic", ["a", "b", "d"]),
        ("params<=1e8", ["a", "b"]),  # nulls never match
        ("params>0", ["b", "c"]),
        ("untrained=true", ["d"]),
        (["pretraining_data=human", "untrained=false"], ["b"]),  # a list: all must hold
        ({"pretraining_data": ["human", "none"]}, ["a", "b", "d"]),
        (pl.col("params") >= 10**8, ["b", "c"]),
        (None, ["a", "b", "c", "d"]),
    ],
)
def test_where_forms(where, want):
    assert ids(select_models(META, where)) == want


def test_exclusions_by_id_and_by_filter():
    assert ids(select_models(META, exclude=["a"], exclude_where="pretraining_data=prokaryotic")) == ["b", "d"]


@pytest.mark.parametrize(("text", "match"), [("params", "COLUMN OP VALUE"), ("params<=lots", "needs a number"), ("=x", "COLUMN OP VALUE")])
def test_bad_filter_strings(text, match):
    with pytest.raises(AnalysisError, match=match):
        parse_filter(text)


def test_unknown_column_and_unknown_excluded_id_are_named():
    with pytest.raises(AnalysisError, match="colour"):
        select_models(META, "colour=red")
    with pytest.raises(AnalysisError, match="zz"):
        select_models(META, exclude=["zz"])
