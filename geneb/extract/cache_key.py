"""The cache key of a (model, task) pair: everything that changes a stored vector.

A store refuses to resume or reuse vectors under a different key. Bump
`EXTRACTOR_VERSION` whenever a change to the shared code (batching, pooling, windows)
would change vectors for the same inputs, and a family's `numerics` when only its own
code does.
"""

from __future__ import annotations

from typing import Any

from ..catalog import ModelSpec
from .adapters.base import Adapter

#: Version of the extraction code's numerics (tokenisation, padding, pooling, averaging).
EXTRACTOR_VERSION = "1"


def resolved_compute_dtype(options_compute: str, device: str) -> str:
    if options_compute != "auto":
        return options_compute
    return "bfloat16" if device.startswith("cuda") else "float32"


def build_cache_key(spec: ModelSpec, adapter: Adapter, task_id: str, task_hash: str,
                    raw_hash: str | None = None) -> dict[str, Any]:
    """The key dict stored with a pair (validated by `geneb.store.make_cache_key`).
    Uses `adapter.describe()`, which works before `load()`. `raw_hash` (the task's hash over
    its text verbatim) enters the key of adapters that embed that text when it differs."""
    from ..store import make_cache_key

    desc = dict(adapter.describe())
    o = adapter.options
    weights = desc.pop("weights", spec.weights)
    revision = desc.pop("revision", spec.revision) or "none"
    tokenizer = desc.pop("tokenizer", "")
    window = None
    if o.window is not None:
        window = {"size": o.window, "stride": o.stride or o.window, "unit": "bases", "aggregate": "mean"}
    extra: dict[str, Any] = {
        "family": spec.family,
        "weights": weights,
        "length_unit": spec.length_unit,
        "compute_dtype": resolved_compute_dtype(o.compute_dtype, adapter.device) if adapter.neural else None,
        "task": task_id,
    }
    if adapter.numerics != 1:  # absent = 1, so keys written before the field existed still match
        extra["family_numerics"] = adapter.numerics
    if adapter.takes_raw_text and raw_hash and raw_hash != task_hash:
        extra["raw_text_hash"] = raw_hash
    if desc:
        extra["adapter"] = {k: desc[k] for k in sorted(desc)}
    model_id = spec.model_id
    if spec.family == "harness" and model_id.startswith("harness:"):
        model_id = f"harness:{desc['extractor']}"  # where the file lies does not change its vectors
    return make_cache_key(
        model_id=model_id,
        revision=revision,
        layer=adapter.layer,
        pooling=adapter.pooling,
        special_tokens=spec.special_tokens,
        max_length=adapter.max_length,
        window=window,
        reverse_complement="mean" if o.reverse_complement else False,
        dtype=o.dtype,
        tokenizer=tokenizer,
        task_content_hash=task_hash,
        extractor_version=EXTRACTOR_VERSION,
        extra=extra,
    )


def key_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable field differences, for error messages."""
    out = []
    for k in sorted(set(old) | set(new)):
        if old.get(k) != new.get(k):
            out.append(f"{k}: stored {old.get(k)!r}, now {new.get(k)!r}")
    return out
