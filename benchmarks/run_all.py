"""`make bench`: run every area's benchmark and append one dated record to RESULTS.md.

Runs, in this one process, the store I/O, extraction, probe-grid and analysis benchmarks
(`bench_store.py`, `bench_extract.py`, `bench_probe.py`, `bench_analysis.py`; each also
appends its own detailed record to its `*_RESULTS.md`), plus the memory bounds of issue 8
(peak RSS of extraction at N vs 4N sequences and of the probe grid at 2 vs 8 pairs, each
in a fresh process) and the scaling curves (`bench_scaling.py`: time and memory against
sequences, models and tasks, three points each, table and figure). Every figure is recorded with the baseline it is compared against,
measured in the same run, and the ratio. The record names the machine and the library
versions, so records from different machines are never confused.

    python benchmarks/run_all.py                         # --size default: minutes on 2 cores
    python benchmarks/run_all.py --size full             # the sizes the issues name
    python benchmarks/run_all.py --size tiny --results /tmp/R.md --area-dir /tmp   # seconds (tests)
    python benchmarks/run_all.py --only store,probe      # a subset

Exit status 1 when a benchmark failed to run (its error is in the record); goals that are
not met are reported in the record, not as failures.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _record
from _record import machine, versions  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZES = ("tiny", "default", "full")
MiB = 1 << 20


# -- the record's building blocks ------------------------------------------------------------


@dataclass
class Figure:
    """One measured number, optionally against a baseline measured in the same run.

    ``ratio`` is oriented so that > 1 means geneb is better (faster, smaller, flatter),
    whatever the unit; ``goal`` is the issue's target for the ratio or the value."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_name: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None


@dataclass
class Outcome:
    bench: str
    title: str
    seconds: float = 0.0
    figures: list[Figure] = field(default_factory=list)
    error: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class Bench:
    name: str
    module: str | None  # file under benchmarks/ (None: defined here)
    title: str
    run: Callable[[ModuleType | None, str, Path], Outcome]


