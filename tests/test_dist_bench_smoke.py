"""`make bench` (benchmarks/run_all.py) at the tiny size, so the driver and every area's
benchmark keep running; records go to a temporary directory, never into the repo."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run_all():
    spec = importlib.util.spec_from_file_location("geneb_benchmarks_run_all", ROOT / "benchmarks" / "run_all.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


run_all = _run_all()
AREA_FILES = {"store": "STORE_RESULTS.md", "extract": "EXTRACT_RESULTS.md", "probe": "PROBE_RESULTS.md",
              "analysis": "ANALYSIS_RESULTS.md", "memory": None, "scaling": "SCALING_RESULTS.md"}


@pytest.mark.parametrize("bench", [b.name for b in run_all.BENCHES])
def test_each_benchmark_runs_tiny_and_is_recorded(bench, tmp_path):
    results = tmp_path / "RESULTS.md"
    rc = run_all.main(["--size", "tiny", "--only", bench, "--results", str(results), "--area-dir", str(tmp_path)])
    text = results.read_text()
    assert "FAILED" not in text, text
    assert rc == 0
    assert text.startswith("# Benchmark results")
    assert text.count("`make bench` (size tiny)") == 1
    for what in ("- machine: ", " cores, ", "GiB RAM", "- versions: python ", "numpy ", "zarr ", "- commit: "):
        assert what in text
    rows = [line for line in text.splitlines() if line.startswith(f"| {bench} |")]
    assert rows, text
    assert any("x** |" in r for r in rows), "every benchmark reports at least one ratio against a baseline"
    if AREA_FILES[bench]:
        assert (tmp_path / AREA_FILES[bench]).is_file()  # the area's own record went to the temp dir


def test_records_append_and_failures_are_reported(tmp_path, monkeypatch):
    def broken(mod, size, area_dir):
        raise RuntimeError("disk | full")

    def fine(mod, size, area_dir):
        o = run_all.Outcome("fine", "a fine benchmark")
        o.figures.append(run_all.Figure("speed", 2.0, "x/s", 1.0, "baseline", 2.0, ">= 1.5x", True))
        return o

    monkeypatch.setattr(run_all, "BENCHES", (run_all.Bench("broken", None, "broken", broken),
                                             run_all.Bench("fine", None, "fine", fine)))
    results = tmp_path / "R.md"
    assert run_all.main(["--size", "tiny", "--results", str(results)]) == 1
    assert run_all.main(["--size", "tiny", "--only", "fine", "--results", str(results)]) == 0
    text = results.read_text()
    assert text.count("# Benchmark results") == 1 and text.count("`make bench` (size tiny)") == 2
    assert "| broken | **FAILED to run**: RuntimeError: disk / full |" in text
    assert "| fine | speed | 2 | baseline | 1 | **2.00x** | >= 1.5x (met) |" in text
    with pytest.raises(ValueError, match="unknown benchmark"):
        run_all.run_all("tiny", results, tmp_path, ["nope"])
    with pytest.raises(ValueError, match="size"):
        run_all.run_all("huge", results, tmp_path)
