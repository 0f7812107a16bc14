"""Integrity check of a store: every chunk read, every checksum and flag checked.

Finds (and names) damaged or missing shards, bad checksums, truncated files, NaN or
inf values, shape/label mismatches, done flags that disagree with the data, and
metadata that does not parse or carries an unknown encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from . import schema as S
from ._kv import is_temp
from .cachekey import cache_key_hash
from .errors import CorruptData, StoreError

if TYPE_CHECKING:
    from ._access import Access
    from .store import Store


@dataclass(frozen=True)
class Problem:
    """One finding: where (model/task/split and the key in the store), what kind, details."""

    model: str
    task: str
    split: str | None
    key: str
    kind: str
    message: str

    def __str__(self) -> str:
        return f"[{self.kind}] {self.key}: {self.message}"


def verify_store(store: Store, access: Access, model: str | None = None, task: str | None = None, progress: bool = False) -> list[Problem]:
    problems: list[Problem] = []
    models = [model] if model is not None else store.models()
    pairs = [(m, t) for m in models for t in ([task] if task is not None else store.tasks(m))]
    from .._progress import progress_iter

    for m, t in progress_iter(pairs, "verify", "pair", progress):
        problems += verify_pair(access, m, t)
    if task is None:
        problems += _orphans(access, model)
    return problems


def _orphans(access: Access, model: str | None) -> list[Problem]:
    """Data no metadata accounts for (a deleted or damaged group zarr.json, or the leftovers
    of an interrupted delete): invisible to every reader, so named here."""
    out: list[Problem] = []
    kv = access.kv
    names = [model] if model is not None else [d for d in kv.list_dir("")
                                               if not d.startswith(".") and d != "zarr.json" and not is_temp(d)]
    for m in names:
        key = S.meta_key(m)
        if not kv.exists(key):
            if kv.list_dir(m):
                out.append(Problem(m, "", None, key, "orphan", "data without its model metadata (deleted or damaged "
                                   "zarr.json, or an interrupted delete): re-embed the model's pairs to rebuild them"))
            continue
        try:
            access.group_attrs(m, S.TYPE_MODEL)
        except StoreError as exc:
            out.append(Problem(m, "", None, key, "metadata", str(exc)))
        for t in kv.list_dir(m):
            # a temp file of an interrupted metadata write (a worker killed mid-put) is debris:
            # the rename never happened, so the metadata it replaced still stands
            if t != "zarr.json" and not is_temp(t) and not kv.exists(S.meta_key(S.pair_path(m, t))):
                out.append(Problem(m, t, None, S.meta_key(S.pair_path(m, t)), "orphan",
                                   "data without its pair metadata (deleted or damaged zarr.json, or an interrupted "
                                   "delete): re-embed the pair to rebuild it"))
    return out


def verify_pair(access: Access, model: str, task: str) -> list[Problem]:
    out: list[Problem] = []
    pair_key = S.meta_key(S.pair_path(model, task))

    def add(split, key, kind, msg):
        out.append(Problem(model, task, split, key, kind, msg))

    try:
        attrs = access.pair_attrs(model, task)
    except StoreError as exc:
        add(None, pair_key, "metadata", str(exc))
        return out
    if attrs is None:
        add(None, pair_key, "missing", "pair metadata is missing")
        return out
    try:
        if cache_key_hash(attrs.get("cache_key") or {}) != attrs.get("cache_key_hash"):
            add(None, pair_key, "cache-key", "stored cache_key_hash does not match the stored cache key")
    except (TypeError, ValueError) as exc:
        add(None, pair_key, "cache-key", f"invalid cache key: {exc}")
    if not attrs.get("layout_ready"):
        add(None, pair_key, "incomplete", "pair setup was interrupted (layout_ready is false)")
        return out
    complete = attrs.get("status") == "complete"
    for split, lay_attrs in (attrs.get("layouts") or {}).items():
        out += _verify_split(access, model, task, split, lay_attrs, complete, add)
    return out


def _verify_split(access: Access, model: str, task: str, split: str, expect: dict, complete: bool, add) -> list[Problem]:
    sp = S.split_path(model, task, split)
    try:
        sattrs = access.group_attrs(sp, S.TYPE_SPLIT)
    except StoreError as exc:
        add(split, S.meta_key(sp), "metadata", str(exc))
        return []
    if sattrs is None:
        add(split, S.meta_key(sp), "missing", "split metadata is missing")
        return []
    lay = S.Layout.from_attrs(sattrs)
    if {k: expect.get(k) for k in ("n_rows", "dim", "dtype")} != {"n_rows": lay.n_rows, "dim": lay.dim, "dtype": lay.dtype}:
        add(split, S.meta_key(sp), "shape", f"split layout {lay.to_attrs()} disagrees with pair layout {expect}")
    try:
        flags = S.decode_bitmap(sattrs.get("done", ""), lay.n_blocks)
    except StoreError as exc:
        add(split, S.meta_key(sp), "done-flags", str(exc))
        return []
    if complete and not all(flags):
        add(split, S.meta_key(sp), "done-flags",
            f"pair is marked complete but blocks {[i for i, d in enumerate(flags) if not d][:10]} are not done")
    # metadata of every array against the split's layout (what the readers check too)
    metas: dict[str, dict] = {}  # the arrays whose metadata checked out
    for name in ("X", "y", "row_index"):
        key = f"{sp}/{name}/zarr.json"
        try:
            metas[name] = access.array_meta(model, task, split, name, sattrs)
        except StoreError as exc:
            kind = "missing" if access.kv.get(key) is None else "metadata"
            add(split, key, kind, str(exc))
    if "X" not in metas:
        return []
    # labels / row index: content digest (and chunk crc32c) checked on read
    for name in ("y", "row_index"):
        if name not in metas:  # already named above
            continue
        try:
            v = access.int_array(model, task, split, name, None, sattrs, metas[name])
            if name == "row_index" and not np.array_equal(v, np.arange(lay.n_rows)):
                add(split, f"{sp}/{name}", "row-index", "row_index is not 0..n-1 (rows must be in task-file order)")
        except CorruptData as exc:
            add(split, f"{sp}/{name}", "corrupt", str(exc))
        except (StoreError, KeyError) as exc:
            add(split, f"{sp}/{name}", "unreadable", str(exc))
    reader = access.reader(model, task, split, sattrs, metas["X"])
    for b, done in enumerate(flags):
        if not done:
            continue
        key = reader.shard_key(b)
        start, stop = lay.block_bounds(b)
        try:
            if reader.codec is not None and access.kv.size(key) is None:
                add(split, key, "missing-chunk", f"shard of block {b} (rows {start}-{stop}) is missing")
                continue
            if reader.codec is not None:
                raw_shard = access.kv.get(key) or b""
                index = reader.codec.decode_index(raw_shard[-reader.codec.index_nbytes:], key)
                n_needed = -(-(stop - start) // reader.codec.chunk_rows)
                gone = [i for i in reader.codec.missing_chunks(index) if i < n_needed]
                if gone:
                    add(split, key, "missing-chunk", f"block {b}: inner chunks {gone[:10]} are not stored")
                    continue
                data = reader.codec.decode_shard(raw_shard, key, list(range(n_needed)))[: stop - start]
            else:
                data = reader.read_block(b)
        except CorruptData as exc:
            add(split, key, "corrupt", str(exc))
            continue
        except Exception as exc:  # zarr fallback path raises its own errors
            add(split, key, "unreadable", f"block {b}: {exc}")
            continue
        finite = np.isfinite(data)
        if not finite.all():
            bad = np.flatnonzero(~finite.all(axis=1))[:5] + start
            add(split, key, "non-finite", f"block {b}: NaN/inf values in rows {bad.tolist()}")
    return []
