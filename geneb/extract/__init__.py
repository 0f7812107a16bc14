"""Embedding extraction: model adapters by family, batching, pooling, the resumable runner.

`import geneb.extract` imports neither torch nor transformers; adapters load them when a
model is embedded. Entry points: `embed` (many pairs) and `embed_pair` (one unit of work).
"""

from __future__ import annotations

from .adapters import (
    Adapter,
    ExtractError,
    ExtractOptions,
    MissingExtraError,
    UnsupportedSequenceError,
    adapter_class,
    make_adapter,
)
from .availability import can_run
from .cache_key import EXTRACTOR_VERSION, build_cache_key
from .runner import EmbedSummary, PairResult, embed, embed_pair, embed_rows, resolve_device

__all__ = [
    "Adapter", "EXTRACTOR_VERSION", "EmbedSummary", "ExtractError", "ExtractOptions",
    "MissingExtraError", "PairResult", "UnsupportedSequenceError", "adapter_class",
    "build_cache_key", "can_run", "embed", "embed_pair", "embed_rows", "make_adapter",
    "resolve_device",
]
