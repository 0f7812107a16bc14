"""Benchmark: how extraction and the probe grid scale with the number of sequences, models
and tasks (issue 15): wall time and peak resident memory at three points per axis, each
point in a fresh process (`geneb.dist.peakmem`: the peak above the resident size after
imports), so one point's caches never help the next.

Extraction embeds tiny random-init BERT-like models (identical architecture, different
seeds, so every model costs the same) over generated tasks (k-mer profiles at the tiny
size, which only checks that the benchmark runs); the probe grid fits geneb-v1
(sklearn, 3 regimes x 5 seeds) over synthetic stored pairs. Linear growth means the time
per unit (sequence, model or task) stays flat along an axis; bounded memory means the
peak stays flat too (one pair in memory at a time). Appends a table to
benchmarks/SCALING_RESULTS.md and draws benchmarks/scaling.png.

    python benchmarks/bench_scaling.py                     # default: about two minutes on 2 cores
    python benchmarks/bench_scaling.py --size tiny --md /tmp/s.md --png /tmp/s.png   # seconds (tests)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # for _record
from _record import machine, versions  # noqa: E402

HERE = Path(__file__).resolve().parent
MiB = 1 << 20

#: size -> (sequences per task for the sequences axis, base sequences, sequence length,
#:          probe rows per pair for the rows axis, base rows, probe dim)
SIZES = {
    "tiny": ((60, 120, 240), 60, 60, (100, 200, 400), 100, 16),
    "default": ((2000, 4000, 8000), 2000, 200, (8000, 16000, 32000), 8000, 1024),
}
#: Linear growth: the marginal cost per unit over the last segment of an axis is at most
#: this times the first segment's (fixed costs cancel; superlinear growth shows as > 1).
#: Bounded memory: the peak at the last point is at most this times the first. Loose: the
#: machine is shared.
GOAL_MARGINAL = 1.5
GOAL_MEMORY = 1.5


def _spec_code(i: int, max_len: int) -> str:
    return (f"ModelSpec(model_id='scale-bert-{i}', display='scale BERT {i}', family='random-init', "
            f"max_length={max_len + 2}, config={{'arch': 'bert', 'hidden_size': 64, 'num_layers': 2, "
            f"'num_heads': 2, 'intermediate_size': 256, 'max_position_embeddings': {max_len + 2}, 'seed': {i}}})")


def _extract_point(root: Path, name: str, n_models: int, tasks: list[str], length: int, size: str, rep: int = 0):
    from geneb.dist.peakmem import measure_peak_rss

    if size == "tiny":  # k-mer profiles: no torch to import, seconds per point (the test suite runs it)
        specs = ", ".join(repr(f"kmer-{3 + i}") for i in range(n_models))
    else:
        specs = ", ".join(_spec_code(i, length) for i in range(n_models))
    return measure_peak_rss(
        f"embed([{specs}], {tasks!r}, {str(root / f'{name}-{rep}.zarr')!r}, data_dir={str(root / 'data')!r}, "
        "device='cpu', progress=False)",
        setup="from geneb.catalog import ModelSpec\nfrom geneb.extract import embed\nimport geneb.store, zarr"
              + ("" if size == "tiny" else ", torch, transformers"),
    )


def _probe_point(root: Path, name: str, n_models: int, n_tasks: int, rows: int, dim: int, rep: int = 0):
    from geneb.dist.peakmem import measure_peak_rss
    from geneb.testing import SyntheticTask, write_synthetic_store

    store = root / f"{name}.zarr"
    tasks = [SyntheticTask(f"t{i}", rows, rows // 4, dim, 2, 1.0, i) for i in range(n_tasks)]
    if not store.exists():  # written once; each repeat fits into its own results file
        for m in range(n_models):
            write_synthetic_store(str(store), f"m{m}", tasks, dtype="float32")
    return measure_peak_rss(
        f"run_probes({str(store)!r}, {str(root / f'{name}-{rep}.parquet')!r}, backend='sklearn', progress=False)",
        setup="from geneb.probe import run_probes\nimport sklearn.linear_model, geneb.store, polars",
    )


def _best(measure, repeats: int):
    """The fastest of ``repeats`` fresh-process runs of a point (the machine is shared), each
    writing its own output (a rerun into the same one would find the work done)."""
    runs = [measure(i) for i in range(repeats)]
    return min(runs, key=lambda p: p.seconds)


def run(size: str = "default") -> dict:
    from geneb.testing import write_task_csv

    seq_points, base_seqs, length, row_points, base_rows, dim = SIZES[size]
    reps = 1 if size == "tiny" else 2
    axes: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="geneb-bench-scale-") as tmp:
        root = Path(tmp)
        data = root / "data"
        for n in seq_points:
            write_task_csv(data / f"seq{n}.csv", n, n // 4, length=length, seed=n)
        for i in range(4):
            write_task_csv(data / f"task{i}.csv", base_seqs, base_seqs // 4, length=length, seed=100 + i)
        per_task = base_seqs + base_seqs // 4

        def axis(stage, name, unit, points, pair_bytes=None):
            axes.append({"stage": stage, "axis": name, "unit": unit, "points": points, "pair_bytes": pair_bytes})

        axis("extract", "sequences", "sequence",
             [(n + n // 4, _best(lambda i, n=n: _extract_point(root, f"es{n}", 1, [f"seq{n}"], length, size, rep=i), reps))
              for n in seq_points])
        axis("extract", "models", "model",
             [(m, _best(lambda i, m=m: _extract_point(root, f"em{m}", m, ["task0"], length, size, rep=i), reps)) for m in (1, 2, 3)])
        axis("extract", "tasks", "task",
             [(t, _best(lambda i, t=t: _extract_point(root, f"et{t}", 1, [f"task{j}" for j in range(t)], length, size, rep=i), reps))
              for t in (1, 2, 4)])
        axis("probe", "train rows", "row", [(r, _best(lambda i, r=r: _probe_point(root, f"pr{r}", 1, 1, r, dim, rep=i), reps)) for r in row_points],
             pair_bytes=lambda hi, lo: (hi - lo) * 1.25 * dim * 4)
        axis("probe", "models", "model", [(m, _best(lambda i, m=m: _probe_point(root, f"pm{m}", m, 2, base_rows, dim, rep=i), reps)) for m in (1, 2, 4)])
        axis("probe", "tasks", "task", [(t, _best(lambda i, t=t: _probe_point(root, f"pt{t}", 1, t, base_rows, dim, rep=i), reps)) for t in (2, 4, 8)])
    for a in axes:
        (x0, p0), (x1, p1), (x2, p2) = a["points"]
        first = (p1.seconds - p0.seconds) / (x1 - x0)
        last = (p2.seconds - p1.seconds) / (x2 - x1)
        a["marginal"] = (first, last)
        # a first segment within noise (no measurable growth) leaves the ratio undefined
        a["marginal_ratio"] = last / first if first > 0.02 * p0.seconds / (x1 - x0) else None
        a["memory_ratio"] = max(p2.delta, 1) / max(p0.delta, 1)
        # no measurable growth (fixed costs dominate) is better than linear, not a failure
        a["linear"] = a["marginal_ratio"] is None or a["marginal_ratio"] <= GOAL_MARGINAL
        if a.get("pair_bytes"):
            # one pair is in memory at a time, so the peak grows with its size: bounded means
            # the growth is at most twice the extra data (float32 train + test), nothing more
            grow = (p2.delta - p0.delta) / a["pair_bytes"](x2, x0)
            a["memory_ratio"], a["memory_goal"] = grow, "growth <= 2x the extra pair bytes"
            a["flat_memory"] = grow <= 2.0
        else:
            a["memory_goal"] = f"last / first <= {GOAL_MEMORY}x"
            a["flat_memory"] = a["memory_ratio"] <= GOAL_MEMORY
    return {"size": size, "axes": axes, "length": length, "dim": dim, "per_task": per_task}


def record(res: dict, md: Path, png: Path | None) -> str:
    lines = [
        f"\n## {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: scaling ({res['size']})\n",
        f"- machine: {machine()}",
        f"- versions: {versions()}",
        f"- extraction: random-init BERT-like 64d x 2 models (same architecture, other seeds), sequences of "
        f"{res['length']} nt, train + test; probe: geneb-v1 (sklearn, 3 regimes x 5 seeds), binary synthetic "
        f"pairs of dim {res['dim']} (test = train / 4); each point a fresh process",
        f"- goals: marginal seconds per unit over the last segment <= {GOAL_MARGINAL}x the first segment's "
        f"(linear growth; fixed costs such as model loading cancel), peak memory at the last point <= "
        f"{GOAL_MEMORY}x the first (flat), except along the probe's train rows, where one pair is held by design "
        f"(its peak may grow by at most twice the extra float32 data); peak = above the resident size after imports",
        "",
        "| stage | axis | point | seconds | seconds per unit | peak MiB |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for a in res["axes"]:
        for x, p in a["points"]:
            lines.append(f"| {a['stage']} | {a['axis']} | {x:,} | {p.seconds:.2f} | {p.seconds / x:.4g} | "
                         f"{p.delta / MiB:.1f} |")
    lines += ["", "| stage | axis | marginal s per unit, first / last segment | last / first | linear "
              "| peak memory | flat |", "|---|---|---:|---:|---|---|---|"]
    for a in res["axes"]:
        first, last = a["marginal"]
        ratio = "n/a (no growth beyond noise)" if a["marginal_ratio"] is None else f"{a['marginal_ratio']:.2f}x"
        lines.append(f"| {a['stage']} | {a['axis']} | {first:.4g} / {last:.4g} | {ratio} | "
                     f"{'yes' if a['linear'] else 'NO'} | {a['memory_ratio']:.2f}x ({a['memory_goal']}) | "
                     f"{'yes' if a['flat_memory'] else 'NO'} |")
    if png is not None:
        draw(res, png)
        lines += ["", f"Figure: `{png.name}` (time and peak memory against each axis)."]
    text = "\n".join(lines) + "\n"
    if not md.exists():
        md.write_text("# Scaling benchmark results\n\nAppended by `benchmarks/bench_scaling.py`; see its docstring.\n")
    with md.open("a") as fh:
        fh.write(text)
    return text


def draw(res: dict, png: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axs = plt.subplots(2, 3, figsize=(12, 6.5), constrained_layout=True)
    for ax, a in zip(axs.ravel(), res["axes"], strict=True):
        xs = [x for x, _ in a["points"]]
        ax.plot(xs, [p.seconds for _, p in a["points"]], "o-", color="tab:blue", label="seconds")
        ax.set_xlabel(a["axis"])
        ax.set_ylabel("seconds", color="tab:blue")
        ax.set_ylim(bottom=0)
        ax.set_xlim(left=0)
        ax2 = ax.twinx()
        ax2.plot(xs, [p.delta / MiB for _, p in a["points"]], "s--", color="tab:orange", label="peak MiB")
        ax2.set_ylabel("peak MiB", color="tab:orange")
        ax2.set_ylim(bottom=0)
        ratio = "n/a" if a["marginal_ratio"] is None else f"x{a['marginal_ratio']:.2f}"
        ax.set_title(f"{a['stage']}: marginal s per {a['unit']} {ratio}, memory x{a['memory_ratio']:.2f}", fontsize=9)
    fig.suptitle(f"geneb scaling ({res['size']}): seconds (blue) and peak memory above imports (orange); "
                 "titles: last segment / first segment, and last point / first point", fontsize=10)
    fig.savefig(png, dpi=110)
    plt.close(fig)


def run_benchmark(size: str = "default", out: str | Path | None = None, png: str | Path | None = None) -> dict:
    """Entry point for `make bench`: figures in the run_all shape."""
    res = run(size)
    md = Path(out) if out else HERE / "SCALING_RESULTS.md"
    png = Path(png) if png else (HERE / "scaling.png" if size != "tiny" else md.with_name("scaling.png"))
    record(res, md, png)
    figures = []
    for a in res["axes"]:
        check = size != "tiny"  # tiny inputs are all fixed cost
        first, last = a["marginal"]
        (x0, p0), _, (x2, p2) = a["points"]
        # ratios oriented like every make-bench figure: > 1 = better (here: sublinear / shrinking)
        figures.append({"name": f"{a['stage']} marginal seconds per {a['unit']}, last segment of {a['axis']} "
                                f"{x0:,}-{x2:,}", "value": last, "unit": "s", "baseline": first,
                        "baseline_name": "the first segment's", "ratio": first / last if first > 0 and last > 0 else None,
                        "goal": f">= {1 / GOAL_MARGINAL:.2f}x (linear: last <= {GOAL_MARGINAL}x first)",
                        "met": a["linear"] if check else None})
        if a.get("pair_bytes"):
            extra = a["pair_bytes"](x2, x0) / MiB
            figures.append({"name": f"{a['stage']} peak memory growth, {a['axis']} {x0:,}-{x2:,} (MiB)",
                            "value": (p2.delta - p0.delta) / MiB, "unit": "MiB", "baseline": extra,
                            "baseline_name": "the extra pair data (float32)",
                            "ratio": extra / max((p2.delta - p0.delta) / MiB, 1e-9),
                            "goal": ">= 0.50x (growth <= 2x the extra data)", "met": a["flat_memory"] if check else None})
        else:
            figures.append({"name": f"{a['stage']} peak memory at {x2:,} {a['axis']} (MiB)", "value": p2.delta / MiB,
                            "unit": "MiB", "baseline": p0.delta / MiB, "baseline_name": f"at {x0:,}",
                            "ratio": max(p0.delta, 1) / max(p2.delta, 1),
                            "goal": f">= {1 / GOAL_MEMORY:.2f}x (flat)", "met": a["flat_memory"] if check else None})
    return {"title": f"scaling, 3 points per axis ({size})", "figures": figures}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", choices=sorted(SIZES), default="default")
    ap.add_argument("--md", default=str(HERE / "SCALING_RESULTS.md"))
    ap.add_argument("--png", default=None, help="figure path (default: benchmarks/scaling.png)")
    args = ap.parse_args(argv)
    res = run(args.size)
    png = Path(args.png) if args.png else HERE / "scaling.png"
    print(record(res, Path(args.md), png))
    return 0


if __name__ == "__main__":
    sys.exit(main())
