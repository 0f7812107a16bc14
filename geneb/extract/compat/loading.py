"""How a remote-code model object is built when `from_pretrained` cannot build it.

* `class_from_auto_map`: the class the model card loads (`AutoModelForMaskedLM` for NT v2),
  taken from the model's own `auto_map`, never the Auto class's guess from `model_type`
  (NT v2's remote config class is also named `EsmConfig`, so `AutoModel` silently builds
  transformers' native ESM instead of NT v2's bias-free SwiGLU).
* `build_and_load`: construct the class from its config outside transformers' meta-device
  init context, finish it (`post_init`) when its `__init__` did not, then load the
  checkpoint's state dict with the same prefix rules as `from_pretrained`, refusing
  missing weights by name. Remote `__init__`s that compute tensors (DNABERT-2's ALiBi
  table) and wrappers that never call `post_init` (OLMo's `hf_olmo`) load this way.
* `config_defaults`: attributes 4.x configs always had and remote code reads.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from ...errors import BadState, MissingFile
from . import difference

log = logging.getLogger(__name__)

BUILD_OUTSIDE_META = difference("build-outside-meta")

AUTO_MAP_CLASS = difference("class-from-auto-map")

CONFIG_DEFAULTS = difference("config-4x-defaults")

DEFER_INIT_WEIGHTS = difference("defer-init-weights-to-post-init")

#: Attributes every transformers 4.x config had, with their 4.x defaults.
CONFIG_4X_DEFAULTS: dict[str, Any] = {
    "is_decoder": False,
    "add_cross_attention": False,
    "pruned_heads": {},
    "tie_word_embeddings": True,
    "chunk_size_feed_forward": 0,
    "torchscript": False,
    "pad_token_id": None,
    "bos_token_id": None,
    "eos_token_id": None,
}


def config_defaults(config: Any) -> list[str]:
    """Set the 4.x config attributes that are missing; returns their names."""
    added = []
    for name, value in CONFIG_4X_DEFAULTS.items():
        if not hasattr(config, name):
            setattr(config, name, value.copy() if isinstance(value, dict) else value)
            added.append(name)
    return added


def class_from_auto_map(config: Any, source: str, revision: str | None, keys: Sequence[str],
                        *, restore_helpers: bool = True) -> tuple[type, str]:
    """(class, auto_map key) for the first of `keys` in `config.auto_map`; raises
    `LookupError` naming the keys present when none matches."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    from .helpers import restored_helpers

    auto_map = dict(getattr(config, "auto_map", None) or {})
    for key in keys:
        ref = auto_map.get(key)
        if isinstance(ref, list | tuple):
            ref = ref[0]
        if ref:
            ctx = restored_helpers() if restore_helpers else contextlib.nullcontext()
            with ctx:
                cls = get_class_from_dynamic_module(ref, source, revision=revision)
            return cls, key
    raise LookupError(f"{source}: config.json auto_map has none of {list(keys)} (it has {sorted(auto_map)})")


# -- build from config, then load the state dict --------------------------------------------

_WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                 "pytorch_model.bin.index.json")


def _resolve_file(source: str, name: str, revision: str | None) -> Path | None:
    local = Path(source)
    if local.is_dir():
        p = local / name
        return p if p.is_file() else None
    from transformers.utils import cached_file

    got = cached_file(source, name, revision=revision, _raise_exceptions_for_missing_entries=False,
                      _raise_exceptions_for_connection_errors=False)
    return Path(got) if got else None


def checkpoint_files(source: str, revision: str | None) -> list[Path]:
    """The weight files of a checkpoint (local directory or hub id), shards resolved."""
    for name in _WEIGHT_FILES:
        p = _resolve_file(source, name, revision)
        if p is None:
            continue
        if name.endswith(".index.json"):
            shards = sorted(set(json.loads(p.read_text())["weight_map"].values()))
            out = []
            for shard in shards:
                sp = _resolve_file(source, shard, revision)
                if sp is None:
                    raise MissingFile(f"{source}: shard {shard} named in {name} is missing")
                out.append(sp)
            return out
        return [p]
    raise MissingFile(f"{source}: no weights found (looked for {', '.join(_WEIGHT_FILES)})")


def read_state_dict(files: Sequence[Path]) -> dict[str, Any]:
    import torch

    state: dict[str, Any] = {}
    for f in files:
        if f.suffix == ".safetensors":
            from safetensors.torch import load_file

            state.update(load_file(str(f)))
        else:
            state.update(torch.load(str(f), map_location="cpu", weights_only=True))
    return state


def _match_prefix(model_keys: set[str], ckpt_keys: set[str], prefix: str) -> tuple[str, str]:
    """(strip, add): the prefix to strip from or add to checkpoint keys so most of them
    match the model's (from_pretrained's base_model_prefix rule)."""
    if not prefix:
        return "", ""
    p = prefix + "."
    best = (len(model_keys & ckpt_keys), "", "")
    strip = {k[len(p):] for k in ckpt_keys if k.startswith(p)}
    best = max(best, (len(model_keys & strip), p, ""))
    add = {p + k for k in ckpt_keys}
    best = max(best, (len(model_keys & add), "", p))
    return best[1], best[2]


#: Weights a checkpoint saved from a *ForMaskedLM / *ForCausalLM class may lack when loaded
#: into the base model, and that no hidden state depends on (from_pretrained warns too).
_OPTIONAL_MISSING = re.compile(r"(^|\.)pooler\.")


