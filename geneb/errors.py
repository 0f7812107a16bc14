"""The root of the errors geneb raises on purpose, in two branches that callers decide by:

- :class:`UserError`: bad input or a state the user has to change (an unknown model, a
  malformed task file, a damaged store). Retrying cannot help; the CLI prints the message
  and exits 2, a Dask unit fails at once.
- :class:`TransientError`: may succeed if tried again (another writer holds the pair's
  lock). A Dask unit is retried; ``geneb embed`` reports the pair as locked (exit 3).

Checked in that order: ``TransientError`` first (a busy lock is also a store error). Every
family keeps its builtin base too (``ProbeError`` is a ``ValueError``, ``StoreError`` a
``RuntimeError``), so code that caught those still works; anything that is not a
``GenebError`` is a bug and shows its traceback.
"""

from __future__ import annotations


class GenebError(Exception):
    """Root of every error geneb raises on purpose."""


class UserError(GenebError):
    """Bad input or a state the user has to change: retrying cannot help."""


class TransientError(GenebError):
    """May succeed if tried again (e.g. a lock held by another live writer)."""


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientError)


def is_user_error(exc: BaseException) -> bool:
    """A user error that is not also transient."""
    return isinstance(exc, UserError) and not isinstance(exc, TransientError)


class InvalidArgument(UserError, ValueError):
    """A value the user passed (an option, a file's content, an argument) that geneb cannot
    take. Also a ``ValueError``, so code that caught that still does."""


class MissingFile(UserError, FileNotFoundError):
    """A file or directory the user named does not exist."""


class MissingPackage(UserError, ImportError):
    """An optional package a requested feature needs is not installed."""


class BadState(UserError, RuntimeError):
    """Something the user supplied is in a state geneb cannot use (a checkpoint without
    the weights its class needs, units that failed for reasons their messages name)."""


class NotFound(UserError, KeyError):
    """An id, pair or split that does not exist. Also a ``KeyError``, so lookups that
    caught that still do; unlike a bare ``KeyError`` its message prints without quotes."""

    def __str__(self) -> str:
        return str(self.args[0]) if len(self.args) == 1 else super().__str__()
