"""Lazy, cached access to the parsed source sequences (each read at most once per build)."""

from __future__ import annotations

import re
from functools import cached_property
from pathlib import Path

from .jaspar import Motif, load_motifs
from .sources import read_fasta
from .splice import Alignment, GenomeIndex, align_cdnas


class Sources:
    """Parsed sources, keyed like `sources.FILES`; `paths` comes from `sources.fetch_all`."""

    def __init__(self, paths: dict[str, Path]):
        self.paths = paths

    def contigs(self, key: str) -> list[str]:
        return [s for _, s in read_fasta(self.paths[key])]

    @cached_property
    def human_chrx(self) -> list[str]:
        return self.contigs("human_chrx")

    @cached_property
    def ddis_genome(self) -> list[str]:
        return self.contigs("ddis_genome")

    @cached_property
    def ddis_index(self) -> GenomeIndex:
        return GenomeIndex(self.ddis_genome)

    @cached_property
    def ddis_alignment(self) -> Alignment:
        """Exact spliced alignment of every Dictyostelium cDNA (about 30 s; done once)."""
        return align_cdnas(self.ddis_index, [s for _, s in self.ddis_cdnas])

    @cached_property
    def ddis_cdnas(self) -> list[tuple[str, str]]:
        return read_fasta(self.paths["ddis_cdna"])

    @cached_property
    def ddis_cds(self) -> list[tuple[str, int, int]]:
        """(cDNA, CDS start, CDS end) 0-based half-open, for records with a `/cds=p(a,b)` tag."""
        out = []
        for header, seq in self.ddis_cdnas:
            m = re.search(r"/cds=p\((\d+),(\d+)\)", header)
            if m:
                a, b = int(m.group(1)) - 1, int(m.group(2))
                if 0 <= a < b <= len(seq):
                    out.append((seq, a, b))
        return out

    @cached_property
    def dmel_upstream(self) -> list[tuple[str, str]]:
        """(header, 2 kb upstream sequence), first record of each distinct sequence."""
        seen: set[str] = set()
        out = []
        for h, s in read_fasta(self.paths["dmel_upstream"]):
            if len(s) == 2000 and s not in seen:
                seen.add(s)
                out.append((h, s))
        return out

    def motifs(self, ids: list[str]) -> dict[str, Motif]:
        return load_motifs(self.paths["jaspar"], ids)
