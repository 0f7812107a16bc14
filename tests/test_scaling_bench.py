"""The scaling benchmark runs at its tiny size: three points on each of six axes (time and
peak memory of extraction and of the probe grid against sequences, models and tasks), a
table and a figure."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_scaling.py"


@pytest.mark.filterwarnings("ignore")
def test_bench_scaling_tiny_records_table_and_figure(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_scaling", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    md, png = tmp_path / "s.md", tmp_path / "s.png"
    res = mod.run_benchmark("tiny", out=md, png=png)
    text = md.read_text()
    assert text.count("| extract |") == 9 + 3 and text.count("| probe |") == 9 + 3
    assert "machine:" in text and "versions:" in text
    assert png.stat().st_size > 10_000
    assert len(res["figures"]) == 12 and all(f["met"] is None for f in res["figures"])  # no goals at tiny
    assert all(f["value"] > 0 for f in res["figures"] if "memory" in f["name"])
