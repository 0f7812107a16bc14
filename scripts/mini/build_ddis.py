"""Real (and one proxy) Dictyostelium tasks from its genome, cDNAs and their spliced alignment."""

from __future__ import annotations

import re

import numpy as np

from .loaders import Sources
from .seqops import (
    gc_balance,
    gc_match,
    is_clean,
    revcomp,
    shuffle_rows,
    split_rows,
)
from .splice import site_window
from .taskdef import TEST_FRACTION, Rows

# --- Splice Sites (real, Dictyostelium) ----------------------------------------------------

SPLICE_PER_CLASS = {"train": 400, "test": 135}
SPLICE_LEN = 100
SPLICE_DECOYS_PER_JUNCTION = 8


def build_splice(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """3-class 100 nt windows in gene orientation: donor (exon|GT..), acceptor (..AG|exon), or a
    non-site GT/AG from the same aligned loci (same dinucleotide at the same offset), the
    non-sites GC-matched to the true sites. Junctions come from exact cDNA-to-genome
    alignment; loci (junctions < 3 kb apart) are split train/test."""
    genome = src.ddis_index.genome
    junctions = src.ddis_alignment.junctions
    true_bounds = {b for j in junctions for b in (j.intron_start, j.intron_end)}
    cluster: dict[int, int] = {}
    for i, j in enumerate(junctions):
        near = i > 0 and j.intron_start - junctions[i - 1].intron_end < 3000
        cluster[i] = cluster[i - 1] if near else i
    loci = sorted(set(cluster.values()))
    test_loci = set(
        rng.choice(loci, size=int(round(TEST_FRACTION * len(loci))), replace=False).tolist()
    )
    rows: dict[str, dict[int, list[str]]] = {
        "train": {0: [], 1: [], 2: []},
        "test": {0: [], 1: [], 2: []},
    }
    for i, j in enumerate(junctions):
        split = "test" if cluster[i] in test_loci else "train"
        donor_b, acc_b = (
            (j.intron_start, j.intron_end) if j.strand == "+" else (j.intron_end, j.intron_start)
        )
        rows[split][1].append(site_window(genome, donor_b, SPLICE_LEN, j.strand))
        rows[split][2].append(site_window(genome, acc_b, SPLICE_LEN, j.strand))
        # non-sites: GT (boundary before it) or AG (boundary after it) within 300 nt, gene orientation
        lo, hi = min(donor_b, acc_b) - 300, max(donor_b, acc_b) + 300
        region = genome[lo:hi] if j.strand == "+" else revcomp(genome[lo:hi])
        cands = []
        for m in re.finditer("(?=(GT|AG))", region):
            local = m.start() if m.group(1) == "GT" else m.start() + 2
            b = lo + local if j.strand == "+" else hi - local
            if abs(b - donor_b) > 3 and abs(b - acc_b) > 3 and b not in true_bounds:
                cands.append(b)
        for k in rng.permutation(len(cands))[:SPLICE_DECOYS_PER_JUNCTION]:
            rows[split][0].append(site_window(genome, cands[int(k)], SPLICE_LEN, j.strand))
    out = []
    in_train = {s for v in rows["train"].values() for s in v}
    for split in ("train", "test"):
        per = {  # drop repeats: a window seen twice (or, for test, seen in train) is kept once
            label: [
                s
                for s in dict.fromkeys(seqs)
                if is_clean(s) and len(s) == SPLICE_LEN and (split == "train" or s not in in_train)
            ]
            for label, seqs in rows[split].items()
        }
        n = min(len(per[1]), len(per[2]), SPLICE_PER_CLASS[split])
        donors = [per[1][int(i)] for i in rng.permutation(len(per[1]))[:n]]
        acceptors = [per[2][int(i)] for i in rng.permutation(len(per[2]))[:n]]
        sites = donors + acceptors
        targets = [sites[int(i)] for i in rng.permutation(len(sites))[:n]]
        decoys = gc_match(targets, [s for s in per[0] if s not in set(sites)], rng)
        picked = [(s, 1) for s in donors] + [(s, 2) for s in acceptors] + [(s, 0) for s in decoys]
        out.append(shuffle_rows(picked, rng))
    return out[0], out[1]


# --- lncRNA (simulated proxy: antisense transcripts) --------------------------------------

LNCRNA_LEN = 150


def build_lncrna(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Sense mRNA (label 1) vs antisense, i.e. the reverse complement, of other mRNAs (label 0,
    a natural-antisense-transcript proxy for non-coding RNA): one 150 nt window anywhere in
    each Dictyostelium cDNA whose strand is fixed by a spliced alignment (UTRs included);
    one cDNA per gene locus, used once, in one class and one split; identical windows dropped."""
    aln = src.ddis_alignment
    # one cDNA per gene locus (cDNAs whose first junctions lie < 3 kb apart share a locus),
    # so no gene appears in both classes or both splits
    kept: list[str] = []
    last = None
    for i in sorted(range(len(aln.sense_cdnas)), key=lambda k: (aln.sense_loci[k], k)):
        if last is None or aln.sense_loci[i] - last >= 3000:
            kept.append(aln.sense_cdnas[i])
        last = aln.sense_loci[i]
    windows = []
    for s in kept:
        if len(s) >= LNCRNA_LEN:
            start = int(rng.integers(0, len(s) - LNCRNA_LEN + 1))
            w = s[start : start + LNCRNA_LEN]
            if is_clean(w):
                windows.append(w)
    windows = list(dict.fromkeys(windows))
    order = rng.permutation(len(windows))[:1400]
    half = len(order) // 2
    rows = {1: [windows[i] for i in order[:half]], 0: [revcomp(windows[i]) for i in order[half:]]}
    return split_rows(rows, TEST_FRACTION, rng)


# --- Coding/NC (real, Dictyostelium) -------------------------------------------------------


def build_coding(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Coding (label 1): 100 nt windows inside annotated CDSs of full-length cDNAs (sense);
    non-coding (label 0): 100 nt windows inside cDNA-supported introns (>= 100 nt) and UTRs
    (sense). Both classes are subsampled to identical GC histograms (introns are far more
    AT-rich than exons in this genome, so GC alone would otherwise nearly solve the task)."""
    index = src.ddis_index
    nc: list[str] = []
    for j in src.ddis_alignment.junctions:
        if j.intron_end - j.intron_start >= 100:
            intron = index.genome[j.intron_start : j.intron_end]
            intron = intron if j.strand == "+" else revcomp(intron)
            start = int(rng.integers(0, len(intron) - 100 + 1))
            nc.append(intron[start : start + 100])
    coding_pool: list[str] = []
    for s, a, b in src.ddis_cds:
        for utr in (s[:a], s[b:]):
            if len(utr) >= 100:
                start = int(rng.integers(0, len(utr) - 100 + 1))
                nc.append(utr[start : start + 100])
        for start in range(a, b - 100 + 1, 100):
            coding_pool.append(s[start : start + 100])
    nc, coding = gc_balance(
        [w for w in nc if is_clean(w)], [w for w in coding_pool if is_clean(w)], rng, 700
    )
    return split_rows({1: coding, 0: nc}, TEST_FRACTION, rng)
