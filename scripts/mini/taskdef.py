"""Task definition record and helpers shared by the task builders."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .jaspar import Motif, sample_site
from .loaders import Sources
from .sources import describe

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


def region_split(
    make: Callable[[int, tuple[float, float]], list[str]], n_per_class: int
) -> tuple[list[str], list[str]]:
    n_test = int(round(TEST_FRACTION * n_per_class))
    return make(n_per_class - n_test, TRAIN_REGION), make(n_test, TEST_REGION)


def planted_sites(motifs: dict[str, Motif], ids: list[str], rng: np.random.Generator) -> list[str]:
    return [sample_site(motifs[i], rng) for i in ids]
