"""Load a benchmark script of benchmarks/ (not a package) as a module, for the tests that
run each benchmark at its tiny size."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_bench(stem: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(stem, BENCHMARKS / f"{stem}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod
