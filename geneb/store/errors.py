"""Exceptions raised by the embedding store.

All derive from :class:`StoreError` (a ``RuntimeError``), so the CLI prints them as
one-line messages and callers can catch the whole family at once.
"""

from __future__ import annotations

from ..errors import TransientError, UserError


class StoreError(UserError, RuntimeError):
    """A store operation failed for a reason the user can act on."""


class UnknownEncoding(StoreError):
    """A group carries an ``encoding-type``/``encoding-version`` this code does not know."""


class CacheKeyMismatch(StoreError):
    """Existing data for a (model, task) pair was made with a different cache key."""


class LockBusy(TransientError, StoreError, TimeoutError):
    """Another live writer holds the (model, task) lock."""


class IncompleteData(StoreError):
    """An array was read before all of its row blocks were written."""


class CorruptData(StoreError):
    """A chunk or shard failed its checksum or could not be decoded."""
