"""Real JASPAR count matrices (from the pinned pyjaspar wheel's SQLite file) and site sampling.

Used only for the simulated tasks: planted sites are drawn from real position
frequency matrices, so their variability is that of real binding sites.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .seqops import revcomp

_BASES = "ACGT"


@dataclass(frozen=True)
class Motif:
    matrix_id: str  # e.g. MA0139.2
    name: str
    probs: np.ndarray  # (length, 4) column frequencies over A, C, G, T

    def __len__(self) -> int:
        return self.probs.shape[0]


def load_motifs(db: Path, matrix_ids: list[str], pseudocount: float = 0.5) -> dict[str, Motif]:
    """Load matrices by `BASE_ID.VERSION`; raises naming the id if the database lacks it."""
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        out: dict[str, Motif] = {}
        for mid in matrix_ids:
            base, version = mid.split(".")
            row = con.execute(
                "SELECT ID, NAME FROM MATRIX WHERE BASE_ID = ? AND VERSION = ?",
                (base, int(version)),
            ).fetchone()
            if row is None:
                raise KeyError(f"{db}: JASPAR matrix {mid} not found")
            counts: dict[str, dict[int, float]] = {b: {} for b in _BASES}
            for base_char, col, val in con.execute(
                "SELECT row, col, val FROM MATRIX_DATA WHERE ID = ?", (row[0],)
            ):
                counts[base_char.upper()][int(col)] = float(val)
            length = max(counts["A"])
            mat = (
                np.array([[counts[b][c] for b in _BASES] for c in range(1, length + 1)])
                + pseudocount
            )
            out[mid] = Motif(mid, row[1], mat / mat.sum(axis=1, keepdims=True))
        return out
    finally:
        con.close()


def sample_site(motif: Motif, rng: np.random.Generator) -> str:
    """One binding site drawn column by column from the matrix, on a random strand."""
    u = rng.random((len(motif), 1))
    idx = (u > np.cumsum(motif.probs, axis=1)).sum(axis=1)
    site = "".join(_BASES[i] for i in idx)
    return revcomp(site) if rng.random() < 0.5 else site


def plant(seq: str, site: str, pos: int) -> str:
    """Replace `seq[pos:pos+len(site)]` by `site` (the length is unchanged)."""
    if pos < 0 or pos + len(site) > len(seq):
        raise ValueError(f"site of {len(site)} nt at {pos} does not fit a {len(seq)} nt sequence")
    return seq[:pos] + site + seq[pos + len(site) :]


def plant_many(seq: str, sites: list[str], rng: np.random.Generator, min_gap: int = 2) -> str:
    """Plant sites at random non-overlapping positions."""
    taken: list[tuple[int, int]] = []
    for site in sites:
        for _ in range(200):
            pos = int(rng.integers(0, len(seq) - len(site) + 1))
            if all(pos + len(site) + min_gap <= a or pos >= b + min_gap for a, b in taken):
                break
        else:
            raise RuntimeError(f"no room to plant {len(sites)} sites in {len(seq)} nt")
        taken.append((pos, pos + len(site)))
        seq = plant(seq, site, pos)
    return seq
