"""Simulated tasks: real background DNA with planted real JASPAR sites in a documented grammar."""

from __future__ import annotations

import numpy as np

from .build_peaks import tf_peaks
from .jaspar import plant_many
from .loaders import Sources
from .seqops import (
    sample_windows,
    shuffle_rows,
    split_rows,
)
from .taskdef import TEST_FRACTION, TEST_REGION, TRAIN_REGION, Rows, planted_sites

# --- Histone Mod. (simulated) --------------------------------------------------------------

H3K4ME3_TFS = ["MA0079.5", "MA0506.1", "MA0060.3", "MA0028.2", "MA0095.2"]  # SP1 NRF1 NFYA ELK1 YY1
H3K4ME3_DECOYS = [
    "MA0148.4",
    "MA0594.2",
    "MA0442.2",
    "MA0497.1",
    "MA0466.2",
]  # FOXA1 HOXA9 SOX10 MEF2C CEBPB


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
                rows.append((plant_many(bg, planted_sites(motifs, ids, rng), rng), label))
        out.append(shuffle_rows(rows, rng))
    return out[0], out[1]


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
            rows.append((plant_many(bg, planted_sites(motifs, ERYTHROID, rng), rng), 1))
        for bg in sample_windows(src.human_chrx, n, 400, rng, region):
            ids = [ERYTHROID[int(rng.integers(3))]] + [
                ENHANCER_DECOYS[int(i)] for i in rng.choice(3, 2, replace=False)
            ]
            rows.append((plant_many(bg, planted_sites(motifs, ids, rng), rng), 0))
        out.append(shuffle_rows(rows, rng))
    return out[0], out[1]


# --- Mouse Enh. (simulated on real mouse sequence) -----------------------------------------

ESC_PARTNERS = ["MA0039.4", "MA0141.3", "MA2339.1"]  # Klf4 Esrrb Nanog
ESC_COMPOSITE = "MA0142.1"  # Pou5f1::Sox2
ESC_DECOYS = ["MA0046.2", "MA0497.1", "MA0090.3"]  # HNF1A MEF2C TEAD1


def build_mouse_enhancer(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """ESC-enhancer grammar on real mouse 200 nt ChIP-seq peak sequences (Mafk peaks unused by
    the TF task): class 1 carries two OCT4-SOX2 composite sites plus one ESC partner (Klf4,
    Esrrb or Nanog); class 0 carries three sites from the partners and decoys, no composite."""
    motifs = src.motifs([ESC_COMPOSITE] + ESC_PARTNERS + ESC_DECOYS)
    bgs = tf_peaks(src)[2]
    bgs = [bgs[int(i)] for i in rng.permutation(len(bgs))[:1200]]
    rows: dict[int, list[str]] = {1: [], 0: []}
    for k, bg in enumerate(bgs):
        if k % 2 == 0:
            ids = [ESC_COMPOSITE, ESC_COMPOSITE, ESC_PARTNERS[int(rng.integers(3))]]
            rows[1].append(plant_many(bg, planted_sites(motifs, ids, rng), rng))
        else:
            pool = ESC_PARTNERS + ESC_DECOYS
            ids = [pool[int(i)] for i in rng.choice(len(pool), 3, replace=False)]
            rows[0].append(plant_many(bg, planted_sites(motifs, ids, rng), rng))
    return split_rows(rows, TEST_FRACTION, rng)


# --- Chromatin Acc. (simulated) ------------------------------------------------------------

ACCESSIBLE_TFS = [
    "MA0099.3",
    "MA0080.5",
    "MA0105.4",
    "MA0050.2",
    "MA0466.2",
]  # AP-1 SPI1 NFKB1 IRF1 CEBPB
CTCF = "MA0139.2"


def build_chromatin(src: Sources, rng: np.random.Generator) -> tuple[Rows, Rows]:
    """Accessible-region grammar on real human chrX 1000 nt windows: class 1 has a CTCF site and
    one site of each of five pioneer/immune TFs clustered in the central 300 nt (a
    nucleosome-free-like core); class 0 has a single site of one of those TFs, anywhere."""
    motifs = src.motifs([CTCF] + ACCESSIBLE_TFS)
    out = []
    for region, n in ((TRAIN_REGION, 375), (TEST_REGION, 125)):
        rows: Rows = []
        for bg in sample_windows(src.human_chrx, n, 1000, rng, region):
            ids = [CTCF] + ACCESSIBLE_TFS
            core = plant_many(bg[350:650], planted_sites(motifs, ids, rng), rng)
            rows.append((bg[:350] + core + bg[650:], 1))
        for bg in sample_windows(src.human_chrx, n, 1000, rng, region):
            ids = [ACCESSIBLE_TFS[int(rng.integers(5))]]
            rows.append((plant_many(bg, planted_sites(motifs, ids, rng), rng), 0))
        out.append(shuffle_rows(rows, rng))
    return out[0], out[1]
