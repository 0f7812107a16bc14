"""The GPU benchmark (benchmarks/bench_gpu.py) runs at its tiny size on the CPU and appends
a well-formed record: the device run (benchmarks/gpu/run.sh) must not be its first run."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytest.importorskip("torch")
BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def _load_bench():
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_gpu", BENCH / "bench_gpu.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_gpu_tiny_on_cpu(tmp_path):
    import torch

    torch.set_num_threads(1)
    mod = _load_bench()
    res = mod.run(mod.build_parser().parse_args(["--tiny", "--device", "cpu"]))
    assert res["device"] == "cpu" and res["nominal_bf16"] is None and res["fp32_rate"] > 0
    assert [m["name"] for m in res["models"]] == ["bert-100m", "dnabert2-shape"]
    for m in res["models"]:
        assert m["tokens"] > m["n"] and m["flops"] > 0
        assert m["auto"]["tokens_per_s"] > 0 and m["float32"]["tokens_per_s"] > 0
        assert m["bf16_vs_fp32_max_rel"] == 0.0  # on a CPU the default compute is float32 itself
    out = tmp_path / "g.md"
    assert mod.main(["--tiny", "--device", "cpu", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| bert-100m (64 x 2) | 40 |" in text and "auto = float32 on a CPU" in text
    assert mod.nominal_peak("NVIDIA H100 80GB HBM3") == 989.4e12 and mod.nominal_peak("NVIDIA H200") == 989.4e12
