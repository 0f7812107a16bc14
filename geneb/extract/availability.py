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


NEEDS_HUB = "needs hub access"


def run_status(spec: ModelSpec) -> tuple[str, str]:
    """`models --check`'s status: "yes" (can run now, offline too), "no" (a package is
    missing, or the check failed) or "needs hub access" (hub weights not in the local HF
    cache: `geneb embed` downloads them, which an offline machine cannot)."""
    ok, why = can_run(spec)
    if not ok:
        return "no", why
    if spec.on_hub and not _in_hf_cache(spec.weights, spec.revision):
        return NEEDS_HUB, f"{spec.weights}@{spec.revision} is not in the local HF cache; embed downloads it"
    return "yes", why


def _in_hf_cache(repo: str, revision: str) -> bool:
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    try:
        hit = try_to_load_from_cache(repo, "config.json", revision=revision or None)
    except Exception:  # noqa: BLE001 - a malformed id or cache is simply "not cached"
        return False
    return isinstance(hit, str)
