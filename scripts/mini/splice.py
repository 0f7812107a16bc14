"""Real splice junctions of Dictyostelium discoideum, found by aligning its cDNAs to its genome.

A minimal exact-match spliced aligner: unique 16-mer seeds of a cDNA on the genome are
chained into exon blocks; between two blocks on the same strand whose diagonals differ by
an intron length, the junction is the unique split point at which the cDNA matches the
genome exactly on both sides and the intron is canonical (GT..AG, or CT..AC on the minus
strand). Ambiguous junctions are dropped, so every site kept is supported base-for-base.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .seqops import revcomp

K = 16
_LUT = np.full(256, 4, dtype=np.uint8)
for _i, _b in enumerate(b"ACGT"):
    _LUT[_b] = _i


def _encode(seq: str) -> np.ndarray:
    return _LUT[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]


def _kmer_codes(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Code of every K-mer (uint32) and whether it is free of non-ACGT bases."""
    n = len(codes) - K + 1
    if n <= 0:
        return np.zeros(0, np.uint32), np.zeros(0, bool)
    out = np.zeros(n, dtype=np.uint32)
    for i in range(K):
        out = (out << np.uint32(2)) | (codes[i : i + n] & 3).astype(np.uint32)
    bad = np.concatenate([[0], np.cumsum(codes == 4)])
    valid = (bad[K : K + n] - bad[:n]) == 0
    return out, valid


@dataclass(frozen=True)
class Junction:
    intron_start: int  # forward-strand coordinate of the first intron base (in the joined genome)
    intron_end: int  # forward-strand coordinate one past the last intron base
    strand: str  # "+" or "-": the gene's strand
    locus: int  # forward coordinate used to group nearby junctions into loci (the intron start)


class GenomeIndex:
    """Sorted unique-K-mer index over a genome joined into one string (contigs separated by Ns)."""

    def __init__(self, contigs: list[str]):
        self.genome = ("N" * K).join(contigs)
        codes, valid = _kmer_codes(_encode(self.genome))
        pos = np.flatnonzero(valid)
        order = np.argsort(codes[pos], kind="stable")
        self.sorted_codes = codes[pos][order]
        self.sorted_pos = pos[order]

    def unique_hits(self, query: str) -> list[tuple[int, int]]:
        """(query offset, genome offset) of the query's K-mers that occur exactly once in the genome."""
        codes, valid = _kmer_codes(_encode(query))
        lo = np.searchsorted(self.sorted_codes, codes, side="left")
        hi = np.searchsorted(self.sorted_codes, codes, side="right")
        ok = valid & (hi - lo == 1)
        q = np.flatnonzero(ok)
        return list(zip(q.tolist(), self.sorted_pos[lo[ok]].tolist(), strict=True))


def _runs(hits: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """Collapse hits into runs of constant diagonal: (first query pos, last query pos, diagonal)."""
    runs: list[list[int]] = []
    for q, g in hits:
        d = g - q
        if runs and runs[-1][2] == d:
            runs[-1][1] = q
        else:
            runs.append([q, q, d])
    # drop isolated spurious seeds (shorter than 2 consecutive K-mers)
    return [(a, b, d) for a, b, d in runs if b - a >= 1]


def _junction(
    query: str, genome: str, a_end: int, da: int, b_start: int, db: int
) -> tuple[int, str] | None:
    """Unique split point j in the query and the gene strand, or None if absent/ambiguous."""
    e = a_end + K  # query[.. e) matches at da for sure
    while e < len(query) and e + da < len(genome) and query[e] == genome[e + da]:
        e += 1
    s = b_start  # query[s ..) matches at db for sure
    while s > 0 and query[s - 1] == genome[s - 1 + db]:
        s -= 1
    if s > e:
        return None  # an unaligned gap in the cDNA: not an exact junction
    found = []
    for j in range(s, e + 1):
        left, right = genome[j + da : j + da + 2], genome[j + db - 2 : j + db]
        if left == "GT" and right == "AG":
            found.append((j, "+"))
        elif left == "CT" and right == "AC":
            found.append((j, "-"))
    return found[0] if len(found) == 1 else None


def _align(
    index: GenomeIndex, query: str, min_intron: int, max_intron: int
) -> list[tuple[int, int, str]]:
    """Junctions of one query (as given) on the forward genome: (intron start, end, gene strand)."""
    runs = _runs(index.unique_hits(query))
    if len(runs) < 2:
        return []
    diags = [d for _, _, d in runs]
    # one locus only: diagonals never decrease and never jump by more than an intron
    if any(not (0 <= d2 - d1 <= max_intron) for d1, d2 in zip(diags, diags[1:], strict=False)):
        return []
    out = []
    for (_, a_end, da), (b_start, _, db) in zip(runs, runs[1:], strict=False):
        if min_intron <= db - da <= max_intron:
            hit = _junction(query, index.genome, a_end, da, b_start, db)
            if hit is not None:
                j, strand = hit
                out.append((j + da, j + db, strand))
    return out


@dataclass(frozen=True)
class Alignment:
    junctions: list[Junction]  # deduplicated by coordinate, sorted
    sense_cdnas: list[str]  # cDNAs with >= 1 junction, in mRNA (sense) orientation
    sense_loci: list[
        int
    ]  # per sense cDNA: forward coordinate of its first junction (gene position)


def align_cdnas(
    index: GenomeIndex, cdnas: list[str], min_intron: int = 40, max_intron: int = 3000
) -> Alignment:
    """Junctions supported by exact cDNA-genome matches, and the cDNAs whose strand they fix.

    A query that matches the forward genome across a GT..AG intron is sense; across CT..AC
    (a minus-strand gene) its reverse complement is. cDNAs whose junctions disagree are dropped.
    """
    seen: dict[tuple[int, int], Junction] = {}
    sense: list[str] = []
    loci: list[int] = []
    for cdna in cdnas:
        strands = set()
        first = None
        for given, query in ((True, cdna), (False, revcomp(cdna))):
            hits = _align(index, query, min_intron, max_intron)
            for a, b, strand in hits:
                seen.setdefault((a, b), Junction(a, b, strand, a))
                first = a if first is None else min(first, a)
            strands |= {(given, strand) for _, _, strand in hits}
        # (query is the cDNA as given, gene strand "+") or (query is its revcomp, "-") => given = sense
        votes = {given == (strand == "+") for given, strand in strands}
        if len(votes) == 1 and first is not None:
            sense.append(cdna if votes.pop() else revcomp(cdna))
            loci.append(first)
    return Alignment([seen[k] for k in sorted(seen)], sense, loci)


def site_window(genome: str, boundary: int, width: int, strand: str) -> str:
    """`width` nt centred on a boundary between two bases, in the gene's orientation."""
    half = width // 2
    w = genome[boundary - half : boundary + half]
    return w if strand == "+" else revcomp(w)
