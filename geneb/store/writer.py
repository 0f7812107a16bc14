"""Resumable, crash-safe writing of one (model, task) pair.

A block is one shard of the X array. The shard is written whole (zarr's LocalStore
writes a temp file and renames it, so a kill leaves either the old file or the new
one), and only then is the block's bit set in the split's done bitmap, itself an
atomically replaced ``zarr.json``. A kill at any moment therefore leaves every block
marked done intact, and a reopened writer resumes at the first block not done.
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidArgument
from . import schema as S
from ._kv import is_temp
from .cachekey import cache_key_hash, diff_keys, validate_cache_key
from .errors import CacheKeyMismatch, StoreError
from .lock import PairLock
from .shards import ShardCodec, cast_into

if TYPE_CHECKING:
    from ._access import Access
    from .store import Store

log = logging.getLogger(__name__)

#: `Writer.write_split` records landed blocks in the done bitmap at most this often.
MARK_SECONDS = 1.0


@dataclass(frozen=True)
class Block:
    """A row range [start, stop) of one split that is written (and marked done) at once."""

    index: int
    start: int
    stop: int

    @property
    def n_rows(self) -> int:
        return self.stop - self.start


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def library_versions() -> dict[str, str]:
    """Versions of the libraries that shaped the data (torch etc. only if already loaded)."""
    import numcodecs
    import zarr

    from .. import __version__

    out = {"python": sys.version.split()[0], "geneb": __version__, "numpy": np.__version__,
           "zarr": zarr.__version__, "numcodecs": numcodecs.__version__}
    for mod in ("torch", "transformers", "tokenizers"):
        m = sys.modules.get(mod)
        if m is not None and hasattr(m, "__version__"):
            out[mod] = str(m.__version__)
    return out


def _peak_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return int(rss if sys.platform == "darwin" else rss * 1024)


class Writer:
    """Writes the splits of one (model, task) pair; holds the pair's lock until closed.

    Create with :meth:`Store.open_writer`, then ``with w:`` write every block from
    :meth:`pending_blocks` (or a whole split with :meth:`write_split`) and call :meth:`finish`.
    """

    def __init__(
        self,
        store: Store,
        access: Access,
        model: str,
        task: str,
        *,
        cache_key: Mapping[str, Any],
        n_rows: Mapping[str, int],
        dim: int,
        labels: Mapping[str, Any],
        dtype: str | None = None,
        overwrite: bool = False,
        lock_timeout: float = 0.0,
        compressor: str = S.DEFAULT_COMPRESSOR,
        block_rows: int | None = None,
    ) -> None:
        self.store, self._access = store, access
        self.model, self.task = S.validate_id("model", model), S.validate_id("task", task)
        self._where = f"{model}/{task}"
        key = validate_cache_key(cache_key)
        if dtype is None:  # the cache key already says it; float32 (lossless) is geneb-v1's default
            dtype = str(key.get("dtype") or "float32")
        if dtype not in S.STORAGE_DTYPES:
            raise InvalidArgument(f"{self._where}: dtype must be one of {S.STORAGE_DTYPES}, got {dtype!r}")
        if key["dtype"] != dtype:
            raise InvalidArgument(f"{self._where}: cache key dtype {key['dtype']!r} differs from storage dtype {dtype!r}")
        if not isinstance(dim, (int, np.integer)) or dim < 1:
            raise InvalidArgument(f"{self._where}: dim must be a positive integer, got {dim!r}")
        S.compressor_codec(compressor)  # validates the name
        self.cache_key, self.key_hash, self.dim, self.dtype = key, cache_key_hash(key), int(dim), dtype
        self._labels = self._check_labels(n_rows, labels)
        self.layouts = {s: S.plan_layout(int(n), self.dim, dtype, block_rows) for s, n in n_rows.items()}
        self._compressor = compressor
        self._lock = PairLock(access.kv, model, task)
        self._lock.acquire(lock_timeout)
        try:
            self._open_or_create(overwrite)
        except BaseException:
            self._lock.release()
            raise
        self._arrays: dict[str, Any] = {}
        self._rows_written = 0
        self._write_seconds = 0.0
        self._t_open = time.perf_counter()

    # -- setup -----------------------------------------------------------------
    def _check_labels(self, n_rows: Mapping[str, int], labels: Mapping[str, Any]) -> dict[str, np.ndarray]:
        if not n_rows:
            raise InvalidArgument(f"{self._where}: n_rows must name at least one split")
        if set(n_rows) != set(labels):
            raise InvalidArgument(f"{self._where}: n_rows splits {sorted(n_rows)} differ from labels splits {sorted(labels)}")
        out = {}
        for split, n in n_rows.items():
            S.validate_id("split", split)
            if not isinstance(n, (int, np.integer)) or n < 0:
                raise InvalidArgument(f"{self._where}/{split}: n_rows must be a non-negative integer, got {n!r}")
            y = np.asarray(labels[split])
            if y.ndim != 1 or len(y) != n:
                raise InvalidArgument(f"{self._where}/{split}: labels have shape {y.shape}, expected ({n},)")
            if len(y) and not np.issubdtype(y.dtype, np.integer):
                if not (np.issubdtype(y.dtype, np.floating) and np.all(np.mod(y, 1) == 0)):
                    raise InvalidArgument(f"{self._where}/{split}: labels must be integers, got dtype {y.dtype}")
            out[split] = y.astype(np.int64)
        return out

    def _open_or_create(self, overwrite: bool) -> None:
        st = self.store
        attrs = self._access.pair_attrs(self.model, self.task)
        if attrs is not None:
            stored = attrs.get("cache_key") or {}
            if attrs.get("cache_key_hash") != self.key_hash:
                if not overwrite:
                    diffs = "; ".join(diff_keys(stored, self.cache_key)) or "hash differs"
                    raise CacheKeyMismatch(
                        f"{self._where} in {st.url} was written with a different cache key ({diffs}); "
                        "pass overwrite=True to replace it"
                    )
                log.info("%s: cache key changed, replacing stored data", self._where)
                self._delete_pair()
                attrs = None
            elif not attrs.get("layout_ready") or not self._layout_matches(attrs):
                if attrs.get("layout_ready") and not overwrite:
                    raise StoreError(
                        f"{self._where} in {st.url} has the same cache key but different splits/shape/labels "
                        f"(stored {attrs.get('layouts')}); pass overwrite=True to replace it"
                    )
                self._delete_pair()
                attrs = None
        if attrs is None:
            self._create()
        else:
            self._cleanup_temp_files()

    def _layout_matches(self, attrs: dict[str, Any]) -> bool:
        stored = attrs.get("layouts") or {}
        mine = {s: {"n_rows": lay.n_rows, "dim": lay.dim, "dtype": lay.dtype} for s, lay in self.layouts.items()}
        if {s: {k: v[k] for k in ("n_rows", "dim", "dtype")} for s, v in stored.items()} != mine:
            return False
        for split, y in self._labels.items():
            try:
                if not np.array_equal(self.store.y(self.model, self.task, split), y):
                    return False
            except (StoreError, KeyError):
                return False
        # resume with the stored blocking, whatever block_rows this call asked for
        self.layouts = {s: S.Layout.from_attrs(stored[s]) for s in self.layouts}
        return True

    def _delete_pair(self) -> None:
        S.drop_pair(self._access.kv, self.model, self.task)

    def _cleanup_temp_files(self) -> None:
        """Remove temp files a killed writer left behind (LocalStore's '*.partial')."""
        root = self._access.kv.local_root
        if root is None:
            return
        for dirpath, _dirs, files in os.walk(root / S.pair_path(self.model, self.task)):
            for f in files:
                if is_temp(f):
                    try:
                        os.unlink(os.path.join(dirpath, f))
                    except FileNotFoundError:
                        pass

    def _create(self) -> None:
        import zarr
        from zarr.codecs import Crc32cCodec, ZstdCodec

        kv = self._access.kv
        kv.delete_prefix(S.pair_path(self.model, self.task))  # leftovers of an interrupted delete
        if kv.get(S.meta_key(self.model)) is None:
            kv.set(S.meta_key(self.model), S.group_document(S.TYPE_MODEL, {"model": self.model}))
        created = _now()
        base = {
            "model": self.model, "task": self.task, "cache_key": self.cache_key,
            "cache_key_hash": self.key_hash, "created": created, "status": "partial",
            "layouts": {s: lay.to_attrs() for s, lay in self.layouts.items()},
            "compressor": self._compressor,
        }
        pair = S.pair_path(self.model, self.task)
        kv.set(S.meta_key(pair), S.group_document(S.TYPE_PAIR, {**base, "layout_ready": False}))
        for split, lay in self.layouts.items():
            sp = S.split_path(self.model, self.task, split)
            ints = {"y": np.asarray(self._labels[split], dtype=np.int64), "row_index": np.arange(lay.n_rows, dtype=np.int64)}
            digests = {S.DIGEST_ATTRS[k]: S.int_digest(v) for k, v in ints.items()}
            kv.set(S.meta_key(sp), S.group_document(S.TYPE_SPLIT, {**lay.to_attrs(), **digests,
                                                                   "done": S.encoding_bitmap([False] * lay.n_blocks)}))
            meta = self._access.zarr_store
            _create_x(meta, f"{sp}/X", lay, self._compressor)
            rows = max(1, min(lay.n_rows, S.LABEL_CHUNK_ROWS))
            for name, values in ints.items():
                # crc32c per chunk (a flipped byte is named at its chunk) and the digest in the
                # split's attributes (a deleted chunk would otherwise read as the fill value)
                arr = zarr.create_array(meta, name=f"{sp}/{name}", shape=(lay.n_rows,), dtype="int64",
                                        chunks=(rows,), fill_value=0, overwrite=True,
                                        compressors=[ZstdCodec(level=0), Crc32cCodec()], dimension_names=("row",),
                                        config={"write_empty_chunks": True})
                if lay.n_rows:
                    arr[:] = values
            # the arrays' own zarr.json, fixed from now on: their digests make any change to
            # them (not only the fields readers check) detectable
            metas = {name: S.bytes_digest(kv.get(f"{sp}/{name}/zarr.json") or b"") for name in ("X", *ints)}
            kv.set(S.meta_key(sp), S.group_document(S.TYPE_SPLIT, {**lay.to_attrs(), **digests, S.META_DIGESTS: metas,
                                                                   "done": S.encoding_bitmap([False] * lay.n_blocks)}))
        kv.set(S.meta_key(pair), S.group_document(S.TYPE_PAIR, {**base, "layout_ready": True}))

    # -- writing ---------------------------------------------------------------
    def _split_attrs(self, split: str) -> dict[str, Any]:
        if split not in self.layouts:
            raise InvalidArgument(f"{self._where}: unknown split {split!r} (have {', '.join(self.layouts)})")
        return self._access.split_attrs(self.model, self.task, split)

    def done_flags(self, split: str) -> list[bool]:
        return S.decode_bitmap(self._split_attrs(split)["done"], self.layouts[split].n_blocks)

    def blocks(self, split: str) -> list[Block]:
        lay = self.layouts[split] if split in self.layouts else self._split_attrs(split)
        return [Block(i, *lay.block_bounds(i)) for i in range(lay.n_blocks)]

    def pending_blocks(self, split: str) -> list[Block]:
        """Blocks of ``split`` not yet marked done, in row order."""
        flags = self.done_flags(split)
        return [b for b in self.blocks(split) if not flags[b.index]]

    def _codec(self, split: str) -> ShardCodec:
        if split not in self._arrays:
            meta = self._access.x_meta(self.model, self.task, split)
            codec = ShardCodec.from_metadata(meta)
            if codec is None:
                raise StoreError(f"{self._where}/{split}: X array has an unexpected codec chain; re-create with overwrite=True")
            self._arrays[split] = codec
        return self._arrays[split]

    def write_block(self, split: str, start: int, X: Any) -> Block:
        """Write the block that starts at row ``start`` (float32 in) and mark it done."""
        t0 = time.perf_counter()
        blk = self._put_block(split, start, X)
        self._mark_done(split, [blk.index])
        self._write_seconds += time.perf_counter() - t0
        self._rows_written += blk.n_rows
        return blk

    def write_split(self, split: str, X: Any, threads: int | None = None) -> list[Block]:
        """Write every pending block of ``split`` from its whole matrix ``X`` (n_rows x dim),
        encoding and writing blocks on ``threads`` threads (default: the CPUs, at most 8;
        compression, checksums, casts and file writes release the GIL). Blocks are marked
        done as they land, so a kill or an invalid block keeps every block written before it.
        Returns the blocks written, in row order."""
        from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

        lay = self.layouts.get(split)
        if lay is None:
            raise InvalidArgument(f"{self._where}: unknown split {split!r} (have {', '.join(self.layouts)})")
        X = np.asarray(X)
        if X.ndim != 2 or X.shape[0] != lay.n_rows:
            raise InvalidArgument(f"{self._where}/{split}: needs {lay.n_rows} rows x {lay.dim}, got shape {X.shape}")
        todo = self.pending_blocks(split)
        n = max(1, min(threads or min(os.cpu_count() or 1, 8), len(todo) or 1))
        t0 = last = time.perf_counter()
        landed: list[Block] = []

        def record() -> None:
            nonlocal landed, last
            if landed:
                self._mark_done(split, [b.index for b in landed])
                self._rows_written += sum(b.n_rows for b in landed)
            landed, last = [], time.perf_counter()

        with ThreadPoolExecutor(n, thread_name_prefix="geneb-write") as pool:
            running = {pool.submit(self._put_block, split, b.start, X[b.start:b.stop]) for b in todo}
            try:
                while running:
                    done, running = wait(running, return_when=FIRST_COMPLETED)
                    landed += [f.result() for f in done if f.exception() is None]
                    for f in done:
                        f.result()  # the first failure (the except records its siblings' blocks)
                    # the done bitmap is rewritten at most every MARK_SECONDS: a kill in between
                    # costs re-writing those blocks on resume, never a block marked but not written
                    if time.perf_counter() - last >= MARK_SECONDS:
                        record()
            except BaseException:
                for f in running:
                    f.cancel()
                landed += [f.result() for f in wait(running)[0] if not f.cancelled() and f.exception() is None]
                raise
            finally:
                record()
                self._write_seconds += time.perf_counter() - t0
        return todo

    def _put_block(self, split: str, start: int, X: Any) -> Block:
        """Check, convert, encode and store one block's shard (thread-safe; not marked done)."""
        if not self._lock.held:
            raise StoreError(f"{self._where}: writer is closed")
        lay = self.layouts.get(split)
        if lay is None:
            raise InvalidArgument(f"{self._where}: unknown split {split!r} (have {', '.join(self.layouts)})")
        if start % lay.block_rows or not 0 <= start < lay.n_rows:
            raise InvalidArgument(f"{self._where}/{split}: start={start} is not the start of a block "
                             f"(blocks are {lay.block_rows} rows; n_rows={lay.n_rows})")
        blk = Block(start // lay.block_rows, *lay.block_bounds(start // lay.block_rows))
        X = np.asarray(X)
        if X.shape != (blk.n_rows, lay.dim):
            raise InvalidArgument(f"{self._where}/{split}: block {blk.index} rows [{blk.start}, {blk.stop}) needs shape "
                             f"({blk.n_rows}, {lay.dim}), got {X.shape}")
        if not np.issubdtype(X.dtype, np.floating):
            raise InvalidArgument(f"{self._where}/{split}: embeddings must be floating point, got {X.dtype}")
        finite = np.isfinite(X).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)[:5] + blk.start
            raise InvalidArgument(f"{self._where}/{split}: non-finite embedding values in rows {bad.tolist()}; nothing written")
        if lay.dtype == "float16" and X.dtype != np.float16 and X.size:
            big = np.abs(X).max(axis=1) >= 65520.0  # rounds to inf in float16
            if big.any():
                bad = np.flatnonzero(big)[:5] + blk.start
                raise InvalidArgument(f"{self._where}/{split}: values in rows {bad.tolist()} are beyond float16 range "
                                 "(|x| >= 65520): store with dtype='float32'; nothing written")
        if X.dtype == lay.dtype and X.flags.c_contiguous:
            data = X  # already the storage dtype: encoded as it is, no copy
        else:
            data = np.empty(X.shape, dtype=lay.dtype)
            cast_into(data, np.ascontiguousarray(X))
        # one shard = one block, written whole by an atomic put (temp file + rename)
        key = f"{S.split_path(self.model, self.task, split)}/X/c/{blk.index}/0"
        self._access.kv.set_parts(key, self._codec(split).encode_shard_parts(data))
        return blk

    def _mark_done(self, split: str, indices: list[int]) -> None:
        self._lock.renew()
        attrs = self._split_attrs(split)
        flags = S.decode_bitmap(attrs["done"], self.layouts[split].n_blocks)
        for i in indices:
            flags[i] = True
        attrs["done"] = S.encoding_bitmap(flags)
        attrs.pop("encoding-type"), attrs.pop("encoding-version")
        self._access.kv.set(S.meta_key(S.split_path(self.model, self.task, split)), S.group_document(S.TYPE_SPLIT, attrs))

    def finish(self, provenance: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Mark the pair complete (every block must be done) and record provenance."""
        missing = {s: [b.index for b in self.pending_blocks(s)] for s in self.layouts}
        missing = {s: v for s, v in missing.items() if v}
        if missing:
            raise StoreError(f"{self._where}: cannot finish, blocks not written: "
                             + "; ".join(f"{s}: {v[:10]}{'...' if len(v) > 10 else ''}" for s, v in missing.items()))
        attrs = self._access.pair_attrs(self.model, self.task) or {}
        old = attrs.get("provenance") or {}
        if attrs.get("status") == "complete" and self._rows_written == 0 and not provenance:
            return old
        wall = time.perf_counter() - self._t_open
        prov: dict[str, Any] = {
            **old,
            "created": attrs.get("created"),
            "finished": _now(),
            "rows_written_last_session": self._rows_written,
            "store_write_seconds": round(self._write_seconds, 4),
            "session_seconds": round(wall, 4),
            "throughput_rows_per_s": round(self._rows_written / wall, 3) if wall > 0 else None,
            "peak_memory_bytes": _peak_rss_bytes(),
            "host": socket.gethostname(),
            "pid": os.getpid(),
            "versions": library_versions(),
        }
        prov.update(dict(provenance or {}))
        attrs.update(status="complete", finished=prov["finished"], provenance=prov)
        for k in ("encoding-type", "encoding-version"):
            attrs.pop(k, None)
        try:
            doc = S.group_document(S.TYPE_PAIR, attrs)
        except (TypeError, ValueError) as exc:
            raise InvalidArgument(f"{self._where}: provenance must be plain JSON: {exc}") from None
        self._access.kv.set(S.meta_key(S.pair_path(self.model, self.task)), doc)
        log.info("%s complete: %d rows written this session, %.1f rows/s", self._where, self._rows_written,
                 prov["throughput_rows_per_s"] or 0.0)
        return prov

    # -- lifetime ----------------------------------------------------------------
    def close(self) -> None:
        self._lock.release()

    def __enter__(self) -> Writer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_x(zstore: Any, name: str, lay: S.Layout, compressor: str):
    """Create X with an explicit sharding codec chain (bytes -> compressor -> crc32c)."""
    import zarr
    from zarr.codecs import ShardingCodec

    codecs = S.embedding_codecs(compressor)
    sharding = ShardingCodec.from_dict({
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [lay.chunk_rows, lay.dim], "codecs": codecs,
            "index_codecs": [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}],
            "index_location": "end",
        },
    })
    return zarr.create_array(
        zstore, name=name, shape=(lay.n_rows, lay.dim), dtype=lay.dtype, dimension_names=("row", "feature"),
        chunks=(lay.block_rows, lay.dim), serializer=sharding, compressors=None, filters=None,
        fill_value=float("nan"), config={"write_empty_chunks": True}, overwrite=True,
        attributes={"encoding-type": "geneb-embedding-matrix", "encoding-version": S.ENCODING_VERSION},
    )
