"""The extractor benchmark runs at a tiny size and appends a well-formed record."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

pytest.importorskip("torch")


def _load_bench():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_extract.py"
    spec = importlib.util.spec_from_file_location("bench_extract", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_extract_tiny(tmp_path):
    import torch

    torch.set_num_threads(1)
    out = tmp_path / "r.md"
    res = _load_bench().main(["--n", "16", "--min-len", "20", "--max-len", "200", "--out", str(out)])
    assert res["n"] == 16 and res["ref_s"] > 0 and res["geneb_s"] > 0
    assert res["max_rel_diff"] < 1e-5  # same vectors as the reference method
    text = out.read_text()
    assert text.startswith("# Extractor benchmark results")
    assert "| reference |" in text and "| geneb |" in text and "speed-up" in text and "torch" in text
    _load_bench().main(["--n", "8", "--max-len", "100", "--out", str(out)])
    assert out.read_text().count("## ") == 2
