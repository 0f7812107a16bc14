"""One unit of work: a (model, task) pair to embed or probe. The probe grid (serial or in
worker processes) and the Dask drivers schedule this same value; the functions that run
one unit are `geneb.probe.probe_pair` and `geneb.extract.embed_pair` underneath."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Kind = Literal["embed", "probe"]


@dataclass(frozen=True)
class Unit:
    """``gpu`` units run only on GPU workers; ``regimes``: for a probe unit, the regimes
    still to fit (empty = all); ``cache_key``: the pair's cache-key hash when the unit was
    planned (the probe grid records it with the rows); ``size``: for ordering, largest first."""

    kind: Kind
    model: str
    task: str
    gpu: bool = False
    regimes: tuple[str, ...] = ()
    cache_key: str = ""
    size: int = 0

    @property
    def name(self) -> str:
        return f"{self.kind} {self.model}/{self.task}"