def load_module(stem: str) -> ModuleType:
    """Import ``benchmarks/<stem>.py`` by path (benchmarks/ is not a package)."""
    path = HERE / f"{stem}.py"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    spec = importlib.util.spec_from_file_location(f"geneb_benchmarks.{stem}", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _ratio(better_is_higher: bool, value: float, baseline: float) -> float | None:
    if not baseline or not value or math.isnan(value) or math.isnan(baseline):
        return None
    return value / baseline if better_is_higher else baseline / value


# -- one adapter per area benchmark ---------------------------------------------------------


def run_store(mod: ModuleType, size: str, area_dir: Path) -> Outcome:
    argv = {
        "tiny": ["--rows", "2000", "--dim", "64", "--repeats", "1", "--gather", "200"],
        "default": ["--rows", "50000", "--dim", "1024", "--repeats", "2"],
        "full": [],  # the 100,000 x 1,024, best of 3
    }[size]
    res = mod.main([*argv, "--out", str(area_dir / "STORE_RESULTS.md")])
    base, cases = res["cases"][0], res["cases"][1:]
    comp = res["compressor"]  # the store's default compressor (bench_store measures it first)
    default = next(c for c in cases if c["name"] == f"geneb store {mod.DEFAULT_DTYPE} {comp}")
    f16 = next(c for c in cases if c["name"].startswith("geneb store float16"))
    goals = getattr(mod, "GOALS", {})
    half = 0.5  # issue 15: gathers and writes at disk speed, at least half of the .npy baseline
    out = Outcome("store", f"store I/O, {res['rows']:,} x {res['dim']:,}, default {mod.DEFAULT_DTYPE} {comp} store")
    gather_ratio = _ratio(False, default["gather_ms"], base["gather_ms"])
    write_ratio = _ratio(False, default["write_s"], base["write_s"])
    out.figures += [
        Figure(f"full read, {mod.DEFAULT_DTYPE} store -> float32 (s)", default["read_s"], "s", base["read_s"],
               base["name"], _ratio(False, default["read_s"], base["read_s"]), f">= {goals.get('read_ratio', '?')}x",
               res["read_ratio"] >= goals["read_ratio"] if "read_ratio" in goals else None),
        Figure(f"{res['gather']:,}-row random gather, {mod.DEFAULT_DTYPE} store (ms)", default["gather_ms"], "ms",
               base["gather_ms"], base["name"] + " (mmap)", gather_ratio, f">= {half}x",
               gather_ratio is not None and gather_ratio >= half),
        Figure(f"full write, {mod.DEFAULT_DTYPE} store (s)", default["write_s"], "s", base["write_s"], base["name"],
               write_ratio, f">= {half}x", write_ratio is not None and write_ratio >= half),
        Figure(f"bytes on disk, {mod.DEFAULT_DTYPE} store", default["bytes"], "B", base["bytes"], base["name"],
               _ratio(False, default["bytes"], base["bytes"]),
               f">= {1 / goals['size_ratio']:.2f}x (size <= {goals['size_ratio']} x npy)" if "size_ratio" in goals else "",
               res["size_ratio"] <= goals["size_ratio"] if "size_ratio" in goals else None),
        Figure("full read, float16 store (opt-in, lossy) -> float32 (s)", f16["read_s"], "s", base["read_s"],
               base["name"], _ratio(False, f16["read_s"], base["read_s"])),
        Figure("bytes on disk, float16 store (opt-in, lossy)", f16["bytes"], "B", base["bytes"], base["name"],
               _ratio(False, f16["bytes"], base["bytes"])),
    ]
    return out


def run_extract(mod: ModuleType, size: str, area_dir: Path) -> Outcome:
    argv = {
        "tiny": ["--n", "40", "--max-len", "300"],
        "default": ["--n", "600"],
        "full": [],  # 2,000 sequences, 50-2,000 nt
    }[size]
    res = mod.main([*argv, "--out", str(area_dir / "EXTRACT_RESULTS.md")])
    goal = getattr(mod, "GOAL_RATIO", None)
    out = Outcome("extract", f"extraction, {res['n']:,} sequences of {res['lengths']} nt, {res['model']}")
    out.figures += [
        Figure("sequences/s, geneb.embed into a store", res["geneb_seq_s"], "seq/s", res["ref_seq_s"],
               "published reference extractor (batches of 8 padded to max length)",
               _ratio(True, res["geneb_seq_s"], res["ref_seq_s"]),
               f">= {goal:g}x" if goal else "", res["ratio"] >= goal if goal else None),
        Figure("tokens/s, geneb", res["geneb_tok_s"], "tok/s", res["ref_tok_s"], "reference",
               _ratio(True, res["geneb_tok_s"], res["ref_tok_s"])),
        Figure("max relative difference of vectors vs reference", res["max_rel_diff"], "", goal="< 1e-4",
               met=res["max_rel_diff"] < 1e-4),
        Figure("GFLOP/s on real tokens, geneb end to end", res["geneb_flop_s"] / 1e9, "GFLOP/s",
               res["matmul_flop_s"] / 1e9, "torch float32 matmul 2048^3, same threads, same run",
               res["matmul_fraction"], f">= {mod.GOAL_MATMUL_FRACTION:g}x of the matmul rate",
               res["matmul_fraction"] >= mod.GOAL_MATMUL_FRACTION),
        Figure("geneb overhead over the model's forward alone (%)", 100 * res["overhead"], "%"),
        Figure("attainable fraction of the matmul rate (attention at its SDPA kernel's rate, the rest at the matmul rate)",
               res["attainable_fraction"], "x"),
        Figure("padding tokens over real tokens, geneb (%)", 100 * res["padding"], "%", 100 * res["ref_padding"],
               "reference (padded to the model maximum)", _ratio(False, res["padding"], res["ref_padding"])
               if res["padding"] > 0 else None),
    ]
    return out


def run_probe(mod: ModuleType, size: str, area_dir: Path) -> Outcome:
    """bench_probe's own entry point: its record lands in PROBE_RESULTS.md, its figures here."""
    res = mod.run_benchmark(size=size, out=area_dir / "PROBE_RESULTS.md")
    return Outcome("probe", res["title"], figures=_generic_figures(res))


def run_scaling(mod: ModuleType, size: str, area_dir: Path) -> Outcome:
    """bench_scaling's own entry point: its table lands in SCALING_RESULTS.md (figure beside it)."""
    size = "tiny" if size == "tiny" else "default"  # three points per axis already take minutes
    res = mod.run_benchmark(size=size, out=area_dir / "SCALING_RESULTS.md",
                            png=area_dir / ("scaling.png" if area_dir == HERE else "scaling-tiny.png"))
    return Outcome("scaling", res["title"], figures=_generic_figures(res))


def run_analysis(mod: ModuleType, size: str, area_dir: Path) -> Outcome:
    args = {
        "tiny": (5, 13, 50, 1, False),
        "default": (41, 100, 1000, 3, False),
        "full": (41, 100, 1000, 3, True),
    }[size]
    res = mod.run(*args)
    mod.record(res, area_dir / "ANALYSIS_RESULTS.md", f"via run_all --size {size}")
    budget = float(getattr(mod, "BUDGET_S", 5.0))
    out = Outcome("analysis", f"analysis, {res['n_models']} models x {res['n_tasks']} tasks, "
                              f"{res['n_rows']:,} rows, {res['n_boot']} resamples")
    out.figures += [
        Figure("load + every analysis (s)", res["total_s"], "s", budget, "the issue's budget",
               _ratio(False, res["total_s"], budget), "<= 1x budget (ratio >= 1)", res["total_s"] < budget),
        Figure("load_results (s)", res["load_s"], "s"),
        Figure("run_analysis (s)", res["analyses_s"], "s"),
        Figure("bootstrap_over_tasks alone (s)", res["bootstrap_s"], "s"),
    ]
    for k, label in (("write_with_figures_s", "write tables + figures (s)"), ("report_html_s", "HTML report (s)")):
        if k in res:
            out.figures.append(Figure(label, res[k], "s"))
    return out


def _generic_figures(res: dict[str, Any]) -> list[Figure]:
    """Figures from a benchmark that reports ``{"figures": [{name, value, unit, baseline,
    baseline_name, ratio, goal, met}, ...]}``."""
    figs = res.get("figures")
    if not isinstance(figs, list) or not figs:
        raise ValueError("benchmark result has no 'figures' list")
    keys = set(Figure.__dataclass_fields__)
    return [Figure(**{k: v for k, v in f.items() if k in keys}) for f in figs]


# -- issue 8's own figures: memory bounds -----------------------------------------------------


def _growth_figure(name: str, small: Any, large: Any, proportional: int, check: bool) -> Figure:
    """Peak growth from the small to the large input against the growth that holding the
    extra data would cost; ratio = proportional / measured growth (floored at 1 MiB)."""
    growth = large.delta - small.delta
    return Figure(name, growth / MiB, "MiB", proportional / MiB, "holding the extra data (proportional growth)",
                  proportional / max(growth, MiB), "growth < 15% of proportional (ratio > 6.7x)" if check else "",
                  growth < 0.15 * proportional if check else None)


def run_memory(_mod: ModuleType | None, size: str, area_dir: Path) -> Outcome:
    """Peak RSS, a fresh process each: extraction of N vs 4N generated sequences (kmer-6,
    4096-dim) and the probe grid over 2 vs 8 stored pairs. At the tiny size the inputs
    are too small to fill the pipeline, so no goal is checked there."""
    from geneb.dist.peakmem import measure_peak_rss
    from geneb.testing import SyntheticTask, write_synthetic_store, write_task_csv

    n, n_test, pair_rows, dim = {"tiny": (300, 100, 200, 64), "default": (6000, 1500, 2500, 2048),
                                 "full": (24000, 6000, 10000, 2048)}[size]
    model, mdim = ("kmer-3", 64) if size == "tiny" else ("kmer-6", 4096)
    check = size != "tiny"
    out = Outcome("memory", f"memory bounds: peak RSS growth, {model} extraction and sklearn probe grid")
    with tempfile.TemporaryDirectory(prefix="geneb-bench-mem-") as tmp:
        root = Path(tmp)
        peaks = {}
        for scale in (1, 4):
            task = f"mem{scale}x"
            write_task_csv(root / "data" / f"{task}.csv", n * scale, n_test * scale, length=100, seed=scale)
            peaks[scale] = measure_peak_rss(
                f"embed_pair({str(root / f's{scale}.zarr')!r}, {model!r}, {task!r}, "
                f"data_dir={str(root / 'data')!r}, device='cpu')",
                setup="from geneb.extract import embed_pair\nimport geneb.store, zarr, numcodecs",
            )
        rows = n + n_test
        out.figures += [
            Figure(f"extraction peak, {rows:,} sequences (MiB)", peaks[1].delta / MiB, "MiB"),
            Figure(f"extraction peak, {4 * rows:,} sequences (MiB)", peaks[4].delta / MiB, "MiB"),
            _growth_figure("extraction peak growth, 4x the sequences (MiB)", peaks[1], peaks[4],
                           3 * rows * mdim * 4, check),
        ]
        probe = {}
        for n_pairs in (2, 8):
            tasks = [SyntheticTask(f"t{i}", pair_rows, pair_rows // 3, dim, 2, 1.0, i) for i in range(n_pairs)]
            store = root / f"p{n_pairs}.zarr"
            write_synthetic_store(str(store), "syn", tasks, dtype="float16")
            probe[n_pairs] = measure_peak_rss(
                f"run_probes({str(store)!r}, {str(root / f'r{n_pairs}.parquet')!r}, backend='sklearn', "
                "regimes=['1shot'], progress=False)",
                setup="from geneb.probe import run_probes\nimport sklearn.linear_model, geneb.store, polars",
            )
        pair = (pair_rows + pair_rows // 3) * dim * 4
        out.figures += [
            Figure("probe grid peak, 2 pairs (MiB)", probe[2].delta / MiB, "MiB"),
            Figure("probe grid peak, 8 pairs (MiB)", probe[8].delta / MiB, "MiB"),
            _growth_figure("probe grid peak growth, 4x the pairs (MiB)", probe[2], probe[8], 6 * pair, check),
        ]
    return out


BENCHES: tuple[Bench, ...] = (
    Bench("store", "bench_store", "store I/O", run_store),
    Bench("extract", "bench_extract", "extraction", run_extract),
    Bench("probe", "bench_probe", "probe grid", run_probe),
    Bench("analysis", "bench_analysis", "analysis", run_analysis),
    Bench("memory", None, "memory bounds", run_memory),
    Bench("scaling", "bench_scaling", "scaling curves", run_scaling),
)


# -- commit ------------------------------------------------------------------------------------


def commit() -> str:
    try:
        sha = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE,
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{sha}{' (uncommitted changes)' if dirty else ''}" if sha else "unknown"


# -- the record ---------------------------------------------------------------------------------


def _num(v: float | None, unit: str = "") -> str:
    if v is None:
        return ""
    if unit == "B":
        return f"{v / MiB:,.1f} MiB"
    a = abs(v)
    s = f"{v:,.0f}" if a >= 1000 else f"{v:.3g}" if a >= 0.001 or a == 0 else f"{v:.2e}"
    return s


def to_markdown(outcomes: list[Outcome], size: str, seconds: float, load: str) -> str:
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = [
        f"## {now} — `make bench` (size {size})",
        "",
        f"- machine: {machine()}; {load}",
        f"- versions: {versions()}",
        f"- commit: {commit()}; wall time {seconds:.0f} s; ratio > 1 = geneb better than the baseline "
        "(faster / smaller / flatter), each baseline measured in the same process run",
        "",
        "| benchmark | figure | value | baseline | baseline value | ratio | goal |",
        "|---|---|---:|---|---:|---:|---|",
    ]
    for o in outcomes:
        if o.error:
            lines.append(f"| {o.bench} | **FAILED to run**: {o.error} | | | | | |")
            continue
        for f in o.figures:
            goal = f"{f.goal} ({'met' if f.met else 'NOT met'})" if f.goal and f.met is not None else f.goal
            ratio = f"**{f.ratio:.2f}x**" if f.ratio is not None else ""
            lines.append(f"| {o.bench} | {f.name} | {_num(f.value, f.unit)} | {f.baseline_name} | "
                         f"{_num(f.baseline, f.unit)} | {ratio} | {goal} |")
    lines += ["", *[f"- {o.bench}: {o.title}; {o.seconds:.1f} s" for o in outcomes if not o.error], ""]
    return "\n".join(lines) + "\n"


def readme_lines(outcomes: list[Outcome]) -> list[str]:
    """One line per ratio, for the README's benchmark section."""
    out = []
    for o in outcomes:
        for f in o.figures:
            if f.ratio is not None:
                out.append(f"- {o.bench}: {f.name}: **{f.ratio:.2f}x** vs {f.baseline_name}")
    return out


HEADER = ("# Benchmark results\n\nAppended by `make bench` (`benchmarks/run_all.py`), newest last. "
          "Each record names its machine and versions; compare ratios, not seconds, across machines.\n\n")


def append_record(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as fh:
        if fh.tell() == 0:
            fh.write(HEADER)
        fh.write(text + "\n")


def run_all(size: str = "default", results: Path = HERE / "RESULTS.md", area_dir: Path = HERE,
            only: list[str] | None = None) -> list[Outcome]:
    """Run the selected benchmarks, append the record to ``results``; return the outcomes."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {SIZES}, got {size!r}")
    names = [b.name for b in BENCHES]
    unknown = sorted(set(only or []) - set(names))
    if unknown:
        raise ValueError(f"unknown benchmark(s) {unknown}; known: {names}")
    t0 = time.perf_counter()
    outcomes = []
    for b in BENCHES:
        if only and b.name not in only:
            continue
        print(f"== {b.name} ({size})", flush=True)
        t = time.perf_counter()
        try:
            mod = load_module(b.module) if b.module else None
            o = b.run(mod, size, area_dir)
        except Exception as exc:  # noqa: BLE001 - one broken benchmark must not hide the others
            traceback.print_exc()
            o = Outcome(b.name, b.title, error=f"{type(exc).__name__}: {exc}".replace("|", "/").replace("\n", " "))
        o.seconds = time.perf_counter() - t
        outcomes.append(o)
    try:
        a, b1, c = os.getloadavg()
        load = f"load average {a:.1f}/{b1:.1f}/{c:.1f} at the end"
    except OSError:
        load = "load average unknown"
    text = to_markdown(outcomes, size, time.perf_counter() - t0, load)
    append_record(results, text)
    print(text)
    print("README lines:\n" + "\n".join(readme_lines(outcomes)))
    return outcomes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", choices=SIZES, default="default", help="tiny (seconds), default, full")
    ap.add_argument("--results", type=Path, default=HERE / "RESULTS.md", help="record appended here")
    ap.add_argument("--area-dir", type=Path, default=HERE,
                    help="where each benchmark appends its own *_RESULTS.md (default: benchmarks/)")
    ap.add_argument("--only", default="", help="comma-separated subset: " + ",".join(b.name for b in BENCHES))
    args = ap.parse_args(argv)
    only = [s.strip() for s in args.only.split(",") if s.strip()] or None
    outcomes = run_all(args.size, args.results, args.area_dir, only)
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
