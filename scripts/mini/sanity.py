"""Sanity baselines: logistic regression on 4-mer composition, scored by MCC on the test split.

They show each task is learnable (above chance) and not trivially separable by composition
alone (not ~1.0), which is what the suite promises. Two settings: standardised counts (a
fair composition baseline) and unscaled frequencies with the geneb-v1 probe settings (what
the built-in `kmer-4` model scores under the published protocol, full regime).
"""

from __future__ import annotations

from itertools import product

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import matthews_corrcoef
from sklearn.preprocessing import StandardScaler

_INDEX = {"".join(p): i for i, p in enumerate(product("ACGT", repeat=4))}


def kmer_counts(seqs: list[str], k: int = 4) -> np.ndarray:
    """Counts of each 4-mer (k-mers with N are skipped), one row per sequence."""
    out = np.zeros((len(seqs), 4**k), dtype=np.float64)
    for r, s in enumerate(seqs):
        row = out[r]
        for i in range(len(s) - k + 1):
            j = _INDEX.get(s[i : i + k])
            if j is not None:
                row[j] += 1
    return out


def kmer_mcc(train: list[tuple[str, int]], test: list[tuple[str, int]], seed: int = 0) -> float:
    """Test MCC of a standardised 4-mer-count logistic regression fitted on train."""
    xtr = kmer_counts([s for s, _ in train])
    xte = kmer_counts([s for s, _ in test])
    scaler = StandardScaler().fit(xtr)
    clf = LogisticRegression(max_iter=2000, random_state=seed)
    clf.fit(scaler.transform(xtr), [y for _, y in train])
    pred = clf.predict(scaler.transform(xte))
    return float(matthews_corrcoef([y for _, y in test], pred))


def kmer_mcc_v1(train: list[tuple[str, int]], test: list[tuple[str, int]], seed: int = 13) -> float:
    """Test MCC of the geneb-v1 probe (default LogisticRegression, no scaling) on 4-mer frequencies."""

    def freqs(rows: list[tuple[str, int]]) -> np.ndarray:
        x = kmer_counts([s for s, _ in rows])
        return x / np.maximum(x.sum(axis=1, keepdims=True), 1.0)

    clf = LogisticRegression(max_iter=1000, random_state=seed)
    clf.fit(freqs(train), [y for _, y in train])
    return float(matthews_corrcoef([y for _, y in test], clf.predict(freqs(test))))
