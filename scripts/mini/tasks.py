"""The geneb-mini tasks: one builder per task, each a pure function of the sources and its seed.

A builder returns the train/test rows; `TaskDef` carries the catalog metadata (category,
whether labels are simulated, provenance). Task order here is the suite's official order
(GENEB category order).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .jaspar import Motif, plant_many, sample_site
from .loaders import Sources
from .seqops import (
    gc,
    gc_balance,
    gc_match,
    is_clean,
    revcomp,
    sample_windows,
    shuffle_rows,
    split_rows,
)
from .sources import describe
from .splice import site_window

Rows = list[tuple[str, int]]
TEST_FRACTION = 0.25
TRAIN_REGION = (0.0, 0.75)  # genome-window tasks: train windows from the first 75% of the sequence
TEST_REGION = (0.75, 1.0)  # ... and test windows from the last 25%, so no window spans both


@dataclass(frozen=True)
class TaskDef:
    task_id: str
    label: str
    category: str
    simulated: bool
    seed: int
    sources: tuple[str, ...]  # keys of sources.FILES
    method: str  # how the rows are made, for the provenance column
    build: Callable[[Sources, np.random.Generator], tuple[Rows, Rows]]

    def provenance(self) -> str:
        srcs = "; ".join(describe(k) for k in self.sources)
        return f"{srcs} | {self.method} | scripts/build_mini.py seed={self.seed}"

    def source_collection(self) -> str:
        return "geneb-mini (simulated labels)" if self.simulated else "geneb-mini (real data)"


def _region_split(
    make: Callable[[int, tuple[float, float]], list[str]], n_per_class: int
) -> tuple[list[str], list[str]]:
    n_test = int(round(TEST_FRACTION * n_per_class))
    return make(n_per_class - n_test, TRAIN_REGION), make(n_test, TEST_REGION)


def _sites(motifs: dict[str, Motif], ids: list[str], rng: np.random.Generator) -> list[str]:
    return [sample_site(motifs[i], rng) for i in ids]


# --- Histone Mod. (simulated) --------------------------------------------------------------

H3K4ME3_TFS = ["MA0079.5", "MA0506.1", "MA0060.3", "MA0028.2", "MA0095.2"]  # SP1 NRF1 NFYA ELK1 YY1
H3K4ME3_DECOYS = ["MA0148.4", "MA0594.2", "MA0442.2", "MA0497.1", "MA0466.2"]  # FOXA1 HOXA9 SOX10 MEF2C CEBPB


def build_histone(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Promoter-mark-like windows: real human chrX 500 nt, both classes carry 2-3 planted real
    JASPAR sites; class 1 sites come from promoter TFs (H3K4me3-associated), class 0 from
    tissue TFs. Backgrounds are drawn from the same pool, so only the planted sites differ."""
    motifs = src.motifs(H3K4ME3_TFS + H3K4ME3_DECOYS)
    out = []
    for region, n in ((TRAIN_REGION, 375), (TEST_REGION, 125)):
        rows: Rows = []
        for label, pool in ((1, H3K4ME3_TFS), (0, H3K4ME3_DECOYS)):
            for bg in sample_windows(src.human_chrx, n, 500, rng, region):
                k = int(rng.integers(2, 4))
                ids = [pool[int(i)] for i in rng.choice(len(pool), size=k, replace=False)]
                rows.append((plant_many(bg, _sites(motifs, ids, rng), rng), label))
        out.append(shuffle_rows(rows, rng))
    return out[0], out[1]


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


def _proximal_index(recs: list[tuple[str, int, str, str]], width: int) -> dict[str, list[tuple[int, int]]]:
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


# --- Enhancers (simulated) -----------------------------------------------------------------

ERYTHROID = ["MA0140.2", "MA0493.2", "MA0035.4"]  # GATA1::TAL1 composite, KLF1, GATA1
ENHANCER_DECOYS = ["MA0148.4", "MA0114.4", "MA0466.2"]  # FOXA1 HNF4A CEBPB


