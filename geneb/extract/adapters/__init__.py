"""Adapter registry: one module per catalog family, imported lazily.

Family `x-y` lives in `geneb.extract.adapters.x_y` and exposes its class as `ADAPTER`.
Importing this package imports neither torch nor transformers.
"""

from __future__ import annotations

import importlib

from ...catalog import FAMILIES, ModelSpec
from .base import (
    Adapter,
    ExtractError,
    ExtractOptions,
    MissingExtraError,
    TokenAudit,
    UnsupportedSequenceError,
    missing_modules,
)


def module_name(family: str) -> str:
    return f"{__name__}.{family.replace('-', '_')}"


def adapter_class(family: str) -> type[Adapter]:
    """The adapter class of a family; raises `MissingExtraError` when it cannot be used here."""
    if family not in FAMILIES:
        raise ExtractError(f"unknown adapter family {family!r}; known: {', '.join(sorted(FAMILIES))}")
    try:
        mod = importlib.import_module(module_name(family))
    except ModuleNotFoundError as exc:
        if exc.name == module_name(family):
            raise MissingExtraError(
                f"family {family!r} has no adapter in this geneb build ({module_name(family)} is missing)"
            ) from None
        raise MissingExtraError(
            f"family {family!r} needs the package {exc.name!r}: pip install 'geneb[extract]'"
        ) from exc
    cls = getattr(mod, "ADAPTER", None)
    if cls is None:
        raise MissingExtraError(f"{module_name(family)} defines no ADAPTER")
    return cls


def make_adapter(spec: ModelSpec, options: ExtractOptions | None = None, device: str = "cpu") -> Adapter:
    """Instantiate the adapter for `spec`, failing at once if its packages are missing."""
    cls = adapter_class(spec.family)
    cls.ensure_available(spec)
    return cls(spec, options or ExtractOptions(), device)


__all__ = [
    "Adapter", "ExtractError", "ExtractOptions", "MissingExtraError", "TokenAudit", "UnsupportedSequenceError",
    "adapter_class", "make_adapter", "missing_modules", "module_name",
]