def _ignored(key: str, patterns: Any) -> bool:
    return any(re.search(pat, key) for pat in (patterns or ()))


@contextlib.contextmanager
def _count_post_init(cls: type) -> Iterator[list[int]]:
    """Count calls of `post_init` on instances built inside the block."""
    calls = [0]
    orig = cls.post_init

    def counted(self: Any, *a: Any, **kw: Any) -> Any:
        calls[0] += 1
        return orig(self, *a, **kw)

    cls.post_init = counted  # type: ignore[method-assign]
    try:
        yield calls
    finally:
        cls.post_init = orig  # type: ignore[method-assign]


def remote_base(cls: type) -> type:
    """The base-most class of `cls`'s own module in its MRO (`EsmPreTrainedModel`,
    `BertPreTrainedModel`): methods the remote forward calls go there, so the sibling
    classes (`EsmModel` next to `EsmForMaskedLM`) have them too."""
    own = [k for k in cls.__mro__ if k.__module__ == cls.__module__]
    return own[-1] if own else cls


@contextlib.contextmanager
def deferred_init_weights(cls: type) -> Iterator[None]:
    """While building `cls`: its `init_weights()` is a no-op until `post_init` has set
    `all_tied_weights_keys` (then it runs as usual, as `post_init` calls it)."""
    had_own = "init_weights" in cls.__dict__
    orig = cls.init_weights

    def init_weights(self: Any) -> Any:
        if "all_tied_weights_keys" not in self.__dict__:
            return None
        return orig(self)

    cls.init_weights = init_weights  # type: ignore[method-assign]
    try:
        yield
    finally:
        if had_own:
            cls.init_weights = orig  # type: ignore[method-assign]
        else:
            del cls.init_weights


def build_and_load(cls: type, config: Any, source: str, revision: str | None, dtype: Any = None,
                   optional_missing: Sequence[str] = ()) -> Any:
    """`cls(config)` on the CPU outside any meta-device context, `post_init` if its
    `__init__` skipped it, then the checkpoint's weights. Raises `RuntimeError` naming
    missing weights, except those matching a regex of `optional_missing` or the class's
    `_keys_to_ignore_on_load_missing` (weights no hidden state reads, which
    `from_pretrained` would leave initialised too); unexpected ones are logged."""
    import torch

    # Weights are initialised as usual (not skipped): a head the checkpoint lacks (a pooler)
    # then holds defined values, never uninitialised memory.
    with _count_post_init(cls) as calls, torch.device("cpu"):
        model = cls(config)
    if calls[0] == 0:
        log.info("%s: __init__ did not call post_init; calling it", cls.__name__)
        model.post_init()
    state = read_state_dict(checkpoint_files(source, revision))
    model_keys = set(model.state_dict().keys())
    strip, add = _match_prefix(model_keys, set(state), getattr(cls, "base_model_prefix", "") or "")
    if strip or add:
        state = {add + (k[len(strip):] if strip and k.startswith(strip) else k): v for k, v in state.items()}
    result = model.load_state_dict(state, strict=False)
    ignore = [*(getattr(model, "_keys_to_ignore_on_load_missing", None) or ()), *optional_missing]
    skipped = [k for k in result.missing_keys if _ignored(k, ignore)]
    if skipped:
        log.info("%s: %d weights not in the checkpoint and not used for hidden states (e.g. %s)",
                 source, len(skipped), skipped[0])
    missing = [k for k in result.missing_keys if not _ignored(k, ignore)]
    if missing and getattr(config, "tie_word_embeddings", False):
        model.tie_weights()
    # A weight that shares its Parameter with a loaded one was loaded with it: declared ties
    # (tie_word_embeddings, after tie_weights) and Parameters an `__init__` assigns to two
    # modules (Caduceus's BiMambaWrapper shares in/out projections; save_pretrained drops the
    # duplicates from safetensors files).
    shared = [k for k in missing if _tied_to_loaded(model, k, state)]
    if shared:
        log.info("%s: %d weights share their tensor with loaded ones (e.g. %s)", source, len(shared), shared[0])
        missing = [k for k in missing if k not in shared]
    heads = [k for k in missing if _OPTIONAL_MISSING.search(k)]
    if heads:
        log.warning("%s: the checkpoint has no %s; they keep their initial values (hidden states do not use them)",
                    source, ", ".join(heads))
        missing = [k for k in missing if k not in heads]
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise BadState(f"{source}: the checkpoint lacks weights of {cls.__name__}: {shown}")
    unexpected = [k for k in result.unexpected_keys
                  if not _ignored(k, getattr(model, "_keys_to_ignore_on_load_unexpected", None))]
    if unexpected:
        log.info("%s: %d checkpoint tensors unused by %s (e.g. %s)", source, len(unexpected), cls.__name__, unexpected[0])
    if dtype is not None:
        model = model.to(dtype)
    return model


def _tied_to_loaded(model: Any, key: str, state: dict[str, Any]) -> bool:
    """True when parameter `key` shares storage with a parameter that was loaded."""
    params = dict(model.named_parameters(remove_duplicate=False))
    p = params.get(key)
    if p is None or p.is_meta:
        return False
    return any(q.data_ptr() == p.data_ptr() for k, q in params.items() if k != key and k in state)
