"""Probe protocols as data (seeds, regimes, few-shot k, probe settings)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ._files import CatalogError, data_path, read_toml

REGIMES = ("full", "10shot", "1shot")


@dataclass(frozen=True)
class ProtocolSpec:
    name: str
    description: str
    probe: str
    seeds: tuple[int, ...]
    regimes: tuple[str, ...]
    few_shot_k: dict[str, int] = field(hash=False, compare=False)
    metrics: tuple[str, ...] = ("mcc", "acc", "f1")
    primary_metric: str = "mcc"
    scale_features: bool = False
    probe_params: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    def k_for(self, regime: str) -> int | None:
        """Shots per class for a regime, None for the full-data regime."""
        if regime == "full":
            return None
        if regime not in self.few_shot_k:
            raise KeyError(f"protocol {self.name!r} has no regime {regime!r} (has {self.regimes})")
        return int(self.few_shot_k[regime])


@cache
def protocols() -> dict[str, ProtocolSpec]:
    raw = read_toml(data_path("protocols.toml"))
    out = {}
    for name, p in raw.items():
        try:
            spec = ProtocolSpec(
                name=name,
                description=p["description"],
                probe=p["probe"],
                seeds=tuple(int(s) for s in p["seeds"]),
                regimes=tuple(p["regimes"]),
                few_shot_k=dict(p.get("few_shot_k", {})),
                metrics=tuple(p.get("metrics", ("mcc", "acc", "f1"))),
                primary_metric=p.get("primary_metric", "mcc"),
                scale_features=bool(p.get("scale_features", False)),
                probe_params=dict(p.get("probe_params", {})),
            )
        except KeyError as exc:
            raise CatalogError(f"protocols.toml: [{name}]: missing field {exc}") from None
        bad = [r for r in spec.regimes if r != "full" and r not in spec.few_shot_k]
        if bad:
            raise CatalogError(f"protocols.toml: [{name}]: regimes {bad} have no few_shot_k")
        out[name] = spec
    return out


def get_protocol(name: str) -> ProtocolSpec:
    ps = protocols()
    if name not in ps:
        raise KeyError(f"unknown protocol {name!r}; known: {', '.join(ps)}")
    return ps[name]
