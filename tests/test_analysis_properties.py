"""Property tests: the vectorised Pareto and pair rules equal brute-force loops, including
ties and equal parameter counts (values drawn from small sets so ties are common). Models
with 0 parameters (k-mer baselines) take no part in either rule."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb.analysis import pareto_frontier, smaller_beats_larger
from geneb.analysis.pareto import dominated
from geneb.testing import results_frame

points = st.lists(st.tuples(st.sampled_from([0, 1, 5, 10, 50, 100]), st.sampled_from([0.1, 0.2, 0.3, 0.5])),
                  min_size=1, max_size=12)


def _table(pts):
    rows = [{"model": f"m{i}", "task": "t", "category": "Promoters", "regime": "full", "mcc": m} for i, (_, m) in enumerate(pts)]
    meta = pl.DataFrame({"model": [f"m{i}" for i in range(len(pts))], "params": [p for p, _ in pts]})
    return results_frame(rows).join(meta, on="model")


@settings(max_examples=60, deadline=None)
@given(points)
def test_dominated_equals_brute_force(pts):
    p = np.array([a for a, _ in pts], dtype=float)
    m = np.array([b for _, b in pts])
    want = [
        any(p[j] <= p[i] and m[j] >= m[i] and (p[j] < p[i] or m[j] > m[i]) for j in range(len(pts)))
        for i in range(len(pts))
    ]
    assert dominated(p, m).tolist() == want
    counted = [i for i in range(len(pts)) if p[i] > 0]
    want_on = {f"m{i}" for i in counted
               if not any(p[j] <= p[i] and m[j] >= m[i] and (p[j] < p[i] or m[j] > m[i]) for j in counted)}
    assert set(pareto_frontier(_table(pts)).filter(pl.col("on_frontier"))["model"]) == want_on


@settings(max_examples=60, deadline=None)
@given(points, st.sampled_from([1.0, 2.0, 5.0, 10.0]))
def test_pairs_equal_brute_force(pts, factor):
    want = {
        (f"m{i}", f"m{j}")
        for i, (pa, ma) in enumerate(pts)
        for j, (pb, mb) in enumerate(pts)
        if i != j and pa > 0 and pb >= factor * pa and ma > mb
    }
    got = set(smaller_beats_larger(_table(pts), factor=factor).select("smaller", "larger").iter_rows())
    assert got == want
