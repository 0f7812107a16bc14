"""The analysis benchmark script runs at a tiny size and appends a well-formed record."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_analysis.py"


def _load():
    spec = importlib.util.spec_from_file_location("bench_analysis", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_tiny_appends_a_record(tmp_path, capsys):
    mod = _load()
    out = tmp_path / "RESULTS.md"
    assert mod.main(["--tiny", "--no-figures", "--out", str(out), "--note", "test run"]) == 0
    assert mod.main(["--tiny", "--no-figures", "--out", str(out)]) == 0
    text = out.read_text()
    assert text.startswith("# Analysis benchmark results")
    assert text.count("## ") == 2  # appended, not overwritten
    assert "5 models x 13 tasks" in text and "50 resamples" in text and "test run" in text
    assert "numpy" in text and "cores" in text and "budget 5 s: PASS" in text
