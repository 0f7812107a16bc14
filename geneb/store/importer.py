"""Import vectors computed elsewhere into a store: one (model, task) pair from per-split
`.npy` or Parquet files, under a cache key the caller states.

A model author who already has embeddings (from the GENEB harness, a cluster job, another
tool) gets them into geneb's store, and from there into `geneb probe`, `analyze` and a
submission, without re-embedding. Labels and the task's content hash come from the task
file, never from the imported side: an imported pair is labelled and fingerprinted exactly
like an embedded one, so rows computed on other data are caught ("not the GENEB data").

Accepted files per split: `.npy` holding the (n, dim) matrix; `.parquet` with an
`embedding` column of fixed-size lists (what `geneb store export --format parquet` writes,
optionally with `row` and `label` columns, which are checked), or one numeric column per
dimension. Rows are in the task file's order; a `row` column, when present, must number
them 0..n-1 (any order: it is sorted back).

Everything is read and checked before the store is touched; the write then goes through the
store's writer (locked, block by block, completed last), so a killed import resumes or is
replaced by the next one and never leaves a pair marked complete with missing rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .cachekey import CACHE_KEY_FIELDS, cache_key_hash, validate_cache_key
from .errors import StoreError

#: cache-key fields an import must state; the rest default to None ("not used")
REQUIRED_KEY_FIELDS = ("revision", "pooling")
#: filled in by the import itself (a stated value must agree)
DERIVED_KEY_FIELDS = ("model_id", "dtype", "task_content_hash")
EXTERNAL_EXTRACTOR_VERSION = "external"


class StoreImportError(StoreError):
    """Files that cannot be imported as stated (the message names the file and row)."""


@dataclass(frozen=True)
class ImportResult:
    model: str
    task: str
    status: str  # "imported" or "skipped" (already complete under the same key)
    rows: dict[str, int]
    dim: int


def read_matrix(path: str | Path) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """(X, row numbers or None, labels or None) from a `.npy` or `.parquet` file; the labels
    of `NAME.X.npy` are its sibling `NAME.y.npy` when there is one (the `store export` layout)."""
    p = Path(path)
    if not p.is_file():
        raise StoreImportError(f"{p}: no such file")
    if p.suffix == ".npy":
        try:
            X = np.load(p, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise StoreImportError(f"{p}: not a readable .npy array ({exc})") from None
        y_file = p.with_name(p.name[: -len(".X.npy")] + ".y.npy") if p.name.endswith(".X.npy") else None
        labels = np.load(y_file, allow_pickle=False) if y_file is not None and y_file.is_file() else None
        return _matrix(p, X), None, labels
    if p.suffix == ".parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            table = pq.read_table(p)
        except (pa.ArrowInvalid, OSError) as exc:
            raise StoreImportError(f"{p}: not a readable Parquet file ({exc})") from None
        rows = table.column("row").to_numpy() if "row" in table.column_names else None
        labels = table.column("label").to_numpy() if "label" in table.column_names else None
        if "embedding" in table.column_names:
            col = table.column("embedding").combine_chunks()
            if not pa.types.is_fixed_size_list(col.type) and not pa.types.is_list(col.type):
                raise StoreImportError(f"{p}: column 'embedding' must hold lists of floats, got {col.type}")
            widths = set(col.value_lengths().to_numpy(zero_copy_only=False).tolist()) if len(col) else {0}
            if len(widths) != 1 or col.null_count:
                raise StoreImportError(f"{p}: rows of column 'embedding' have different lengths or nulls")
            X = col.flatten().to_numpy(zero_copy_only=False).reshape(len(col), widths.pop())
        else:
            names = [n for n in table.column_names if n not in ("row", "label")]
            bad = [n for n in names if not pa.types.is_floating(table.schema.field(n).type)]
            if not names or bad:
                raise StoreImportError(f"{p}: expected an 'embedding' column or float columns only; "
                                   f"non-float column(s): {bad or 'none found'}")
            X = np.column_stack([table.column(n).to_numpy(zero_copy_only=False) for n in names])
        return _matrix(p, X), rows, labels
    raise StoreImportError(f"{p}: unknown format; give a .npy or .parquet file")


def _matrix(p: Path, X: np.ndarray) -> np.ndarray:
    if X.ndim != 2 or not np.issubdtype(X.dtype, np.floating):
        raise StoreImportError(f"{p}: expected a 2-D float matrix (rows x dim), got shape {X.shape} dtype {X.dtype}")
    return X


def import_key(model: str, task_hash: str, dtype: str, stated: Mapping[str, Any]) -> dict[str, Any]:
    """The pair's cache key: the stated fields, with model id, storage dtype and the task
    hash filled in (a stated value that disagrees is refused)."""
    unknown = sorted(set(stated) - set(CACHE_KEY_FIELDS) - {"extra"})
    if unknown:
        raise StoreImportError(f"cache key: unknown field(s) {unknown}; known: {', '.join(CACHE_KEY_FIELDS)}, extra")
    missing = [f for f in REQUIRED_KEY_FIELDS if stated.get(f) in (None, "")]
    if missing:
        raise StoreImportError(f"cache key: state {', '.join(missing)} (what produced the vectors), e.g. "
                           '{"revision": "<commit>", "pooling": "mean", "layer": -1, "tokenizer": "<id>"}')
    derived = {"model_id": stated.get("model_id") or model, "dtype": dtype, "task_content_hash": task_hash}
    if stated.get("dtype") not in (None, dtype):
        raise StoreImportError(f"cache key says dtype {stated['dtype']!r}, the import stores {dtype!r}")
    if stated.get("task_content_hash") not in (None, task_hash):
        raise StoreImportError(f"cache key's task_content_hash {stated['task_content_hash']} is not the hash of the "
                           f"task file given ({task_hash}): the vectors were computed on other data")
    key = {f: None for f in CACHE_KEY_FIELDS}
    key.update({k: v for k, v in stated.items()})
    key.update(derived)
    key["extractor_version"] = stated.get("extractor_version") or EXTERNAL_EXTRACTOR_VERSION
    return validate_cache_key(key)


def _ordered(path: Path, X: np.ndarray, rows: np.ndarray | None, labels: np.ndarray | None, n: int,
             y: np.ndarray, split: str) -> np.ndarray:
    if X.shape[0] != n:
        raise StoreImportError(f"{path}: {X.shape[0]} rows, but split {split!r} of the task has {n}")
    if rows is not None:
        order = np.argsort(rows, kind="stable")
        if not np.array_equal(rows[order], np.arange(n)):
            raise StoreImportError(f"{path}: column 'row' must number the rows 0..{n - 1} once each")
        X = X[order]
        labels = labels[order] if labels is not None else None
    if labels is not None and not np.array_equal(labels, y):
        i = int(np.flatnonzero(labels != y)[0])
        raise StoreImportError(f"{path}: row {i}: label {labels[i]} differs from the task file's {y[i]} "
                           "(rows out of the task's order, or another task)")
    finite = np.isfinite(X).all(axis=1)
    if not finite.all():
        raise StoreImportError(f"{path}: row {int(np.flatnonzero(~finite)[0])}: non-finite embedding values")
    return X


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def import_pair(store: Any, model: str, task: Any, files: Mapping[str, str | Path], key: Mapping[str, Any], *,
                dtype: str = "float32", overwrite: bool = False, block_rows: int | None = None) -> ImportResult:
    """Write `files` (split -> .npy/.parquet) as pair (`model`, `task.task_id`) of an open
    store. `task` is the loaded task (`geneb.data.load_task`): labels and content hash come
    from it; `key` holds the cache-key fields that say what produced the vectors."""
    from datetime import UTC, datetime

    splits = ("train", "test")
    if set(files) != set(splits):
        raise StoreImportError(f"give one file per split ({', '.join(splits)}); got {', '.join(sorted(files)) or 'none'}")
    full = import_key(model, task.content_hash, dtype, key)
    data: dict[str, np.ndarray] = {}
    for s in splits:
        p = Path(files[s])
        X, rows, labels = read_matrix(p)
        data[s] = _ordered(p, X, rows, labels, len(task.split(s)), task.split(s).labels, s)
    dims = {s: X.shape[1] for s, X in data.items()}
    if len(set(dims.values())) != 1:
        raise StoreImportError(f"train and test have different widths: {dims}")
    dim = dims["train"]
    rows = {s: int(X.shape[0]) for s, X in data.items()}
    if store.status(model, task.task_id) == "complete" and not overwrite:
        old = store.cache_key(model, task.task_id)
        if old is not None and cache_key_hash(old) == cache_key_hash(full):
            return ImportResult(model, task.task_id, "skipped", rows, dim)
    writer = store.open_writer(model, task.task_id, cache_key=full, n_rows=rows, dim=dim,
                               labels={s: task.split(s).labels for s in splits}, dtype=dtype,
                               overwrite=overwrite, block_rows=block_rows)
    started = datetime.now(UTC).isoformat()
    with writer:
        for s in splits:
            writer.write_split(s, data[s])
        writer.finish(provenance={
            "imported": True, "started": started, "finished": datetime.now(UTC).isoformat(),
            "files": {s: {"path": str(Path(files[s]).resolve()), "sha256": _sha256(Path(files[s]))} for s in splits},
            "source_dtype": {s: str(X.dtype) for s, X in data.items()},
            "task_source": task.source,
        })
    return ImportResult(model, task.task_id, "imported", rows, dim)
