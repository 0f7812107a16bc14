"""Benchmark the analysis half: load + every analysis + bootstrap, then figures and the report.

The target (issue 7): 41 models x 100 tasks x 3 regimes (x 5 seeds), all analyses plus
1,000 bootstrap resamples, under 5 s on the 2-core dev machine. Results are appended to
benchmarks/ANALYSIS_RESULTS.md with the machine and library versions.

    python benchmarks/bench_analysis.py                 # the full size
    python benchmarks/bench_analysis.py --tiny --out /tmp/x.md   # seconds, for tests
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
BUDGET_S = 5.0


def _timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _paired_preds(models: list[str], tasks: list[tuple[str, str]], n_test: int):
    """Binary test predictions of two models on every task, 5 seeds each."""
    import numpy as np
    import polars as pl

    rng = np.random.default_rng(0)
    rows = []
    for task, _ in tasks:
        y = rng.integers(0, 2, n_test)
        for m, noise in zip(models, (0.2, 0.3), strict=True):
            for seed in (13, 17, 42, 123, 997):
                p = np.where(rng.random(n_test) < noise, 1 - y, y)
                rows.append({"model": m, "task": task, "regime": "full", "seed": seed, "protocol": "geneb-v1",
                             "y_true": y.tolist(), "y_pred": p.tolist()})
    return pl.DataFrame(rows, schema_overrides={"y_true": pl.List(pl.Int32), "y_pred": pl.List(pl.Int32)})


def run(n_models: int, n_tasks: int, n_boot: int, repeat: int, figures: bool, n_test: int = 1000) -> dict:
    import matplotlib
    import numpy as np
    import polars as pl
    import scipy

    from geneb.analysis import (
        AnalysisOptions,
        bootstrap_over_tasks,
        load_results,
        paired_comparison,
        run_analysis,
    )
    from geneb.catalog import all_models, geneb_tasks
    from geneb.testing import synthetic_results

    models = list(all_models())[:n_models]
    tasks = [(t.task_id, t.category) for t in geneb_tasks()[:n_tasks]]
    df = synthetic_results(models, tasks)
    res: dict = {"n_models": len(models), "n_tasks": len(tasks), "n_rows": df.height, "n_boot": n_boot, "repeat": repeat}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.parquet"
        df.write_parquet(path)
        res["load_s"], loaded = _timed(lambda: load_results(path), repeat)
        opts = AnalysisOptions(n_boot=n_boot)
        res["analyses_s"], a = _timed(lambda: run_analysis(loaded, opts), repeat)
        res["bootstrap_s"], _ = _timed(lambda: bootstrap_over_tasks(loaded, n_boot=n_boot), repeat)
        res["total_s"] = res["load_s"] + res["analyses_s"]
        preds = _paired_preds(models[:2], tasks, n_test)
        res["n_test"] = n_test
        res["paired_s"], _ = _timed(lambda: paired_comparison(preds, models[0], models[1], n_boot=n_boot), 1)
        if figures:
            from geneb.report import build_report, write_analysis

            res["write_with_figures_s"], _ = _timed(lambda: write_analysis(a, Path(tmp) / "out"), 1)
            res["report_html_s"], _ = _timed(lambda: build_report(a, Path(tmp) / "report.html"), 1)
    res["versions"] = {"python": platform.python_version(), "numpy": np.__version__, "polars": pl.__version__,
                       "scipy": scipy.__version__, "matplotlib": matplotlib.__version__}
    return res


def record(res: dict, out: Path, note: str) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    v = res["versions"]
    lines = [
        f"\n## {now} — {res['n_models']} models x {res['n_tasks']} tasks x 3 regimes x 5 seeds, {res['n_boot']} resamples",
        "",
        f"- machine: {_cpu()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; commit {_commit()}",
        f"- versions: Python {v['python']}, numpy {v['numpy']}, polars {v['polars']}, scipy {v['scipy']}, matplotlib {v['matplotlib']}",
        f"- rows: {res['n_rows']:,}; median of {res['repeat']} run(s)" + (f"; {note}" if note else ""),
        "",
        "| step | seconds |",
        "|---|---|",
        f"| load_results (parquet, validation, metadata join) | {res['load_s']:.3f} |",
        f"| run_analysis (every analysis + bootstrap over tasks) | {res['analyses_s']:.3f} |",
        f"| of which bootstrap_over_tasks alone | {res['bootstrap_s']:.3f} |",
        f"| **load + all analyses** | **{res['total_s']:.3f}** (budget {BUDGET_S:g} s: {'PASS' if res['total_s'] < BUDGET_S else 'FAIL'}) |",
    ]
    lines.append(f"| paired comparison over test examples (2 models x {res['n_tasks']} tasks x 5 seeds x {res['n_test']} examples) | {res['paired_s']:.3f} |")
    if "write_with_figures_s" in res:
        lines += [f"| write summary, tables, 5 figures x PNG+SVG | {res['write_with_figures_s']:.3f} |",
                  f"| HTML report (figures inline) | {res['report_html_s']:.3f} |"]
    text = "\n".join(lines) + "\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    if not out.exists():
        out.write_text("# Analysis benchmark results\n\nAppended by `benchmarks/bench_analysis.py`; newest last.\n", encoding="utf-8")
    with out.open("a", encoding="utf-8") as fh:
        fh.write(text)
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--models", type=int, default=41, help="number of models (default 41)")
    p.add_argument("--tasks", type=int, default=100, help="number of GENEB tasks (default 100)")
    p.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples (default 1000)")
    p.add_argument("--repeat", type=int, default=3, help="runs per step; the median is recorded (default 3)")
    p.add_argument("--n-test", type=int, default=1000, help="test examples per task for the paired comparison (default 1000)")
    p.add_argument("--tiny", action="store_true", help="5 models x 13 tasks x 50 resamples x 50 examples, one run (for tests)")
    p.add_argument("--no-figures", action="store_true", help="skip timing figures and the HTML report")
    p.add_argument("--note", default="", help="free text recorded with the results")
    p.add_argument("--out", type=Path, default=HERE / "ANALYSIS_RESULTS.md", help="markdown file to append to")
    args = p.parse_args(argv)
    if args.tiny:
        args.models, args.tasks, args.n_boot, args.repeat, args.n_test = 5, 13, 50, 1, 50
    res = run(args.models, args.tasks, args.n_boot, args.repeat, not args.no_figures, args.n_test)
    print(record(res, args.out, args.note))
    return 0 if args.tiny or res["total_s"] < BUDGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
