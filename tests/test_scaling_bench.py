"""The scaling benchmark runs at its tiny size: three points on each of six axes (time and
peak memory of extraction and of the probe grid against sequences, models and tasks), a
table and a figure."""

from __future__ import annotations

import pytest
from _bench import load_bench


@pytest.mark.filterwarnings("ignore")
def test_bench_scaling_tiny_records_table_and_figure(tmp_path):
    mod = load_bench("bench_scaling")
    md, png = tmp_path / "s.md", tmp_path / "s.png"
    res = mod.run_benchmark("tiny", out=md, png=png)
    text = md.read_text()
    assert text.count("| extract |") == 9 + 3 and text.count("| probe |") == 9 + 3
    assert "machine:" in text and "versions:" in text
    assert png.stat().st_size > 10_000
    assert len(res["figures"]) == 12 and all(f["met"] is None for f in res["figures"])  # no goals at tiny
    assert all(f["ratio"] is None or f["ratio"] > 0 for f in res["figures"])
