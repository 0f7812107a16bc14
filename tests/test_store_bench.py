"""The store benchmark runs at a tiny size and records a complete entry."""

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_store.py"


def test_bench_store_tiny(tmp_path):
    spec = importlib.util.spec_from_file_location("bench_store", BENCH)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = tmp_path / "results.md"
    res = mod.main(["--rows", "600", "--dim", "32", "--repeats", "1", "--gather", "50", "--out", str(out)])
    text = out.read_text()
    assert text.startswith("# Store benchmark results")
    for needle in ("machine:", "versions:", "np.save/np.load float32", "geneb store float16 blosc-lz4",
                   "geneb store float32 none", "gather", "size vs npy"):
        assert needle in text, needle
    assert res["size_ratio"] > 0 and res["read_ratio"] > 0
    mod.main(["--rows", "100", "--dim", "8", "--repeats", "1", "--gather", "10", "--out", str(out)])
    assert out.read_text().count("## ") == 2  # appended, header once
