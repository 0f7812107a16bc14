"""Real TF-binding task from the janggu Oct4 / Mafk ChIP-seq peak sequences."""

from __future__ import annotations

import numpy as np

from .loaders import Sources
from .seqops import (
    gc_balance,
    is_clean,
    split_rows,
)
from .taskdef import TEST_FRACTION, Rows

# --- TF Binding (real, janggu ChIP-seq peaks) ----------------------------------------------

TF_PER_CLASS = 800
TF_POOL = 2600  # peaks per file offered to GC balancing; the rest of Mafk feeds the mouse task


def tf_peaks(src: Sources) -> tuple[list[str], list[str], list[str]]:
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
    oct4, mafk, _ = tf_peaks(src)
    oct4, mafk = gc_balance(oct4, mafk, rng, TF_PER_CLASS)
    return split_rows({1: oct4, 0: mafk}, TEST_FRACTION, rng)
