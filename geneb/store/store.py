"""The store: open, list, read, summarise, remove. The analyst-facing API.

A thin facade: layout and encoding are in ``schema``; documents and array readers in
``_access`` (shared with the writer and ``verify``); writing in ``writer``; integrity
checks in ``verify``. Reads of whole matrices and row gathers decode shards directly
(``shards``), in parallel threads, and return float32.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidArgument, NotFound
from . import schema as S
from ._access import Access, done_flags, normalise_rows, rows_of
from ._kv import KV, open_kv
from .errors import CorruptData, IncompleteData, StoreError
from .lock import PairLock, drop_legacy_lock_dir

if TYPE_CHECKING:
    from .writer import Writer

STATUSES = ("complete", "partial", "missing")


def open_store(
    path: str | os.PathLike[str] | Any,
    mode: str = "r",
    *,
    storage_options: dict[str, Any] | None = None,
) -> Store:
    """Open a geneb store: a directory, a ``file://``/fsspec URL or a zarr Store object.

    ``mode="r"`` (default) is read-only and requires an existing store; ``"a"`` creates
    the store if needed and allows writing.
    """
    if mode not in ("r", "a"):
        raise InvalidArgument(f"mode must be 'r' (read-only) or 'a' (create/append), got {mode!r}")
    kv = open_kv(path, read_only=(mode == "r"), storage_options=storage_options)
    raw = kv.get("zarr.json")
    if raw is None:
        if mode == "r":
            raise StoreError(f"no geneb store at {kv.url} (no zarr.json)")
        root = {S.CHECKSUMS_ATTR: S.CHECKSUM_ALGO}  # a new store: every document must carry its checksum
        kv.set("zarr.json", S.group_document(S.TYPE_STORE, root))
    else:
        root = S.parse_group_document(raw, S.TYPE_STORE, f"{kv.url}/zarr.json")
    if mode == "a":
        drop_legacy_lock_dir(kv)  # locks now live beside the store
    return Store(kv, mode, require_checksums=root.get(S.CHECKSUMS_ATTR) == S.CHECKSUM_ALGO)


class Store:
    """A geneb embedding store (see :func:`open_store`)."""

    def __init__(self, kv: KV, mode: str, require_checksums: bool = False) -> None:
        self._kv, self.mode = kv, mode
        self.url = kv.url
        # stores created by a geneb that checksums every document: a document without one
        # is damaged (e.g. its checksum key was hit), not old
        self._access = Access(kv, require_checksums)

    def __repr__(self) -> str:
        return f"<geneb Store {self.url} mode={self.mode!r}>"

    # -- listing -----------------------------------------------------------------
    def models(self) -> list[str]:
        """Model ids that have a model group in the store (sorted)."""
        return [m for m in self._kv.list_dir("") if not m.startswith(".") and m != "zarr.json"
                and self._kv.exists(S.meta_key(m))]

    def tasks(self, model: str | None = None) -> list[str]:
        """Task ids stored for ``model`` (or for any model), sorted."""
        models = [model] if model is not None else self.models()
        out: set[str] = set()
        for m in models:
            for t in self._kv.list_dir(m):
                if t != "zarr.json" and self._kv.exists(S.meta_key(S.pair_path(m, t))):
                    out.add(t)
        return sorted(out)

    def pairs(self, status: str | None = None) -> list[tuple[str, str]]:
        """(model, task) pairs present in the store, optionally only those with ``status``."""
        if status is not None and status not in STATUSES[:2]:
            raise InvalidArgument(f"status filter must be 'complete' or 'partial', got {status!r}")
        out = [(m, t) for m in self.models() for t in self.tasks(m)]
        if status is not None:
            out = [p for p in out if self.status(*p) == status]
        return out

    def status(self, model: str, task: str) -> str:
        """``complete`` (finished), ``partial`` (being written or interrupted) or ``missing``."""
        attrs = self._access.pair_attrs(model, task)
        if attrs is None:
            return "missing"
        if self._access.group_attrs(model, S.TYPE_MODEL) is None:  # parsed too: a damaged one is named
            raise CorruptData(f"{self.url}/{S.meta_key(model)} is missing but {model}/{task} exists: the store is damaged")
        return "complete" if attrs.get("status") == "complete" and attrs.get("layout_ready") else "partial"

    def cache_key(self, model: str, task: str) -> dict[str, Any] | None:
        attrs = self._access.pair_attrs(model, task)
        return None if attrs is None else attrs.get("cache_key")

    def cache_key_hash(self, model: str, task: str) -> str:
        return self._access.require_pair(model, task)["cache_key_hash"]

    def provenance(self, model: str, task: str) -> dict[str, Any]:
        """Everything recorded about how a pair was made: cache key, times, throughput, versions."""
        a = self._access.require_pair(model, task)
        return {"model": model, "task": task, "status": self.status(model, task),
                "cache_key": a.get("cache_key"), "cache_key_hash": a.get("cache_key_hash"),
                "created": a.get("created"), "finished": a.get("finished"),
                "compressor": a.get("compressor"), "layouts": a.get("layouts"),
                **(a.get("provenance") or {})}

    def splits(self, model: str, task: str) -> list[str]:
        return list(self._access.require_pair(model, task).get("layouts", {}))

    def layout(self, model: str, task: str, split: str) -> S.Layout:
        return S.Layout.from_attrs(self._access.split_attrs(model, task, split))

    def done_blocks(self, model: str, task: str, split: str) -> list[bool]:
        return done_flags(self._access.split_attrs(model, task, split))

    def done_rows(self, model: str, task: str, split: str) -> np.ndarray:
        """Row indices covered by blocks marked done (all rows when the split is complete)."""
        attrs = self._access.split_attrs(model, task, split)
        return rows_of(S.Layout.from_attrs(attrs), done_flags(attrs))

    # -- reading -------------------------------------------------------------------
    def X(
        self,
        model: str,
        task: str,
        split: str,
        rows: Sequence[int] | np.ndarray | slice | None = None,
        allow_partial: bool = False,
        lazy: bool = False,
        dtype: Any = np.float32,
    ) -> Any:
        """The embedding matrix of a split as float32 (rows in task-file order).

        ``rows`` selects a subset (indices or a slice, in the order given). An
        unfinished split raises :class:`IncompleteData` unless ``allow_partial``; then
        only the rows of finished blocks are returned (their indices: :meth:`done_rows`),
        and any requested row must lie in a finished block. ``lazy=True`` returns a
        dask array with one chunk per block (needs dask). ``dtype`` is the returned
        dtype: float32 by default (compute dtype); ``"float16"`` skips the conversion
        of float16 storage, e.g. for a GPU probe that converts on the device.
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.dtype(np.float32), np.dtype(np.float16), np.dtype(np.float64)):
            raise InvalidArgument(f"dtype must be float16, float32 or float64, got {dtype}")
        attrs = self._access.split_attrs(model, task, split)  # parsed once for the whole read
        reader = self._access.reader(model, task, split, attrs)
        lay = reader.layout
        flags = done_flags(attrs)
        where = f"{model}/{task}/{split}"
        if not all(flags) and not allow_partial:
            raise IncompleteData(
                f"{where} in {self.url} is incomplete: {sum(flags)} of {len(flags)} blocks written; "
                "pass allow_partial=True to read the finished rows (see done_rows())"
            )
        if rows is None:
            idx = None if all(flags) else rows_of(lay, flags)
        else:
            idx = normalise_rows(rows, lay.n_rows, where)
            if not all(flags):
                blocks = np.unique(idx // lay.block_rows) if len(idx) else np.empty(0, np.int64)
                bad = [int(b) for b in blocks if not flags[int(b)]]
                if bad:
                    raise IncompleteData(f"{where}: requested rows lie in unfinished block(s) {bad[:10]}")
        if lazy:
            return reader.dask(idx, dtype)
        return reader.read(idx, dtype)

    def y(self, model: str, task: str, split: str, rows: Sequence[int] | np.ndarray | slice | None = None) -> np.ndarray:
        """Labels of a split (int64), in task-file order."""
        return self._access.int_array(model, task, split, "y", rows)

    def row_index(self, model: str, task: str, split: str) -> np.ndarray:
        """Row i of X is row ``row_index[i]`` of the task's split file (always 0..n-1)."""
        return self._access.int_array(model, task, split, "row_index", None)

    # -- summary -------------------------------------------------------------------
    def summary(self, with_bytes: bool = True) -> Any:
        """One row per (model, task, split): n, dim, dtype, bytes on disk, status, created."""
        import polars as pl

        rows = []
        for m, t in self.pairs():
            a = self._access.pair_attrs(m, t) or {}
            status = self.status(m, t)
            for split, lay in (a.get("layouts") or {}).items():
                try:
                    flags = self.done_blocks(m, t, split)
                except (StoreError, KeyError):
                    flags = []
                rows.append({
                    "model": m, "task": t, "split": split, "n": int(lay["n_rows"]), "dim": int(lay["dim"]),
                    "dtype": lay["dtype"],
                    "bytes": self._kv.size_prefix(S.split_path(m, t, split)) if with_bytes else None,
                    "status": status, "blocks_done": sum(flags), "n_blocks": int(lay["n_blocks"]),
                    "created": a.get("created"), "finished": a.get("finished"),
                    "cache_key": (a.get("cache_key_hash") or "")[:12],
                })
        schema = {"model": pl.String, "task": pl.String, "split": pl.String, "n": pl.Int64, "dim": pl.Int64,
                  "dtype": pl.String, "bytes": pl.Int64, "status": pl.String, "blocks_done": pl.Int64,
                  "n_blocks": pl.Int64, "created": pl.String, "finished": pl.String, "cache_key": pl.String}
        return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)

    # -- writing / maintenance ---------------------------------------------------------
    def open_writer(
        self,
        model: str,
        task: str,
        *,
        cache_key: dict[str, Any],
        n_rows: dict[str, int],
        dim: int,
        labels: dict[str, Any],
        dtype: str | None = None,
        overwrite: bool = False,
        lock_timeout: float = 0.0,
        compressor: str = S.DEFAULT_COMPRESSOR,
        block_rows: int | None = None,
    ) -> Writer:
        """Open (create or resume) the writer of one (model, task) pair and take its lock.

        ``n_rows`` and ``labels`` are per split; ``dtype`` is the storage dtype (default:
        ``cache_key["dtype"]``, which it must equal). Raises :class:`CacheKeyMismatch` when the pair
        exists under another key (unless ``overwrite``) and :class:`LockBusy` when
        another writer holds the pair for longer than ``lock_timeout`` seconds.
        ``block_rows`` overrides the automatic ~4 MiB block size (tests, tuning).
        """
        from .writer import Writer

        self._require_writable()
        return Writer(self, self._access, model, task, cache_key=cache_key, n_rows=n_rows, dim=dim, labels=labels, dtype=dtype,
                      overwrite=overwrite, lock_timeout=lock_timeout, compressor=compressor, block_rows=block_rows)

    def _require_writable(self) -> None:
        if self.mode != "a":
            raise StoreError(f"store {self.url} is open read-only; use open_store(..., mode='a')")

    def remove(self, model: str, task: str | None = None, lock_timeout: float = 0.0) -> list[tuple[str, str]]:
        """Delete one pair, or every pair of a model (then the model group). Returns what went."""
        self._require_writable()
        S.validate_id("model", model)
        tasks = [task] if task is not None else self.tasks(model)
        if task is not None:
            S.validate_id("task", task)
            self._access.require_pair(model, task)
        elif not self._kv.exists(S.meta_key(model)):
            raise NotFound(f"no model {model!r} in {self.url}")
        removed = []
        for t in tasks:
            with PairLock(self._kv, model, t).acquire(lock_timeout):
                S.drop_pair(self._kv, model, t)
            removed.append((model, t))
        if task is None:
            self._kv.delete_prefix(model)
        return removed

    def discard_damaged(self, model: str, task: str, lock_timeout: float = 0.0) -> None:
        """Drop a damaged pair whatever state its metadata is in (so it can be re-embedded),
        and a model document that no longer parses (the writer rewrites it)."""
        self._require_writable()
        with PairLock(self._kv, model, task).acquire(lock_timeout):
            S.drop_pair(self._kv, model, task)
        try:
            self._access.group_attrs(model, S.TYPE_MODEL)
        except StoreError:
            self._kv.delete(S.meta_key(model))

    def verify(self, model: str | None = None, task: str | None = None, progress: bool = False) -> list:
        """Read every chunk; return a list of :class:`~geneb.store.verify.Problem` (empty = healthy)."""
        from .verify import verify_store

        return verify_store(self, self._access, model=model, task=task, progress=progress)
