"""Genome-window tasks: species of origin, virus/phage/bacterium, CpG-island context."""

from __future__ import annotations

import re

import numpy as np

from .loaders import Sources
from .seqops import (
    gc,
    gc_match,
    sample_windows,
    shuffle_rows,
)
from .taskdef import TEST_REGION, TRAIN_REGION, Rows, region_split

# --- DNA Methyl. (simulated label from sequence context) -----------------------------------


def _cgi_context(seq: str, center: int, half: int) -> tuple[float, float]:
    """GC fraction and CpG observed/expected of seq[center-half : center+half]."""
    w = seq[center - half : center + half]
    c, g = w.count("C"), w.count("G")
    cpg = w.count("CG")
    n = len(w)
    return (c + g) / n, (cpg * n / (c * g) if c and g else 0.0)


def build_methylation(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """80 nt windows centred on a CpG of real human chrX. Label 1: the CpG sits in a CpG-island
    context (its 1 kb neighbourhood has GC >= 0.55 and CpG o/e >= 0.65, the Takai-Jones
    criteria; such CpGs are mostly unmethylated); label 0: a CpG whose 1 kb neighbourhood has
    CpG o/e < 0.4 (bulk, mostly methylated), GC-matched on the 80 nt window from every such
    CpG of the region. Positives are >= 200 nt apart, so no two of them overlap."""
    chrx = src.human_chrx[0]

    def window(p: int) -> str:
        return chrx[p - 39 : p + 41]  # the CpG at offsets 39-40

    rows = []
    used: set[str] = set()  # no window twice (repeats), within or across splits
    for region, n in ((TRAIN_REGION, 450), (TEST_REGION, 150)):
        lo, hi = int(region[0] * len(chrx)) + 600, int(region[1] * len(chrx)) - 600
        cpgs = np.array([m.start() for m in re.finditer("CG", chrx[lo:hi])], dtype=np.int64) + lo
        pos: list[int] = []
        neg: dict[int, list[str]] = {}  # by GC bin of the window, at most n per bin
        for p in rng.permutation(cpgs).tolist():
            w = window(p)
            if "N" in chrx[p - 500 : p + 500] or w in used:
                continue
            gcf, oe = _cgi_context(chrx, p, 500)
            if gcf >= 0.55 and oe >= 0.65:
                if len(pos) < n and all(abs(p - q) >= 200 for q in pos):
                    pos.append(p)
                    used.add(w)
            elif oe < 0.4:
                b = neg.setdefault(int(gc(w) / 0.02), [])
                if len(b) < n:
                    b.append(w)
                    used.add(w)
        if len(pos) < n:
            raise RuntimeError(
                f"only {len(pos)} CpG-island CpGs found in region {region}, need {n}"
            )
        positives = [window(p) for p in pos]
        negatives = gc_match(positives, [w for k in sorted(neg) for w in neg[k]], rng)
        rows.append(shuffle_rows([(s, 1) for s in positives] + [(s, 0) for s in negatives], rng))
    return rows[0], rows[1]


# --- Species Clf. (real) -------------------------------------------------------------------

SPECIES = {
    0: "human_chrx",
    1: "celegans_chrx",
    2: "pfalciparum",
    3: "pknowlesi",
    4: "ddis_genome",
}


def build_species(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Which of five eukaryotes a 150 nt genome window comes from (human chrX, C. elegans chrX,
    P. falciparum, P. knowlesi, D. discoideum); train/test windows from disjoint regions."""
    train: Rows = []
    test: Rows = []
    for label, key in SPECIES.items():
        contigs = (
            src.ddis_genome
            if key == "ddis_genome"
            else src.human_chrx
            if key == "human_chrx"
            else src.contigs(key)
        )
        tr, te = region_split(lambda n, reg, c=contigs: sample_windows(c, n, 150, rng, reg), 320)
        train += [(s, label) for s in tr]
        test += [(s, label) for s in te]
    return shuffle_rows(train, rng), shuffle_rows(test, rng)


BACTERIA = {0: "ecoli536", 1: "saureus", 2: "hpylori"}
BACT_LEN = 64


def build_species_bacteria(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Which of three bacteria a 64 nt genome window comes from (E. coli 536, S. aureus,
    H. pylori; the first chromosome of each file); train/test from disjoint regions."""
    train: Rows = []
    test: Rows = []
    for label, key in BACTERIA.items():
        contigs = src.contigs(key)[:1]
        tr, te = region_split(
            lambda n, reg, c=contigs: sample_windows(c, n, BACT_LEN, rng, reg), 400
        )
        train += [(s, label) for s in tr]
        test += [(s, label) for s in te]
    return shuffle_rows(train, rng), shuffle_rows(test, rng)


# --- Virus/Phage (real) --------------------------------------------------------------------

PHAGE_LEN = 250
PHAGE_PER_CLASS = {TRAIN_REGION: 240, TEST_REGION: 80}


def build_phage(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Bacterium, phage or virus: 250 nt fragments of E. coli 536 (0, GC-matched to the phage),
    its phage lambda (1), or the honeybee RNA viruses DWV and VDV-1 (2, half each). Train
    fragments come from the first 75% of every genome, test fragments from the last 25%."""
    lam, eco = src.contigs("lambda"), src.contigs("ecoli536")
    dwv, vdv = src.contigs("dwv"), src.contigs("vdv1")
    out = []
    for region, n in PHAGE_PER_CLASS.items():
        phage = sample_windows(lam, n, PHAGE_LEN, rng, region)
        bact = gc_match(phage, sample_windows(eco, 8 * n, PHAGE_LEN, rng, region), rng)
        virus = sample_windows(dwv, n // 2, PHAGE_LEN, rng, region) + sample_windows(
            vdv, n - n // 2, PHAGE_LEN, rng, region
        )
        out.append(
            shuffle_rows(
                [(s, 0) for s in bact] + [(s, 1) for s in phage] + [(s, 2) for s in virus], rng
            )
        )
    return out[0], out[1]
