"""The embedding store: a versioned Zarr v3 layout of (model, task, split) matrices.

Extractors write with :meth:`Store.open_writer`; probes and analysts read with
:func:`open_store` (read-only by default). The schema is documented in
``stores/README.md``.
"""

from __future__ import annotations

from .cachekey import CACHE_KEY_FIELDS, cache_key_hash, make_cache_key, validate_cache_key
from .errors import (
    CacheKeyMismatch,
    CorruptData,
    IncompleteData,
    LockBusy,
    StoreError,
    UnknownEncoding,
)
from .importer import StoreImportError, import_pair
from .schema import ENCODING_VERSION, SUPPORTED_VERSIONS
from .store import Store, open_store
from .verify import Problem
from .writer import Block, Writer

__all__ = [
    "CACHE_KEY_FIELDS", "ENCODING_VERSION", "SUPPORTED_VERSIONS", "Block", "CacheKeyMismatch", "CorruptData",
    "IncompleteData", "LockBusy", "Problem", "Store", "StoreError", "StoreImportError",
    "UnknownEncoding", "Writer",
    "cache_key_hash", "import_pair", "make_cache_key", "open_store", "validate_cache_key",
]