def build_enhancer(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Erythroid-enhancer grammar on real human chrX 400 nt windows: class 1 carries the full
    set (GATA1::TAL1 composite + KLF1 + GATA1); class 0 one of those three plus two liver-TF
    decoys. Both classes carry three planted sites."""
    motifs = src.motifs(ERYTHROID + ENHANCER_DECOYS)
    out = []
    for region, n in ((TRAIN_REGION, 450), (TEST_REGION, 150)):
        rows: Rows = []
        for bg in sample_windows(src.human_chrx, n, 400, rng, region):
            rows.append((plant_many(bg, _sites(motifs, ERYTHROID, rng), rng), 1))
        for bg in sample_windows(src.human_chrx, n, 400, rng, region):
            ids = [ERYTHROID[int(rng.integers(3))]] + [ENHANCER_DECOYS[int(i)] for i in rng.choice(3, 2, replace=False)]
            rows.append((plant_many(bg, _sites(motifs, ids, rng), rng), 0))
        out.append(shuffle_rows(rows, rng))
    return out[0], out[1]


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
            raise RuntimeError(f"only {len(pos)} CpG-island CpGs found in region {region}, need {n}")
        positives = [window(p) for p in pos]
        negatives = gc_match(positives, [w for k in sorted(neg) for w in neg[k]], rng)
        rows.append(shuffle_rows([(s, 1) for s in positives] + [(s, 0) for s in negatives], rng))
    return rows[0], rows[1]


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
    test_loci = set(rng.choice(loci, size=int(round(TEST_FRACTION * len(loci))), replace=False).tolist())
    rows: dict[str, dict[int, list[str]]] = {"train": {0: [], 1: [], 2: []}, "test": {0: [], 1: [], 2: []}}
    for i, j in enumerate(junctions):
        split = "test" if cluster[i] in test_loci else "train"
        donor_b, acc_b = (j.intron_start, j.intron_end) if j.strand == "+" else (j.intron_end, j.intron_start)
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
            label: [s for s in dict.fromkeys(seqs) if is_clean(s) and len(s) == SPLICE_LEN
                    and (split == "train" or s not in in_train)]
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


# --- Mouse Enh. (simulated on real mouse sequence) -----------------------------------------

ESC_PARTNERS = ["MA0039.4", "MA0141.3", "MA2339.1"]  # Klf4 Esrrb Nanog
ESC_COMPOSITE = "MA0142.1"  # Pou5f1::Sox2
ESC_DECOYS = ["MA0046.2", "MA0497.1", "MA0090.3"]  # HNF1A MEF2C TEAD1


def build_mouse_enhancer(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """ESC-enhancer grammar on real mouse 200 nt ChIP-seq peak sequences (Mafk peaks unused by
    the TF task): class 1 carries an OCT4-SOX2 composite site plus one ESC partner (Klf4,
    Esrrb or Nanog); class 0 carries two sites from the partners and decoys, no composite."""
    motifs = src.motifs([ESC_COMPOSITE] + ESC_PARTNERS + ESC_DECOYS)
    bgs = _tf_peaks(src)[2]
    bgs = [bgs[int(i)] for i in rng.permutation(len(bgs))[:1200]]
    rows: dict[int, list[str]] = {1: [], 0: []}
    for k, bg in enumerate(bgs):
        if k % 2 == 0:
            ids = [ESC_COMPOSITE, ESC_COMPOSITE, ESC_PARTNERS[int(rng.integers(3))]]
            rows[1].append(plant_many(bg, _sites(motifs, ids, rng), rng))
        else:
            pool = ESC_PARTNERS + ESC_DECOYS
            ids = [pool[int(i)] for i in rng.choice(len(pool), 3, replace=False)]
            rows[0].append(plant_many(bg, _sites(motifs, ids, rng), rng))
    return split_rows(rows, TEST_FRACTION, rng)


# --- TF Binding (real, janggu ChIP-seq peaks) ----------------------------------------------

TF_PER_CLASS = 800
TF_POOL = 2600  # peaks per file offered to GC balancing; the rest of Mafk feeds the mouse task


def _tf_peaks(src: Sources) -> tuple[list[str], list[str], list[str]]:
    """(Oct4 peaks used, Mafk peaks used, Mafk peaks left for the mouse-enhancer task)."""
    from .sources import read_fasta

    def clean(key: str) -> list[tuple[str, str]]:
        return [(h, s) for h, s in read_fasta(src.paths[key]) if len(s) == 200 and is_clean(s)]

    oct4, mafk = clean("oct4_peaks"), clean("mafk_peaks")
    shared = {s for _, s in oct4} & {s for _, s in mafk}
    oct4_s = list(dict.fromkeys(s for _, s in oct4 if s not in shared))
    mafk_s = list(dict.fromkeys(s for _, s in mafk if s not in shared))
    return oct4_s[:TF_POOL], mafk_s[:TF_POOL], mafk_s[TF_POOL:]


def build_tf(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Oct4 (label 1) vs Mafk (label 0) ChIP-seq peak centres, 200 nt, real mouse sequence:
    800 of each, drawn from the first 2600 clean peaks of each file so that both classes have
    identical GC histograms (Mafk peaks are GC-richer); sequences present in both dropped."""
    oct4, mafk, _ = _tf_peaks(src)
    oct4, mafk = gc_balance(oct4, mafk, rng, TF_PER_CLASS)
    return split_rows({1: oct4, 0: mafk}, TEST_FRACTION, rng)


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
        contigs = src.ddis_genome if key == "ddis_genome" else src.human_chrx if key == "human_chrx" else src.contigs(key)
        tr, te = _region_split(lambda n, reg, c=contigs: sample_windows(c, n, 150, rng, reg), 320)
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
        tr, te = _region_split(lambda n, reg, c=contigs: sample_windows(c, n, BACT_LEN, rng, reg), 400)
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
        virus = sample_windows(dwv, n // 2, PHAGE_LEN, rng, region) + sample_windows(vdv, n - n // 2, PHAGE_LEN, rng, region)
        out.append(shuffle_rows([(s, 0) for s in bact] + [(s, 1) for s in phage] + [(s, 2) for s in virus], rng))
    return out[0], out[1]


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
    nc, coding = gc_balance([w for w in nc if is_clean(w)], [w for w in coding_pool if is_clean(w)], rng, 700)
    return split_rows({1: coding, 0: nc}, TEST_FRACTION, rng)


# --- Chromatin Acc. (simulated) ------------------------------------------------------------

ACCESSIBLE_TFS = ["MA0099.3", "MA0080.5", "MA0105.4", "MA0050.2", "MA0466.2"]  # AP-1 SPI1 NFKB1 IRF1 CEBPB
CTCF = "MA0139.2"


def build_chromatin(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Accessible-region grammar on real human chrX 1000 nt windows: class 1 has a CTCF site
    and three pioneer/immune TF sites clustered in the central 200 nt (a nucleosome-free-like
    core); class 0 has two sites of the same TFs scattered anywhere, no CTCF."""
    motifs = src.motifs([CTCF] + ACCESSIBLE_TFS)
    out = []
    for region, n in ((TRAIN_REGION, 375), (TEST_REGION, 125)):
        rows: Rows = []
        for bg in sample_windows(src.human_chrx, n, 1000, rng, region):
            ids = [CTCF] + [ACCESSIBLE_TFS[int(i)] for i in rng.choice(5, 4, replace=False)]
            core = plant_many(bg[375:625], _sites(motifs, ids, rng), rng)
            rows.append((bg[:375] + core + bg[625:], 1))
        for bg in sample_windows(src.human_chrx, n, 1000, rng, region):
            ids = [ACCESSIBLE_TFS[int(rng.integers(5))]]
            rows.append((plant_many(bg, _sites(motifs, ids, rng), rng), 0))
        out.append(shuffle_rows(rows, rng))
    return out[0], out[1]


TASKS: tuple[TaskDef, ...] = (
    TaskDef("mini_histone_promoter_tfs_sim", "mini H3K4me3-like (sim)", "Histone Mod.", True, 101,
            ("human_chrx", "jaspar"),
            "500 nt hs37 chrX windows + 2-3 planted JASPAR2024 sites: promoter TFs "
            f"{'/'.join(H3K4ME3_TFS)} (1) vs tissue TFs {'/'.join(H3K4ME3_DECOYS)} (0)", build_histone),
    TaskDef("mini_promoter_dmel", "mini Drosophila promoter", "Promoters", False, 102,
            ("dmel_upstream",),
            "dm3 upstream2000: -300..-1 of the TSS (1) vs -2000..-1701 of other genes clear of any "
            "proximal promoter (0), GC-matched", build_promoter),
    TaskDef("mini_enhancer_erythroid_sim", "mini erythroid enhancer grammar (sim)", "Enhancers", True, 103,
            ("human_chrx", "jaspar"),
            f"400 nt hs37 chrX windows + planted {'+'.join(ERYTHROID)} (1) vs one of them + 2 of "
            f"{'/'.join(ENHANCER_DECOYS)} (0)", build_enhancer),
    TaskDef("mini_methyl_cgi_context_hsx", "mini CpG-island context (sim label)", "DNA Methyl.", True, 104,
            ("human_chrx",),
            "80 nt hs37 chrX windows centred on a CpG; 1 kb context GC>=0.55 & CpG o/e>=0.65 (1) vs "
            "o/e<0.4 (0), GC-matched", build_methylation),
    TaskDef("mini_splice_ddis", "mini Dictyostelium splice sites", "Splice Sites", False, 105,
            ("ddis_genome", "ddis_cdna"),
            "100 nt windows at exact cDNA-genome GT-AG junctions: non-site GT/AG (0), donor (1), "
            "acceptor (2); loci split", build_splice),
    TaskDef("mini_lncrna_antisense_ddis", "mini sense vs antisense transcript (sim proxy)", "lncRNA", True, 106,
            ("ddis_cdna",),
            "150 nt windows of cDNAs oriented by spliced alignment: sense (1) vs reverse complement "
            "of other cDNAs (0)", build_lncrna),
    TaskDef("mini_mouse_enh_esc_sim", "mini mouse ESC enhancer grammar (sim)", "Mouse Enh.", True, 107,
            ("mafk_peaks", "jaspar"),
            f"200 nt mouse Mafk peaks (unused by TF task) + planted {ESC_COMPOSITE} + one of "
            f"{'/'.join(ESC_PARTNERS)} (1) vs 2 of partners/decoys {'/'.join(ESC_DECOYS)} (0)",
            build_mouse_enhancer),
    TaskDef("mini_tf_oct4_mafk", "mini Oct4 vs Mafk ChIP-seq", "TF Binding", False, 108,
            ("oct4_peaks", "mafk_peaks"),
            "200 nt peak centres: 800 Oct4 (1) vs 800 Mafk (0) peaks, GC-balanced, from the first 2600 of each file", build_tf),
    TaskDef("mini_species_euk5", "mini 5 eukaryotes", "Species Clf.", False, 109,
            ("human_chrx", "celegans_chrx", "pfalciparum", "pknowlesi", "ddis_genome"),
            "150 nt windows: human chrX (0), C. elegans chrX (1), P. falciparum (2), P. knowlesi (3), "
            "D. discoideum (4); train/test from disjoint genome regions", build_species),
    TaskDef("mini_species_bact3", "mini 3 bacteria (64 nt)", "Species Clf.", False, 114,
            ("ecoli536", "saureus", "hpylori"),
            f"{BACT_LEN} nt windows: E. coli 536 (0), S. aureus (1), H. pylori (2), first chromosome of "
            "each file; train/test from disjoint genome regions", build_species_bacteria),
    TaskDef("mini_regulatory_dmel_position", "mini upstream position class", "Regulatory", False, 110,
            ("dmel_upstream",),
            "dm3 upstream2000, one 250 nt window per gene: -250..-1 (0), -1000..-751 (1), -2000..-1751 (2); "
            "genes disjoint from the promoter task",
            build_regulatory),
    TaskDef("mini_virus_phage_bacteria", "mini bacterium / phage / RNA virus", "Virus/Phage", False, 111,
            ("ecoli536", "lambda", "dwv", "vdv1"),
            "250 nt fragments: E. coli 536 GC-matched to the phage (0), phage lambda (1), honeybee RNA "
            "viruses DWV + VDV-1 (2); disjoint genome regions per split", build_phage),
    TaskDef("mini_coding_ddis", "mini Dictyostelium coding vs non-coding", "Coding/NC", False, 112,
            ("ddis_genome", "ddis_cdna"),
            "100 nt windows: annotated CDS (1) vs cDNA-supported introns and UTRs (0), GC-balanced",
            build_coding),
    TaskDef("mini_chromatin_core_sim", "mini accessible-core grammar (sim)", "Chromatin Acc.", True, 113,
            ("human_chrx", "jaspar"),
            f"1000 nt hs37 chrX windows: {CTCF} + 3 of {'/'.join(ACCESSIBLE_TFS)} in the central 200 nt (1) "
            "vs 2 of those TFs anywhere (0)", build_chromatin),
)
