"""Real Drosophila tasks from the dm3 2 kb upstream sequences (promoter, upstream position)."""

from __future__ import annotations

import re
from bisect import bisect_left

import numpy as np

from .loaders import Sources
from .seqops import (
    gc_match,
    is_clean,
    split_rows,
)
from .taskdef import TEST_FRACTION, Rows

# --- Promoters / Regulatory (real, Drosophila 2 kb upstream) ---------------------------------

_DMEL_HDR = re.compile(r"_up_2000_(\S+)_(\d+)_([fr])\s")


def _dmel_records(src: Sources) -> list[tuple[str, int, str, str]]:
    """(chrom, 1-based start of the 2 kb region, strand f/r, sequence), unambiguous only."""
    out = []
    for h, s in src.dmel_upstream:
        m = _DMEL_HDR.search(h + " ")
        if m and is_clean(s):
            out.append((m.group(1), int(m.group(2)), m.group(3), s))
    return out


def _offset_interval(chrom: str, start: int, strand: str, a: int, b: int) -> tuple[str, int, int]:
    """Genomic interval of upstream offsets [a, b) (0 = 2 kb upstream, 2000 = the TSS)."""
    if strand == "f":
        return chrom, start + a, start + b
    end = start + 2000
    return chrom, end - b, end - a


def _proximal_index(
    recs: list[tuple[str, int, str, str]], width: int
) -> dict[str, list[tuple[int, int]]]:
    idx: dict[str, list[tuple[int, int]]] = {}
    for chrom, start, strand, _ in recs:
        c, a, b = _offset_interval(chrom, start, strand, 2000 - width, 2000)
        idx.setdefault(c, []).append((a, b))
    for v in idx.values():
        v.sort()
    return idx


def _overlaps(idx: dict[str, list[tuple[int, int]]], chrom: str, a: int, b: int, pad: int) -> bool:
    ivs = idx.get(chrom, [])
    i = bisect_left(ivs, (a - 4000, 0))
    while i < len(ivs) and ivs[i][0] < b + pad:
        if ivs[i][1] + pad > a:
            return True
        i += 1
    return False


def build_promoter(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Proximal promoter (-300..-1 of an annotated TSS) vs a distal upstream window (-2000..-1701)
    of another gene that overlaps no annotated proximal promoter (+-300 nt), GC-matched."""
    recs = _dmel_records(src)
    order = rng.permutation(len(recs))
    half = len(order) // 2  # genes of the first half -> promoter task, the rest -> regulatory task
    pos_genes, neg_genes = order[: half // 2], order[half // 2 : half]
    prox = _proximal_index(recs, 300)
    positives = [recs[i][3][-300:] for i in pos_genes[:700]]
    pool = []
    for i in neg_genes:
        chrom, start, strand, seq = recs[i]
        c, a, b = _offset_interval(chrom, start, strand, 0, 300)
        if not _overlaps(prox, c, a, b, pad=300):
            pool.append(seq[:300])
    negatives = gc_match(positives, pool, rng)
    return split_rows({1: positives, 0: negatives}, TEST_FRACTION, rng)


REGULATORY_BINS = {0: (1750, 2000), 1: (1000, 1250), 2: (0, 250)}  # proximal, mid, distal


def build_regulatory(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Where in a gene's 2 kb upstream region a 250 nt window lies: -250..-1 (0), -1000..-751 (1),
    -2000..-1751 (2); each gene contributes one window, genes disjoint from the promoter task."""
    recs = _dmel_records(src)
    order = rng.permutation(len(recs))
    genes = order[len(order) // 2 :]
    rows: dict[int, list[str]] = {}
    per_class = 450
    for label, (a, b) in REGULATORY_BINS.items():
        chosen = genes[label * per_class : (label + 1) * per_class]
        rows[label] = [recs[i][3][a:b] for i in chosen]
    return split_rows(rows, TEST_FRACTION, rng)
