"""The store's internal read layer, under the public `Store` facade, the writer and
`verify`: group and array documents parsed and checked over a KV, and the readers of X,
y and row_index. One place owns how a document is read, so a reader refuses exactly what
`verify` reports and the writer resumes from exactly what a reader sees."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import crc32c
import numpy as np

from ..errors import MissingPackage, NotFound
from . import schema as S
from ._kv import KV
from .errors import CorruptData, StoreError
from .shards import MISSING_CHUNK, ShardCodec, cast_into, checked_payload

_WORKERS: int | None = None  # reader threads (None: one per CPU, at most 8)


class Access:
    """Documents and arrays of one store's KV. ``require_checksums``: the store was created
    by a geneb that checksums every document, so a document without one is damaged."""

    def __init__(self, kv: KV, require_checksums: bool = False) -> None:
        self.kv, self.url, self.require_checksums = kv, kv.url, require_checksums

    @property
    def zarr_store(self) -> Any:
        return self.kv.zstore

    # -- metadata ----------------------------------------------------------------
    def group_attrs(self, path: str, etype: str) -> dict[str, Any] | None:
        raw = self.kv.get(S.meta_key(path))
        if raw is None:
            return None
        return S.parse_group_document(raw, etype, f"{self.url}/{S.meta_key(path)}", self.require_checksums)

    def pair_attrs(self, model: str, task: str) -> dict[str, Any] | None:
        return self.group_attrs(S.pair_path(model, task), S.TYPE_PAIR)

    def split_attrs(self, model: str, task: str, split: str) -> dict[str, Any]:
        pair = self.require_pair(model, task)  # also refuses an unknown pair encoding
        attrs = self.group_attrs(S.split_path(model, task, split), S.TYPE_SPLIT)
        if attrs is None:
            if split in (pair.get("layouts") or {}):
                raise CorruptData(f"{self.url}/{S.meta_key(S.split_path(model, task, split))} is missing "
                                  f"(the pair's layout lists split {split!r}): the store is damaged")
            raise NotFound(f"{model}/{task} in {self.url} has no split {split!r} (splits: {', '.join(pair.get('layouts', {}))})")
        return attrs

    def require_pair(self, model: str, task: str) -> dict[str, Any]:
        attrs = self.pair_attrs(model, task)
        if attrs is None:
            raise NotFound(f"no embeddings for {model}/{task} in {self.url}")
        return attrs

    def array_meta(self, model: str, task: str, split: str, name: str,
                    attrs: dict[str, Any] | None = None) -> dict[str, Any]:
        """An array's zarr.json, parsed and checked against the split's layout (so a reader
        refuses exactly what `verify` reports). ``attrs``: the split's attributes when the
        caller has them already (one parse per read)."""
        key = f"{S.split_path(model, task, split)}/{name}/zarr.json"
        raw = self.kv.get(key)
        if raw is None:
            raise StoreError(f"{self.url}/{key} is missing")
        try:
            meta = json.loads(raw)
        except ValueError as exc:
            raise StoreError(f"{self.url}/{key}: not valid JSON ({exc})") from None
        if attrs is None:
            attrs = self.split_attrs(model, task, split)
        S.check_array_meta(meta, S.Layout.from_attrs(attrs), name, f"{self.url}/{key}")  # the specific message first
        want = (attrs.get(S.META_DIGESTS) or {}).get(name)
        if want is not None and S.bytes_digest(raw) != want:
            raise CorruptData(f"{self.url}/{key}: checksum mismatch (the array metadata was changed or damaged)")
        return meta

    def x_meta(self, model: str, task: str, split: str) -> dict[str, Any]:
        return self.array_meta(model, task, split, "X")

    def reader(self, model: str, task: str, split: str, attrs: dict[str, Any] | None = None,
                meta: dict[str, Any] | None = None) -> MatrixReader:
        """``attrs``/``meta``: the split's attributes and X's checked metadata when the caller has them."""
        if attrs is None:
            attrs = self.split_attrs(model, task, split)
        if meta is None:
            meta = self.array_meta(model, task, split, "X", attrs)
        return MatrixReader(self.kv, S.split_path(model, task, split), meta, S.Layout.from_attrs(attrs),
                             self.zarr_store)

    def int_array(self, model: str, task: str, split: str, name: str, rows: Any,
                   attrs: dict[str, Any] | None = None, meta: dict[str, Any] | None = None) -> np.ndarray:
        """y or row_index, metadata checked and (stores that record one) content digest
        verified: a missing chunk would read as the fill value, so it is corruption.
        ``attrs``/``meta``: the split's attributes and the array's checked metadata when the
        caller has them (verify)."""
        import zarr

        if attrs is None:
            attrs = self.split_attrs(model, task, split)
        lay = S.Layout.from_attrs(attrs)
        path = f"{S.split_path(model, task, split)}/{name}"
        if meta is None:
            meta = self.array_meta(model, task, split, name, attrs)
        full = self.own_int_chunks(path, meta, lay.n_rows)
        if full is None:  # another codec chain: zarr decodes it
            try:
                arr = zarr.open_array(self.zarr_store, path=path, mode="r")
                full = np.asarray(arr[:], dtype=np.int64) if lay.n_rows else np.empty(0, np.int64)
            except Exception as exc:
                raise CorruptData(f"{self.url}/{path}: cannot read ({exc})") from exc
        want = attrs.get(S.DIGEST_ATTRS[name])
        if want is not None and S.int_digest(full) != want:
            raise CorruptData(f"{self.url}/{path}: content checksum mismatch (a chunk is missing, truncated or damaged)")
        if rows is None:
            return full
        return full[normalise_rows(rows, lay.n_rows, f"{model}/{task}/{split}")]

    def own_int_chunks(self, path: str, meta: dict[str, Any], n: int) -> np.ndarray | None:
        """The int64 chain geneb writes (bytes little-endian, zstd, crc32c) decoded straight
        from its chunk files, each crc32c checked (zarr's array machinery costs ~3 ms an array,
        more than a small probe fit); None for any other chain."""
        codecs = meta.get("codecs") or []
        enc = meta.get("chunk_key_encoding") or {}
        if ([c.get("name") for c in codecs] != ["bytes", "zstd", "crc32c"]
                or (codecs[0].get("configuration") or {}).get("endian", "little") != "little"
                or meta.get("data_type") != "int64" or enc.get("name") != "default"
                or (enc.get("configuration") or {}).get("separator") != "/"):
            return None
        from numcodecs import Zstd

        rows = int(meta["chunk_grid"]["configuration"]["chunk_shape"][0])
        out = np.empty(n, dtype=np.int64)
        for i, start in enumerate(range(0, n, rows)):
            key = f"{path}/c/{i}"
            raw = self.kv.get(key)
            if raw is None:
                raise CorruptData(f"{self.url}/{key}: chunk is missing (a complete array has every chunk)")
            body = checked_payload(raw, f"{self.url}/{key}")
            try:
                values = np.frombuffer(Zstd().decode(body), dtype="<i8")
            except Exception as exc:  # numcodecs raises RuntimeError and others
                raise CorruptData(f"{self.url}/{key}: cannot decompress ({exc})") from exc
            m = min(rows, n - start)
            if len(values) < m:
                raise CorruptData(f"{self.url}/{key}: chunk holds {len(values)} values, expected {m}")
            out[start:start + m] = values[:m]
        return out


def done_flags(split_attrs: dict[str, Any]) -> list[bool]:
    return S.decode_bitmap(split_attrs["done"], int(split_attrs["n_blocks"]))


def rows_of(lay: S.Layout, flags: list[bool]) -> np.ndarray:
    """Row indices of the blocks marked done."""
    parts = [np.arange(*lay.block_bounds(i), dtype=np.int64) for i, d in enumerate(flags) if d]
    return np.concatenate(parts) if parts else np.empty(0, dtype=np.int64)


def normalise_rows(rows: Any, n: int, where: str) -> np.ndarray:
    if isinstance(rows, slice):
        return np.arange(n, dtype=np.int64)[rows]
    idx = np.asarray(rows)
    if idx.dtype == bool:
        if idx.shape != (n,):
            raise IndexError(f"{where}: boolean row mask has shape {idx.shape}, expected ({n},)")
        return np.flatnonzero(idx)
    if idx.size == 0:
        return np.empty(0, dtype=np.int64)
    if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
        raise IndexError(f"{where}: rows must be a 1-D integer array, a boolean mask or a slice")
    idx = idx.astype(np.int64)
    if idx.min() < -n or idx.max() >= n:
        raise IndexError(f"{where}: row index out of range for {n} rows (got {int(idx.min())}..{int(idx.max())})")
    return np.where(idx < 0, idx + n, idx)


class MatrixReader:
    """Reads rows of one X array: the direct shard decoder, or zarr as a fallback."""

    def __init__(self, kv: KV, split_path: str, meta: dict[str, Any], layout: S.Layout, zstore: Any) -> None:
        self.kv, self.split_path, self.meta, self.layout, self.zstore = kv, split_path, meta, layout, zstore
        self.codec = ShardCodec.from_metadata(meta)

    def shard_key(self, block: int) -> str:
        return f"{self.split_path}/X/c/{block}/0"

    def _zarr(self):
        import zarr

        return zarr.open_array(self.zstore, path=f"{self.split_path}/X", mode="r")

    def read_block(self, block: int, local_rows: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Rows of one block (all, or ``local_rows`` offsets within it), into ``out`` (float32 by default)."""
        lay = self.layout
        start, stop = lay.block_bounds(block)
        nrows = stop - start if local_rows is None else len(local_rows)
        if out is None:
            out = np.empty((nrows, lay.dim), dtype=np.float32)
        if self.codec is None:
            sel = np.arange(start, stop) if local_rows is None else local_rows + start
            out[:] = self._zarr().oindex[sel, :]
            return out
        key = self.shard_key(block)
        c = self.codec
        if local_rows is None or len(local_rows) * 4 >= stop - start:
            raw = self.kv.get_reusable(key)
            if raw is None:
                raise StoreError(f"{self.kv.url}/{key}: shard missing for a block marked done")
            if local_rows is None:  # only the chunks inside the array (the last block may be short)
                need = None if stop - start == c.shard_rows else list(range(-(-(stop - start) // c.chunk_rows)))
            else:
                need = sorted(set((local_rows // c.chunk_rows).tolist()))
            if local_rows is None and out.dtype == c.dtype and stop - start == c.shard_rows and out.flags.c_contiguous:
                c.decode_shard(raw, f"{self.kv.url}/{key}", out=out)  # straight into the result
                return out
            dec = c.decode_shard(raw, f"{self.kv.url}/{key}", need)
        else:
            mapped = self.kv.mapped(key)
            if mapped is not None:
                with mapped:
                    self._gather_mapped(mapped.view, key, local_rows, out)
                return out
            dec = self._decode_ranges(key, sorted(set((local_rows // c.chunk_rows).tolist())))
        if local_rows is None:
            cast_into(out, dec[: stop - start])
        else:
            cast_into(out, dec[local_rows])
        return out

    def _gather_mapped(self, mv: memoryview, key: str, local_rows: np.ndarray, out: np.ndarray) -> None:
        """Rows ``local_rows`` of a memory-mapped shard into ``out``: the index and every
        chunk holding a row are crc32c-checked in place (nothing else of the shard is
        touched); uncompressed rows are then copied straight from the map in one gather,
        compressed chunks decoded into a buffer of just those chunks."""
        c = self.codec
        assert c is not None
        where = f"{self.kv.url}/{key}"
        size = len(mv)
        if size < c.index_nbytes:
            raise CorruptData(f"{where}: shard is truncated (shorter than its index)")
        limit = size - c.index_nbytes
        entries = c.decode_index(bytes(mv[limit:]), where)
        ids, pos = np.unique(local_rows // c.chunk_rows, return_inverse=True)
        used = entries[ids]
        stored = ~((used[:, 0] == MISSING_CHUNK) & (used[:, 1] == MISSING_CHUNK))
        past = stored & (used[:, 0] + used[:, 1] > np.uint64(limit))
        if past.any():
            raise CorruptData(f"{where}: chunk {int(ids[past][0])} lies past the end of the shard (truncated shard)")
        row_bytes = c.dim * c.dtype.itemsize
        offsets = used[:, 0].astype(np.int64)
        if c.compressor is not None or np.any(offsets[stored] % c.dtype.itemsize):
            buf = np.empty((len(ids), c.chunk_rows, c.dim), dtype=c.dtype)
            for j, (i, (off, n)) in enumerate(zip(ids.tolist(), used.tolist(), strict=True)):
                if stored[j]:
                    c.decode_chunk(mv[off:off + n], buf[j], f"{where} chunk {i}")  # crc32c checked
                else:
                    buf[j].fill(np.nan)
            cast_into(out, buf[pos, local_rows % c.chunk_rows])
            return
        wrong = stored & (used[:, 1].astype(np.int64) - 4 != c.chunk_rows * row_bytes)
        if wrong.any():
            j = int(np.flatnonzero(wrong)[0])
            raise CorruptData(f"{where} chunk {int(ids[j])}: chunk has {int(used[j, 1]) - 4} bytes, "
                              f"expected {c.chunk_rows * row_bytes}")
        crc = crc32c.crc32c
        # `checked_payload`'s check, inlined: building its `where` per chunk costs ~4 % of a
        # 1,000-row gather; the message is the same
        for i, (off, n) in zip(ids[stored].tolist(), used[stored].tolist(), strict=True):
            if crc(mv[off:off + n - 4]) != int.from_bytes(mv[off + n - 4:off + n], "little"):
                raise CorruptData(f"{where} chunk {i}: chunk checksum mismatch (crc32c)")
        # every row starts at a multiple of the item size: view the map as rows starting at
        # any item and take the wanted ones (one C-level copy, no index array per element)
        flat = np.frombuffer(mv, dtype=c.dtype, count=size // c.dtype.itemsize)
        try:
            starts = (offsets[pos] + (local_rows % c.chunk_rows) * row_bytes) // c.dtype.itemsize
            rows = np.lib.stride_tricks.as_strided(flat, shape=(len(flat) - c.dim + 1, c.dim),
                                                   strides=(flat.itemsize, flat.itemsize), writeable=False)
            fill = ~stored[pos]
            if fill.any():
                starts[fill] = 0
            cast_into(out, rows[starts])  # (np.take would copy the overlapping view whole)
            if fill.any():
                out[fill] = np.nan
        finally:
            del flat
            rows = None

    def _decode_ranges(self, key: str, chunk_ids: list[int]) -> np.ndarray:
        """Fetch only the needed chunks of a shard: its index, then one range per chunk."""
        c = self.codec
        assert c is not None
        where = f"{self.kv.url}/{key}"
        handle = self.kv.ranged(key)
        if handle is None:
            raise StoreError(f"{where}: shard missing for a block marked done")
        out = np.empty((c.shard_rows, c.dim), dtype=c.dtype)
        with handle:
            size = handle.size
            if size < c.index_nbytes:
                raise CorruptData(f"{where}: shard is truncated (shorter than its index)")
            entries = c.decode_index(handle.read(size - c.index_nbytes, c.index_nbytes), where).tolist()
            for i in chunk_ids:
                off, n = entries[i]
                rows = out[i * c.chunk_rows:(i + 1) * c.chunk_rows]
                if off == n == MISSING_CHUNK:
                    rows.fill(np.nan)
                    continue
                if off + n > size - c.index_nbytes:
                    raise CorruptData(f"{where}: chunk {i} lies past the end of the shard (truncated shard)")
                c.decode_chunk(handle.read(off, n), rows, f"{where} chunk {i}")
        return out

    def read(self, idx: np.ndarray | None, dtype: Any = np.float32) -> np.ndarray:
        """All rows (``idx`` None) or the rows ``idx`` in the given order."""
        lay = self.layout
        if idx is None:
            out = np.empty((lay.n_rows, lay.dim), dtype=dtype)
            tasks = [(b, None, out[slice(*lay.block_bounds(b))]) for b in range(lay.n_blocks)]
            self._run(tasks)
            return out
        out = np.empty((len(idx), lay.dim), dtype=dtype)
        if not len(idx):
            return out
        order = np.argsort(idx, kind="stable")
        sidx = idx[order]
        blocks = sidx // lay.block_rows
        cuts = np.flatnonzero(np.diff(blocks)) + 1
        tmp = np.empty_like(out)
        tasks = []
        for lo, hi in zip(np.r_[0, cuts], np.r_[cuts, len(sidx)], strict=True):
            b = int(blocks[lo])
            tasks.append((b, sidx[lo:hi] - b * lay.block_rows, tmp[lo:hi]))
        # a sparse gather decodes a few small chunks per block: reader threads then only
        # contend with blosc's own (measured 52 ms in 2 threads vs 34 ms serially, 1,000 of
        # 50,000 rows); dense selections decode whole shards and gain from them
        self._run(tasks, serial=len(idx) * 4 < lay.n_rows)
        out[order] = tmp
        return out

    def _run(self, tasks: list[tuple[int, np.ndarray | None, np.ndarray]], serial: bool = False) -> None:
        workers = 1 if serial else min(len(tasks), _WORKERS or os.cpu_count() or 1, 8)
        if workers <= 1:
            for b, rows, o in tasks:
                self.read_block(b, rows, o)
            return
        with ThreadPoolExecutor(workers) as pool:
            for f in [pool.submit(self.read_block, b, rows, o) for b, rows, o in tasks]:
                f.result()

    def dask(self, idx: np.ndarray | None, dtype: Any = np.float32) -> Any:
        try:
            import dask.array as da
        except ImportError:
            raise MissingPackage("lazy=True needs dask: pip install 'dask[array]'") from None
        lay = self.layout
        src = _DaskSource(self, dtype)
        arr = da.from_array(src, chunks=(lay.block_rows, lay.dim), asarray=False, fancy=False,
                            name=f"geneb-{self.split_path.replace('/', '-')}-{id(src)}")
        if idx is not None:
            arr = arr[idx]
        return arr


class _DaskSource:
    """Array-like adapter so dask reads one block per task through the fast reader."""

    def __init__(self, reader: MatrixReader, dtype: Any = np.float32) -> None:
        self.reader = reader
        self.shape = (reader.layout.n_rows, reader.layout.dim)
        self.dtype = np.dtype(dtype)
        self.ndim = 2

    def __getitem__(self, key: tuple[slice, slice]) -> np.ndarray:
        rs, cs = key if isinstance(key, tuple) else (key, slice(None))
        rows = np.arange(self.shape[0], dtype=np.int64)[rs]
        return self.reader.read(rows, self.dtype)[:, cs]

