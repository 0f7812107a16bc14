"""Sequence operations for building tasks: windows, GC matching, reverse complement, splits.

All randomness comes from a `numpy.random.Generator` passed in, so a build is a pure
function of its seeds and source files.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_COMP = str.maketrans("ACGTN", "TGCAN")


def revcomp(seq: str) -> str:
    return seq.translate(_COMP)[::-1]


def gc(seq: str) -> float:
    acgt = sum(seq.count(b) for b in "ACGT")
    return (seq.count("G") + seq.count("C")) / acgt if acgt else 0.0


def is_clean(seq: str, max_n: int = 0) -> bool:
    """Only A/C/G/T (at most `max_n` Ns)."""
    return seq.count("N") <= max_n and set(seq) <= set("ACGTN")


def sample_windows(
    contigs: Sequence[str],
    n: int,
    length: int,
    rng: np.random.Generator,
    region: tuple[float, float] = (0.0, 1.0),
    max_tries: int = 50,
) -> list[str]:
    """`n` distinct random clean windows from a fraction `region` of the concatenated contigs.

    Restricting train and test to disjoint regions keeps overlapping windows out of both
    splits (no leakage through shared sequence).
    """
    sizes = np.array([len(c) for c in contigs], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    total = int(offsets[-1])
    lo, hi = int(region[0] * total), int(region[1] * total)
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < n:
        tries += 1
        if tries > max_tries * n + 1000:
            raise RuntimeError(
                f"could not find {n} clean windows of {length} nt in region {region}"
            )
        pos = int(rng.integers(lo, hi - length))
        ci = int(np.searchsorted(offsets, pos, side="right") - 1)
        start = pos - int(offsets[ci])
        if start + length > sizes[ci] or pos + length > hi:
            continue
        w = contigs[ci][start : start + length]
        if is_clean(w) and w not in seen:  # no duplicate windows (same start, or a repeat)
            seen.add(w)
            out.append(w)
    return out


def gc_match(
    targets: Sequence[str], pool: Sequence[str], rng: np.random.Generator, width: float = 0.02
) -> list[str]:
    """Pick one sequence from `pool` per target with GC content in the same bin (no reuse).

    Falls back to the nearest non-empty bin, so the GC distributions match as closely
    as the pool allows.
    """
    bins: dict[int, list[int]] = {}
    for i, s in enumerate(pool):
        bins.setdefault(int(gc(s) / width), []).append(i)
    for v in bins.values():
        rng.shuffle(v)
    keys = np.array(sorted(bins))
    out: list[str] = []
    for t in targets:
        b = int(gc(t) / width)
        order = keys[np.argsort(np.abs(keys - b), kind="stable")]
        for k in order:
            if bins[int(k)]:
                out.append(pool[bins[int(k)].pop()])
                break
        else:
            raise RuntimeError(
                f"GC matching ran out of pool sequences after {len(out)} of {len(targets)}"
            )
    return out


def gc_balance(
    a: Sequence[str], b: Sequence[str], rng: np.random.Generator, n_max: int, width: float = 0.02
) -> tuple[list[str], list[str]]:
    """Equal-size subsets of `a` and `b` with identical GC histograms (bins of `width`).

    Within each GC bin the smaller side sets how many of each are kept, so GC content
    alone carries no information about the class; at most `n_max` per side.
    """

    def by_bin(seqs: Sequence[str]) -> dict[int, list[str]]:
        out: dict[int, list[str]] = {}
        for s in dict.fromkeys(seqs):
            out.setdefault(int(gc(s) / width), []).append(s)
        return out

    ba, bb = by_bin(a), by_bin(b)
    pairs: list[tuple[str, str]] = []
    for k in sorted(set(ba) & set(bb)):
        xa = [ba[k][int(i)] for i in rng.permutation(len(ba[k]))]
        xb = [bb[k][int(i)] for i in rng.permutation(len(bb[k]))]
        pairs += list(zip(xa, xb, strict=False))
    keep = sorted(rng.permutation(len(pairs))[:n_max].tolist())
    return [pairs[i][0] for i in keep], [pairs[i][1] for i in keep]


def split_rows(
    rows_by_class: dict[int, list[str]], test_fraction: float, rng: np.random.Generator
) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """Stratified random train/test split, rows shuffled within each split."""
    train: list[tuple[str, int]] = []
    test: list[tuple[str, int]] = []
    for label in sorted(rows_by_class):
        seqs = list(rows_by_class[label])
        order = rng.permutation(len(seqs))
        n_test = int(round(test_fraction * len(seqs)))
        test += [(seqs[i], label) for i in order[:n_test]]
        train += [(seqs[i], label) for i in order[n_test:]]
    return shuffle_rows(train, rng), shuffle_rows(test, rng)


def shuffle_rows(rows: list[tuple[str, int]], rng: np.random.Generator) -> list[tuple[str, int]]:
    return [rows[i] for i in rng.permutation(len(rows))]
