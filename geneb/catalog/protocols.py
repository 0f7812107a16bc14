"""Probe protocols as data (seeds, regimes, few-shot k, probe settings), and the solver
each protocol's numbers come from.

A protocol names one solver (``ProtocolSpec.backend``). ``geneb-v1`` is the published
GENEB protocol and its numbers come from scikit-learn's lbfgs only. The same settings
solved by another backend are a *variant* protocol, ``geneb-v1+torch`` / ``geneb-v1+cuml``
(defined here from geneb-v1, so the settings cannot drift): their rows carry that name,
so they never rank with geneb-v1 rows (analyses refuse to mix protocols) and are not
exported as leaderboard submissions unless asked. The measured deviation of each
variant from geneb-v1 is in docs/probes.md and benchmarks/BACKEND_RESULTS.md."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any

from ..errors import InvalidArgument, NotFound
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
    #: the solver whose numbers this protocol's rows are (``sklearn`` unless a variant)
    backend: str = "sklearn"
    #: the protocol this one re-solves with another backend (None for a base protocol)
    variant_of: str | None = None

    def k_for(self, regime: str) -> int | None:
        """Shots per class for a regime, None for the full-data regime."""
        if regime == "full":
            return None
        if regime not in self.few_shot_k:
            raise NotFound(f"protocol {self.name!r} has no regime {regime!r} (has {self.regimes})")
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
    for name in [n for n, p in out.items() if p.probe == "logreg"]:
        for backend in VARIANT_BACKENDS:
            v = variant_name(name, backend)
            out[v] = replace(
                out[name], name=v, backend=backend, variant_of=name,
                description=f"{name} settings solved by the {backend} backend, not the published "
                f"scikit-learn lbfgs: numbers differ from {name} (see docs/probes.md) and never rank with it.",
            )
    return out


#: Backends that may re-solve a logreg protocol as a variant (``<protocol>+<backend>``).
VARIANT_BACKENDS = ("torch", "cuml")


def variant_name(protocol: str, backend: str) -> str:
    """``geneb-v1`` + ``torch`` -> ``geneb-v1+torch``; the reference backend keeps the name."""
    return protocol if backend == "sklearn" else f"{protocol}+{backend}"


def protocol_for_backend(protocol: str, backend: str) -> str:
    """The protocol whose rows ``backend`` produces when asked for ``protocol``:
    ``geneb-v1`` with torch -> ``geneb-v1+torch``; a protocol already naming its backend
    is returned as is. ``backend`` must be concrete (not ``auto``)."""
    spec = get_protocol(protocol)
    if spec.backend == backend:
        return spec.name
    base = spec.variant_of or spec.name
    name = variant_name(base, backend)
    if name not in protocols() or get_protocol(name).backend != backend:
        raise InvalidArgument(f"protocol {protocol!r} has no variant for backend {backend!r}; use --backend sklearn")
    return name


def row_protocol_expr(protocol: str = "protocol", backend: str = "backend") -> Any:
    """A polars expression giving each results row its true protocol: rows written before
    variants existed say ``geneb-v1`` with backend torch/cuml; they are ``geneb-v1+torch``
    / ``geneb-v1+cuml``. Every other row keeps its protocol."""
    import polars as pl

    bases = [n for n, p in protocols().items() if p.probe == "logreg" and p.variant_of is None]
    expr = pl.col(protocol)
    for b in VARIANT_BACKENDS:
        expr = pl.when(pl.col(protocol).is_in(bases) & (pl.col(backend) == b)).then(
            pl.col(protocol) + f"+{b}").otherwise(expr)
    return expr.alias(protocol)


def get_protocol(name: str) -> ProtocolSpec:
    ps = protocols()
    if name not in ps:
        raise NotFound(f"unknown protocol {name!r}; known: {', '.join(ps)}")
    return ps[name]
