"""Remote-code compatibility: each way geneb loads a model differently from a plain
`from_pretrained`, named, with the upstream construct that needs it.

The GENEB models' remote code was written for transformers 4.2x-4.4x. Newer transformers
removed helpers it imports, build models under a meta-device context its `__init__` does
not expect, and stopped filling config attributes it reads. geneb does not edit that code:
it applies small, named **differences** around it. Each `Difference` is data, declared in
`differences.toml` beside this module (what, which upstream file and construct, which
transformers versions, at which stage); the code that applies one asks for it by name, an adapter lists
the names its family may need (`Adapter.differences`), and `active()` keeps those that apply
to the installed transformers. The names that ran go into `describe()` and so into the
cache key: vectors made with and without a difference never mix in one pair.

Stages: `import` (while the remote module is imported), `load` (how the model object is
built), `post-load` (a repair of the built object), `tokenizer`, `forward`.

Nothing here imports torch or transformers at module level.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

from ...errors import NotFound

__all__ = [
    "Difference", "register", "difference", "differences", "active", "applies",
    "transformers_version",
]

STAGES = ("import", "load", "post-load", "tokenizer", "forward")


@dataclass(frozen=True)
class Difference:
    """One named difference from the upstream loading path.

    `transformers` is a PEP 440 specifier set ("" = every version); `upstream` names the
    repository, file and commit whose construct needs it."""

    name: str
    stage: str
    upstream: str
    construct: str
    transformers: str = ""
    why: str = ""

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"difference {self.name!r}: unknown stage {self.stage!r}")

    def applies(self, version: str | None = None) -> bool:
        """True when this difference is needed on transformers `version` (installed one by default)."""
        if not self.transformers:
            return True
        from packaging.specifiers import SpecifierSet

        return SpecifierSet(self.transformers).contains(version or transformers_version(), prereleases=True)

    def to_dict(self) -> dict[str, str]:
        return dataclasses.asdict(self)


_REGISTRY: dict[str, Difference] = {}
_DECLARED = "differences.toml"


@functools.cache
def _declared_rows() -> tuple[dict[str, str], ...]:
    """The shipped declarations (package data, parsed with the stdlib), in file order."""
    import tomllib
    from importlib.resources import files

    data = tomllib.loads(files(__package__).joinpath(_DECLARED).read_text(encoding="utf-8"))
    return tuple(data.get("difference", []))


@functools.cache
def _load_declared() -> None:
    for row in _declared_rows():
        try:
            register(Difference(**row))
        except TypeError as exc:
            raise ValueError(f"{_DECLARED}: difference {row.get('name')!r}: {exc}") from None


def register(d: Difference) -> Difference:
    """Add a difference to the registry; a name is defined once. The shipped ones come from
    `differences.toml`; a third-party adapter may register its own."""
    old = _REGISTRY.get(d.name)
    if old is not None and old != d:
        raise ValueError(f"difference {d.name!r} is defined twice")
    _REGISTRY[d.name] = d
    return d


def declared_names() -> tuple[str, ...]:
    """The names declared in the shipped `differences.toml`, in file order."""
    return tuple(row["name"] for row in _declared_rows())


def difference(name: str) -> Difference:
    """The declared difference `name` (an error naming the known ones otherwise)."""
    _load_declared()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise NotFound(f"unknown compatibility difference {name!r}; known: {sorted(_REGISTRY)}") from None


def differences() -> dict[str, Difference]:
    """Every registered difference, by name (for docs and `geneb models --check`)."""
    _load_declared()
    return dict(sorted(_REGISTRY.items()))


def applies(name: str, version: str | None = None) -> bool:
    return difference(name).applies(version)


def active(names: tuple[str, ...] | list[str], version: str | None = None) -> tuple[str, ...]:
    """The subset of `names` that apply to transformers `version` (installed by default)."""
    return tuple(n for n in names if applies(n, version))


@functools.cache
def transformers_version() -> str:
    """The installed transformers version ("0" when it is not installed)."""
    try:
        from importlib.metadata import version

        return version("transformers")
    except Exception:  # noqa: BLE001 - not installed
        return "0"


def describe(names: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """What enters `Adapter.describe()` and so the cache key: the differences that ran.
    The transformers version itself goes into the provenance only: an upgrade that changes
    no difference keeps the key (and the stored vectors)."""
    return {"compat": list(active(names))} if names else {}
