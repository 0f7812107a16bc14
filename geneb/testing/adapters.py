"""`check_adapter`: the contract every model family's adapter keeps, checked without
weights (like scikit-learn's `check_estimator`). tests/test_adapter_conformance.py runs it
on every family in the catalog's FAMILIES, so a new family (one adapter module plus its
catalog rows) is checked the moment it is added.

What it checks, per family and per catalog model of it:
- the registry finds the module's `ADAPTER`, a subclass of `Adapter` naming this family;
- the declaration is data of the right kinds: `requires` (module names), `extra` (an
  extra of geneb's pyproject), `neural`, `takes_raw_text`, and `differences`, each a
  difference registered in `geneb.extract.compat`;
- `check(spec)` answers a list of `Problem`s (known kinds, non-empty messages) without
  raising, `check_available` is the base's (derived from `check` and `source`), the
  blocking kinds are known, and an install hint names an extra that exists;
- construction only stores parameters: `describe()` works before `load()`, is plain
  JSON, is the same twice, and names exactly the compatibility differences active on the
  installed transformers (so they enter the cache key);
- the cache key builds, and changes with the weights' revision, the layer tap, the
  storage dtype and the family's `numerics` version (vectors made otherwise never share
  a key).
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterable
from typing import Any


def _extras() -> set[str] | None:
    try:
        from importlib.metadata import metadata

        return set(metadata("geneb").get_all("Provides-Extra") or [])
    except Exception:  # noqa: BLE001 - geneb not installed as a distribution
        return None


def _key_hash(spec: Any, adapter: Any) -> str:
    from geneb.extract.cache_key import build_cache_key
    from geneb.store import cache_key_hash

    return cache_key_hash(build_cache_key(spec, adapter, "conformance-task", "conformance-hash"))


def check_adapter(family_or_class: str | type, specs: Iterable[Any] | None = None) -> list[str]:
    """Problems of one family's adapter (empty when it keeps the contract). `specs`: the
    models to check it on (default: the catalog's models of that family)."""
    from geneb.catalog import all_models
    from geneb.extract import compat
    from geneb.extract.adapters import Adapter, ExtractOptions, adapter_class, module_name

    problems: list[str] = []
    if isinstance(family_or_class, str):
        family = family_or_class
        try:
            cls = adapter_class(family)
        except Exception as exc:  # noqa: BLE001 - report, do not raise
            return [f"{family}: the registry cannot load its adapter ({module_name(family)}): {exc}"]
    else:
        cls, family = family_or_class, getattr(family_or_class, "family", "?")
    where = f"{family} ({cls.__module__}.{cls.__qualname__})"
    if not (isinstance(cls, type) and issubclass(cls, Adapter)):
        return [f"{where}: ADAPTER is not a geneb Adapter subclass"]
    if getattr(cls, "family", None) != family:
        problems.append(f"{where}: class says family {getattr(cls, 'family', None)!r}")

    # -- the declaration ------------------------------------------------------------------
    req = cls.requires
    if not isinstance(req, tuple) or not all(isinstance(m, str) and re.fullmatch(r"[A-Za-z_][\w.]*", m) for m in req):
        problems.append(f"{where}: requires must be a tuple of importable module names, got {req!r}")
    extras = _extras()
    if extras is not None and cls.extra not in extras:
        problems.append(f"{where}: extra {cls.extra!r} is not an extra of geneb (have {sorted(extras)})")
    if not (isinstance(cls.numerics, int) and not isinstance(cls.numerics, bool) and cls.numerics >= 1):
        problems.append(f"{where}: numerics must be a version number >= 1, got {cls.numerics!r}")
    for name in ("neural", "takes_raw_text", "needs_cuda", "measure_width"):
        if not isinstance(getattr(cls, name), bool):
            problems.append(f"{where}: {name} must be a bool, got {getattr(cls, name)!r}")
    only = cls.final_layer_only
    if only is not None and not (isinstance(only, str) and only):
        problems.append(f"{where}: final_layer_only must be None or what the model exposes, got {only!r}")
    diffs = cls.differences
    if not isinstance(diffs, tuple):
        problems.append(f"{where}: differences must be a tuple of names, got {diffs!r}")
        diffs = ()
    for d in diffs:
        try:
            compat.difference(d)
        except Exception:  # noqa: BLE001
            problems.append(f"{where}: difference {d!r} is not registered in geneb.extract.compat")

    specs = list(specs) if specs is not None else [s for s in all_models().values() if s.family == family]
    if not specs:
        problems.append(f"{where}: no model to check it on (add a catalog row, or pass specs)")
    for spec in specs:
        problems += _check_spec(cls, spec, extras, compat, ExtractOptions)
    return problems


def _check_spec(cls: type, spec: Any, extras: set[str] | None, compat: Any, ExtractOptions: type) -> list[str]:
    where = f"{spec.family}/{spec.model_id}"
    out: list[str] = []
    from geneb.extract.adapters.base import PROBLEM_KINDS as kinds
    from geneb.extract.adapters.base import Adapter, Problem

    try:
        problems = cls.check(spec)
        got = cls.check_available(spec)
    except Exception as exc:  # noqa: BLE001
        return [f"{where}: check / check_available raised {type(exc).__name__}: {exc}"]
    if not (isinstance(problems, list) and all(isinstance(p, Problem) and p.kind in kinds and isinstance(p.message, str)
                                                 and p.message for p in problems)):
        out.append(f"{where}: check must return a list of Problem (kinds {sorted(kinds)}, a message each), "
                   f"got {problems!r}")
    overriders = [c.__qualname__ for c in cls.__mro__ if c is not Adapter and "check_available" in vars(c)]
    if overriders:
        out.append(f"{where}: {', '.join(overriders)} override check_available: override check (and source)")
    if not (isinstance(cls.blocking, frozenset) and cls.blocking <= kinds and {"package", "gpu"} <= cls.blocking):
        out.append(f"{where}: blocking must be a frozenset of problem kinds including package and gpu")
    if not (isinstance(got, tuple) and len(got) == 2 and isinstance(got[0], bool) and isinstance(got[1], str) and got[1]):
        out.append(f"{where}: check_available must return (bool, reason), got {got!r}")
    elif not got[0]:
        for extra in re.findall(r"geneb\[([^\]]+)\]", got[1]):
            if extras is not None and extra not in extras:
                out.append(f"{where}: install hint names extra {extra!r}, which geneb does not have")
    try:
        a = cls(spec, ExtractOptions(), "cpu")
        first, second = a.describe(), cls(spec, ExtractOptions(), "cpu").describe()
    except Exception as exc:  # noqa: BLE001
        return [*out, f"{where}: construct + describe() before load() raised {type(exc).__name__}: {exc}"]
    if not isinstance(first, dict):
        return [*out, f"{where}: describe() must return a dict, got {type(first).__name__}"]
    if cls.final_layer_only:
        try:
            cls(spec, ExtractOptions(layer=0), "cpu")
            out.append(f"{where}: final_layer_only is declared, yet a layer-0 tap was accepted")
        except ValueError:  # ExtractError: the refusal the declaration promises
            pass
    try:
        if json.dumps(first, sort_keys=True) != json.dumps(second, sort_keys=True):
            out.append(f"{where}: describe() differs between two identical adapters")
    except (TypeError, ValueError) as exc:
        out.append(f"{where}: describe() is not plain JSON: {exc}")
    declared = [d for d in getattr(a, "differences", cls.differences) if d in compat.differences()]
    want = list(compat.active(declared)) if declared else []
    if first.get("compat", []) != want:
        out.append(f"{where}: describe() names compat {first.get('compat', [])}, but {want} are active here "
                   "(the differences that run must enter the cache key)")
    try:
        base = _key_hash(spec, a)
    except Exception as exc:  # noqa: BLE001
        return [*out, f"{where}: the cache key does not build: {type(exc).__name__}: {exc}"]
    variants: dict[str, Any] = {
        "storage dtype": (spec, ExtractOptions(dtype="float16" if a.options.dtype == "float32" else "float32")),
        "layer tap": (spec, ExtractOptions(layer=a.layer - 1 if a.layer != 0 else 1)),
    }
    if spec.revision:
        variants["revision"] = (dataclasses.replace(spec, revision=spec.revision + "-other"), ExtractOptions())
    bumped = type(f"{cls.__name__}Bumped", (cls,), {"numerics": cls.numerics + 1})
    variants["family's numerics version"] = (spec, a.options, bumped)
    for what, (s, opts, *klass) in variants.items():
        try:
            other = _key_hash(s, (klass[0] if klass else cls)(s, opts, "cpu"))
        except Exception:  # noqa: BLE001 - a family may refuse a layer tap it has not: fine
            continue
        if other == base:
            out.append(f"{where}: the cache key ignores the {what}")
    return out
