"""The cache key: every setting that changes an embedding vector.

Two runs with equal keys produce the same vectors, so stored data is reused only
when the key matches exactly. The hash is sha256 over sorted, compact JSON, so it is
stable across Python versions, dict orders and machines.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..errors import InvalidArgument

#: Fields every cache key must carry (``None`` is allowed where "not used" is a value).
CACHE_KEY_FIELDS: tuple[str, ...] = (
    "model_id",  # catalog model id
    "revision",  # weights revision (commit hash or tag)
    "layer",  # hidden layer tapped (-1 = last)
    "pooling",  # mean / cls / bins-mean / ...
    "special_tokens",  # special-token policy (include / exclude / none)
    "max_length",  # truncation length (tokens or bp, see length_unit)
    "window",  # None, or {"size": ..., "stride": ..., "aggregate": ...}
    "reverse_complement",  # None/False, or the averaging policy
    "dtype",  # storage dtype: float16 / float32
    "tokenizer",  # tokenizer id / kind and revision
    "task_content_hash",  # hash of the task data (geneb.data TaskData.content_hash)
    "extractor_version",  # code version of the extractor that produced the vectors
)

_REQUIRED_NOT_NONE = ("model_id", "revision", "pooling", "dtype", "task_content_hash", "extractor_version")


def make_cache_key(
    *,
    model_id: str,
    revision: str,
    layer: int,
    pooling: str,
    special_tokens: str,
    max_length: int | None,
    window: Mapping[str, Any] | None,
    reverse_complement: bool | str | None,
    dtype: str,
    tokenizer: str | Mapping[str, Any] | None,
    task_content_hash: str,
    extractor_version: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Build a validated cache-key dict. Every field is a required keyword argument;
    ``extra`` holds further settings that also change vectors (they join the hash)."""
    key: dict[str, Any] = {
        "model_id": model_id,
        "revision": revision,
        "layer": layer,
        "pooling": pooling,
        "special_tokens": special_tokens,
        "max_length": max_length,
        "window": dict(window) if window is not None else None,
        "reverse_complement": reverse_complement,
        "dtype": dtype,
        "tokenizer": dict(tokenizer) if isinstance(tokenizer, Mapping) else tokenizer,
        "task_content_hash": task_content_hash,
        "extractor_version": extractor_version,
    }
    if extra:
        clash = sorted(set(extra) & set(key))
        if clash:
            raise InvalidArgument(f"cache key: extra fields {clash} repeat standard fields")
        key["extra"] = dict(extra)
    return validate_cache_key(key)


def validate_cache_key(key: Mapping[str, Any]) -> dict[str, Any]:
    """Check a cache-key dict (from :func:`make_cache_key` or hand-built) and return a copy."""
    if not isinstance(key, Mapping):
        raise TypeError(f"cache key must be a mapping, got {type(key).__name__}")
    missing = [f for f in CACHE_KEY_FIELDS if f not in key]
    if missing:
        raise InvalidArgument(f"cache key is missing required field(s): {', '.join(missing)}")
    empty = [f for f in _REQUIRED_NOT_NONE if key[f] in (None, "")]
    if empty:
        raise InvalidArgument(f"cache key field(s) must not be empty: {', '.join(empty)}")
    if key["dtype"] not in ("float16", "float32"):
        raise InvalidArgument(f"cache key dtype must be 'float16' or 'float32', got {key['dtype']!r}")
    unknown = sorted(set(key) - set(CACHE_KEY_FIELDS) - {"extra"})
    if unknown:
        raise InvalidArgument(f"cache key has unknown field(s) {unknown}; put them under 'extra'")
    try:
        canonical_json(key)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"cache key must be plain JSON (str/int/float/bool/None/list/dict): {exc}") from None
    return json.loads(canonical_json(key))


def canonical_json(obj: Any) -> str:
    """Sorted, compact, ASCII JSON: the byte string that gets hashed."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def cache_key_hash(key: Mapping[str, Any]) -> str:
    """sha256 hex digest of the canonical JSON of a validated key."""
    return hashlib.sha256(canonical_json(validate_cache_key(key)).encode()).hexdigest()


def diff_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Human-readable differences between two keys (for mismatch messages)."""
    out = []
    for f in sorted(set(old) | set(new)):
        if old.get(f) != new.get(f):
            out.append(f"{f}: stored {old.get(f)!r} != requested {new.get(f)!r}")
    return out
