"""Build a remote-code model the way its model card does, with the named differences.

One recipe for the hub families whose remote code `from_pretrained` cannot build on the
installed transformers (NT v2, GENA-LM, DNABERT-2/S, MutBERT): the config through
`AutoConfig` (the remote config class where `auto_map` names one), the class the card's Auto
class builds taken from `auto_map` (`class-from-auto-map`), the 4.x pieces the code needs
added around it, then the model constructed on the CPU and its checkpoint loaded
(`build-outside-meta`). Which pieces run is the adapter's `differences` filtered by the
installed transformers (`compat.active`), so the same names enter the cache key.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import active
from .helpers import (
    ADD_EXTENDED_MASK,
    ADD_HEAD_MASK,
    RESTORE_HELPERS,
    add_missing_methods,
    restored_helpers,
)
from .loading import (
    AUTO_MAP_CLASS,
    BUILD_OUTSIDE_META,
    CONFIG_DEFAULTS,
    DEFER_INIT_WEIGHTS,
    build_and_load,
    class_from_auto_map,
    config_defaults,
    deferred_init_weights,
    remote_base,
)

log = logging.getLogger(__name__)

#: The two differences that *are* this recipe; an adapter using it must list them.
RECIPE = (AUTO_MAP_CLASS.name, BUILD_OUTSIDE_META.name)


@dataclass(frozen=True)
class RemoteModel:
    """What `load_remote` built: the auto_map class, the key it came from, the model, and
    the differences that ran."""

    cls: type
    key: str
    model: Any
    applied: tuple[str, ...]

    def backbone(self) -> Any:
        """The base model inside a head class (`base_model_prefix`), else the model itself."""
        prefix = getattr(self.cls, "base_model_prefix", "") or ""
        inner = getattr(self.model, prefix, None) if prefix else None
        return self.model if inner is None else inner


def load_remote(source: str, *, revision: str | None, hub_kwargs: dict[str, Any], keys: Sequence[str],
                differences: Sequence[str], dtype: Any = None, optional_missing: Sequence[str] = (),
                prepare_config: Callable[[Any], None] | None = None) -> RemoteModel:
    """Build the first `keys` class of `source`'s `auto_map` with `differences` applied.

    `prepare_config(config)` runs after the 4.x defaults (a family's own config fix);
    `optional_missing` are regexes of checkpoint weights no hidden state reads. Raises
    `LookupError` when `auto_map` has none of `keys`, `RuntimeError` naming missing weights."""
    from transformers import AutoConfig

    lacking = [n for n in RECIPE if n not in differences]
    if lacking:
        raise ValueError(f"load_remote: the adapter's differences must list {lacking} (they are this recipe)")
    on = set(active(tuple(differences)))
    restore = RESTORE_HELPERS.name in on
    with restored_helpers() if restore else contextlib.nullcontext():
        config = AutoConfig.from_pretrained(source, **hub_kwargs)  # a remote config class imports its module
    cls, key = class_from_auto_map(config, source, revision, keys, restore_helpers=restore)
    if CONFIG_DEFAULTS.name in on:
        added = config_defaults(config)
        if added:
            log.info("%s: 4.x config defaults set: %s", source, ", ".join(added))
    if prepare_config is not None:
        prepare_config(config)
    methods = add_missing_methods(remote_base(cls), tuple(n for n in (ADD_HEAD_MASK.name, ADD_EXTENDED_MASK.name)
                                                           if n in on))
    if methods:
        log.info("%s: 4.x methods added to %s: %s", source, remote_base(cls).__name__, ", ".join(methods))
    defer = deferred_init_weights(cls) if DEFER_INIT_WEIGHTS.name in on else contextlib.nullcontext()
    with defer:
        model = build_and_load(cls, config, source, revision, dtype=dtype, optional_missing=optional_missing)
    log.info("%s: built %s.%s from auto_map %s", source, cls.__module__, cls.__name__, key)
    return RemoteModel(cls=cls, key=key, model=model, applied=tuple(n for n in differences if n in on))
