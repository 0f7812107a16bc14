"""Can a model run here? Cheap checks for `geneb models --check` (no weights loaded)."""

from __future__ import annotations

from ..catalog import ModelSpec
from .adapters import MissingExtraError, adapter_class


def can_run(spec: ModelSpec) -> tuple[bool, str]:
    """(True, how) when the model's family is installed and its weights are reachable,
    else (False, what to do about it)."""
    try:
        cls = adapter_class(spec.family)
    except MissingExtraError as exc:
        return False, str(exc)
    try:
        return cls.check_available(spec)
    except Exception as exc:  # noqa: BLE001 - a check must never crash the listing
        return False, f"check failed: {exc}"
