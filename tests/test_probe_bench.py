"""The probe benchmark script runs at a tiny size and records identical geneb-v1 numbers."""

from __future__ import annotations

import pytest
from _bench import load_bench


@pytest.mark.filterwarnings("ignore")
def test_bench_probe_tiny_records_results(tmp_path):
    mod = load_bench("bench_probe")
    md = tmp_path / "results.md"
    assert mod.main(["--tiny", "--no-torch", "--jobs", "1", "--md", str(md)]) == 0
    text = md.read_text()
    assert "reference loop" in text and "versions:" in text and "machine:" in text
    row = next(line for line in text.splitlines() if line.startswith("| geneb probe --backend sklearn --jobs 1"))
    assert "| 45/45 |" in row  # every (task, regime, seed) cell identical to the reference
