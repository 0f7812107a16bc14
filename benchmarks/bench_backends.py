"""Benchmark: how far the torch (and, on a GPU box with RAPIDS, cuML) probe backends are
from the scikit-learn reference (geneb-v1) on the same arrays, cell by cell.

For every task, regime and seed the geneb-v1 grid is fitted by the reference backend
(scikit-learn lbfgs, ``LogisticRegression(max_iter=1000, random_state=seed)``) and by
each contender on the same float32 arrays; reported are |delta MCC| per seed and per
(task, regime) cell (the mean over the 5 seeds, what a submission holds), split by
whether scikit-learn converged on every seed of the cell, and how many 4-decimal
submission values differ. Contenders:

- ``torch``: the torch backend as `geneb probe --backend torch` runs it (protocol
  ``geneb-v1+torch``: sklearn's objective in float64, solved to max|gradient| <= 1e-6,
  at most 2000 iterations);
- ``torch, sklearn's stopping rule``: the same solver stopped as lbfgs is asked to stop
  (max|gradient| <= tol = 1e-4, at most max_iter = 1000 iterations);
- ``cuml``: where cuML is importable.

Suites: ``mini`` (the built-in geneb-mini tasks, each embedded by 3-, 4-, 5- and 6-mer
frequency profiles: four k-mer "models", the 5-mer one as `bench_probe.py --suite mini`), ``synthetic`` (the GENEB-shaped synthetic
set of `bench_probe.py`; ``--n-scale``/``--dim-scale`` shrink it) and ``unconverged``
(the geneb-mini tasks embedded by 3-/4-mer counts x16, large ill-conditioned features on
which lbfgs often stops at max_iter).
Results are appended to benchmarks/BACKEND_RESULTS.md (or ``--md``).

    python benchmarks/bench_backends.py --suite mini
    python benchmarks/bench_backends.py --suite synthetic --n-tasks 100 --n-scale 0.1
    python benchmarks/bench_backends.py --suite unconverged
    python benchmarks/bench_backends.py --suite synthetic --n-tasks 30 --n-scale 1   # full GENEB sizes
    python benchmarks/bench_backends.py --tiny --md /tmp/x.md     # seconds, for tests
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _record import machine, versions  # noqa: E402
from bench_probe import kmer_profile, synthetic_tasks  # noqa: E402

Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def mini_suite(ks: tuple[int, ...] = (3, 4, 5, 6), counts_scale: float | None = None
               ) -> Iterator[tuple[str, Arrays]]:
    """The geneb-mini tasks, each embedded by a k-mer profile per k (one "model" per k):
    frequencies, or with ``counts_scale`` counts times that factor (large, unnormalised
    features: lbfgs often stops at max_iter on them)."""
    from geneb.catalog import get_benchmark
    from geneb.data import load_task

    for tid in get_benchmark("geneb-mini").task_ids:
        d = load_task(tid)
        tr, te = d.split("train"), d.split("test")
        for k in ks:
            def emb(seqs, k=k):
                X = kmer_profile(seqs, k)
                if counts_scale is not None:
                    X = X * (np.array([len(s) for s in seqs], np.float32)[:, None] * counts_scale)
                return X.astype(np.float32)

            yield f"kmer{k}/{tid}", (emb(tr.sequences), np.asarray(tr.labels, np.int64),
                                     emb(te.sequences), np.asarray(te.labels, np.int64))


def synthetic_suite(n_tasks: int, n_scale: float, dim_scale: float, scale: float = 1.0,
                    seed: int = 0) -> Iterator[tuple[str, Arrays]]:
    from geneb.testing import make_embeddings

    for t in synthetic_tasks(n_tasks, n_scale, dim_scale, seed=seed):
        a = make_embeddings(t)
        (Xtr, ytr), (Xte, yte) = a["train"], a["test"]
        if scale != 1.0:
            Xtr, Xte = (Xtr * scale).astype(np.float32), (Xte * scale).astype(np.float32)
        yield t.task, (Xtr, ytr, Xte, yte)


def contenders() -> list[tuple[str, str, object]]:
    """(label, protocol, backend) for every contender available here."""
    import importlib.util

    out: list[tuple[str, str, object]] = []
    if importlib.util.find_spec("torch") is not None:
        from geneb.probe.backends.torch_backend import TorchBackend

        out.append(("torch (geneb-v1+torch: gtol 1e-6, max 2000 it)", "geneb-v1+torch", "torch"))
        out.append(("torch, sklearn's stopping rule (gtol 1e-4, max 1000 it)", "geneb-v1+torch",
                    TorchBackend(gtol=1e-4, max_iter=1000)))
    if importlib.util.find_spec("cuml") is not None:
        out.append(("cuml (geneb-v1+cuml)", "geneb-v1+cuml", "cuml"))
    return out


def fit_suite(suite, labels) -> tuple[dict, dict[str, dict], dict[str, float], int]:
    """{(task, regime, seed): (mcc, converged)} for the reference and each contender."""
    from geneb.probe import probe_arrays

    ref: dict = {}
    got: dict[str, dict] = {lab: {} for lab, _, _ in labels}
    secs = {"sklearn": 0.0, **{lab: 0.0 for lab, _, _ in labels}}
    n = 0
    for task, (Xtr, ytr, Xte, yte) in suite:
        n += 1
        t0 = time.perf_counter()
        for r in probe_arrays(Xtr, ytr, Xte, yte, protocol="geneb-v1", backend="sklearn", where=task):
            ref[(task, r["regime"], r["seed"])] = (r["mcc"], r["converged"])
        secs["sklearn"] += time.perf_counter() - t0
        for lab, proto, be in labels:
            t0 = time.perf_counter()
            for r in probe_arrays(Xtr, ytr, Xte, yte, protocol=proto, backend=be, where=task):
                got[lab][(task, r["regime"], r["seed"])] = (r["mcc"], r["converged"])
            secs[lab] += time.perf_counter() - t0
        print(f"  {task}: done", flush=True)
    return ref, got, secs, n


def deviation(ref: dict, got: dict) -> dict:
    """|delta MCC| per seed and per (task, regime) seed mean, split by sklearn convergence."""
    keys = sorted(ref)
    d_seed = np.array([abs(ref[k][0] - got[k][0]) for k in keys])
    conv_seed = np.array([ref[k][1] for k in keys])
    cells: dict[tuple[str, str], list] = {}
    for k in keys:
        cells.setdefault(k[:2], []).append(k)
    c_keys = sorted(cells)
    m_ref = np.array([np.mean([ref[k][0] for k in cells[c]]) for c in c_keys])
    m_got = np.array([np.mean([got[k][0] for k in cells[c]]) for c in c_keys])
    d_cell = np.abs(m_ref - m_got)
    conv_cell = np.array([all(ref[k][1] for k in cells[c]) for c in c_keys])
    r4 = int(sum(round(float(a), 4) != round(float(b), 4) for a, b in zip(m_ref, m_got, strict=True)))
    worst = [(c_keys[i], float(m_ref[i]), float(m_got[i]), bool(conv_cell[i])) for i in np.argsort(-d_cell)[:5]]

    def part(d, mask):
        d = d[mask]
        if not len(d):
            return {"n": 0, "max": float("nan"), "gt_1e3": 0, "gt_1e2": 0}
        return {"n": int(len(d)), "max": float(d.max()), "gt_1e3": int((d > 1e-3).sum()), "gt_1e2": int((d > 1e-2).sum())}

    return {
        "seed_all": part(d_seed, np.ones_like(conv_seed)), "seed_conv": part(d_seed, conv_seed),
        "seed_unconv": part(d_seed, ~conv_seed),
        "cell_all": part(d_cell, np.ones_like(conv_cell)), "cell_conv": part(d_cell, conv_cell),
        "cell_unconv": part(d_cell, ~conv_cell),
        "r4_differ": r4, "n_cells": len(c_keys), "worst": worst,
        "sk_unconverged_fits": int((~conv_seed).sum()),
        "contender_unconverged_fits": int(sum(not got[k][1] for k in keys)),
    }


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--suite", choices=["mini", "synthetic", "unconverged"], default="mini")
    ap.add_argument("--n-tasks", type=int, default=100, help="synthetic tasks (default 100)")
    ap.add_argument("--n-scale", type=float, default=0.1, help="multiply every synthetic n_train/n_test (default 0.1)")
    ap.add_argument("--dim-scale", type=float, default=1.0, help="multiply every synthetic dim (default 1)")
    ap.add_argument("--tiny", action="store_true", help="a seconds-long run (tests): 3 tiny synthetic tasks")
    ap.add_argument("--md", default=str(HERE / "BACKEND_RESULTS.md"), help="markdown file to append results to")
    return ap


def run(args: argparse.Namespace, argv: list[str]) -> dict:
    warnings.filterwarnings("ignore")
    if args.tiny:
        args.suite, args.n_tasks, args.n_scale, args.dim_scale = "synthetic", 3, 0.02, 0.01
    if args.suite == "mini":
        suite = mini_suite()
        shape = ("geneb-mini tasks, each embedded by 3-, 4-, 5- and 6-mer frequency profiles "
                 "(4 k-mer \"models\", 64-4,096 dims, float32)")
    elif args.suite == "synthetic":
        suite = synthetic_suite(args.n_tasks, args.n_scale, args.dim_scale)
        shape = (f"{args.n_tasks} GENEB-shaped synthetic tasks (bench_probe.synthetic_tasks, "
                 f"--n-scale {args.n_scale}, --dim-scale {args.dim_scale}), float32")
    else:
        suite = mini_suite((3, 4), counts_scale=16.0)
        shape = ("geneb-mini tasks embedded by 3- and 4-mer counts x16 (unnormalised, large features, "
                 "ill-conditioned: lbfgs stops at max_iter on many fits), float32")
    labels = contenders()
    t0 = time.perf_counter()
    ref, got, secs, n_tasks = fit_suite(suite, labels)
    wall = time.perf_counter() - t0
    lines = [
        f"\n## {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC: {args.suite}{' (tiny)' if args.tiny else ''}\n",
        f"- machine: {machine()}",
        f"- versions: {versions(blas=True)}",
        f"- command: `python benchmarks/bench_backends.py {' '.join(argv)}`",
        f"- data: {shape}; {n_tasks} tasks x 3 regimes x 5 seeds = {len(ref)} fits per backend; "
        f"scikit-learn stopped unconverged (max_iter) on {sum(not v[1] for v in ref.values())} of them",
        f"- seconds: {', '.join(f'{k} {v:.1f}' for k, v in secs.items())} (wall {wall:.1f})",
        "",
        "| contender | cells: (task, regime) seed means | max abs dMCC | > 1e-3 | > 0.01 | 4-decimal values that differ | "
        "max abs dMCC where sklearn converged on all 5 seeds | ... where not | per seed: max | > 0.01 | "
        "contender's unconverged fits |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    out = {}
    for lab, _, _ in labels:
        d = deviation(ref, got[lab])
        out[lab] = d
        ca, cc, cu, sa = d["cell_all"], d["cell_conv"], d["cell_unconv"], d["seed_all"]
        lines.append(
            f"| {lab} | {d['n_cells']} | {ca['max']:.4f} | {ca['gt_1e3']} | {ca['gt_1e2']} | {d['r4_differ']} | "
            f"{cc['max']:.4f} ({cc['n']} cells) | {cu['max']:.4f} ({cu['n']} cells) | {sa['max']:.4f} | "
            f"{sa['gt_1e2']}/{sa['n']} | {d['contender_unconverged_fits']} |"
        )
    for lab, d in out.items():
        worst = "; ".join(f"{t}/{r} {a:.4f} vs {b:.4f}{'' if c else ' (sklearn unconverged)'}"
                          for (t, r), a, b, c in d["worst"])
        lines.append(f"\n- worst cells, {lab}: {worst}")
    text = "\n".join(lines) + "\n"
    md = Path(args.md)
    if not md.exists():
        md.write_text("# Probe backends against the scikit-learn reference\n\nAppended by "
                      "`benchmarks/bench_backends.py`; see its docstring for what is measured.\n")
    with md.open("a") as fh:
        fh.write(text)
    print(text)
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    run(build_parser().parse_args(argv), argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
