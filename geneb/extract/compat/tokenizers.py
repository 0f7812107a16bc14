"""Tokenizer differences: remote tokenizer classes that do not construct on current
transformers, and how geneb builds them without editing their code.

* `tokenizer-special-tokens-before-init` (transformers 5): a remote Python tokenizer whose
  `__init__` assigns a named special token (`self.bos_token = "<s>"`) before calling
  `super().__init__()`. transformers 4.x keeps such an early assignment as a plain instance
  attribute (its `__setattr__` only routes names into `_special_tokens_map` once that exists);
  transformers 5's `__setattr__` writes into `self._special_tokens_map`, which
  `PreTrainedTokenizerBase.__init__` creates later, so construction fails with
  "... has no attribute _special_tokens_map". geneb builds the class the repository's
  `tokenizer_config.json` `auto_map` names through a same-named subclass whose `__init__`
  creates the two containers first and, once the original `__init__` has run, gives every
  special token assigned before `super().__init__()` the value it had, as 4.x reads it (the
  early instance attribute wins there). The remote class itself is not modified.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from . import active, difference

log = logging.getLogger(__name__)

SPECIAL_TOKENS_BEFORE_INIT = difference("tokenizer-special-tokens-before-init")


def remote_tokenizer_class(source: str, hub_kwargs: dict[str, Any]) -> type | None:
    """The class `tokenizer_config.json`'s `auto_map["AutoTokenizer"]` names (its slow entry),
    imported as transformers imports remote code; None when the repository names none."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module
    from transformers.models.auto.tokenization_auto import get_tokenizer_config

    kw = {k: v for k, v in hub_kwargs.items() if k in ("revision", "cache_dir", "token", "local_files_only")}
    cfg = get_tokenizer_config(source, **kw)
    ref = (cfg.get("auto_map") or {}).get("AutoTokenizer")
    if isinstance(ref, list | tuple):
        ref = ref[0] or (ref[1] if len(ref) > 1 else None)
    if not ref:
        return None
    return get_class_from_dynamic_module(ref, source, **kw)


def early_special_tokens(cls: type) -> type:
    """A subclass of `cls` (same name and module) whose construction survives special tokens
    assigned before `super().__init__()` on transformers 5."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        attrs = tuple(type(self).SPECIAL_TOKENS_ATTRIBUTES)
        early: dict[str, Any] = dict.fromkeys(attrs)
        object.__setattr__(self, "_special_tokens_map", early)  # what PreTrainedTokenizerBase creates first
        object.__setattr__(self, "_extra_special_tokens", [])
        cls.__init__(self, *args, **kwargs)
        # the base __init__ replaced the map and filled it from kwargs; on 4.x the values
        # assigned before it stay readable as instance attributes, so they win here too
        current = self.__dict__.get("_special_tokens_map")
        if current is not early and isinstance(current, dict):
            for name, value in early.items():
                if value is not None:
                    current[name] = value

    return type(cls.__name__, (cls,), {"__init__": __init__, "__module__": cls.__module__,
                                       "__qualname__": cls.__qualname__, "__doc__": cls.__doc__})


def load_tokenizer(source: str, *, hub_kwargs: dict[str, Any], differences: Sequence[str]) -> Any:
    """`AutoTokenizer.from_pretrained(source, **hub_kwargs)`, with the tokenizer differences
    among `differences` that apply to the installed transformers."""
    from transformers import AutoTokenizer

    on = set(active(tuple(differences)))
    if SPECIAL_TOKENS_BEFORE_INIT.name in on and hub_kwargs.get("trust_remote_code"):
        cls = remote_tokenizer_class(source, hub_kwargs)
        if cls is not None:
            log.info("%s: building remote tokenizer %s.%s with %s", source, cls.__module__, cls.__name__,
                     SPECIAL_TOKENS_BEFORE_INIT.name)
            return early_special_tokens(cls).from_pretrained(source, **hub_kwargs)
    return AutoTokenizer.from_pretrained(source, **hub_kwargs)
