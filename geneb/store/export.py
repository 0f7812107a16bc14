"""Export one (model, task) pair to plain files: ``.npy`` or Parquet.

Each file is written to a temp name and renamed into place, so an interrupted export
leaves no half-written file behind.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InvalidArgument, NotFound

if TYPE_CHECKING:
    from .store import Store

FORMATS = ("npy", "parquet")


def export_pair(store: Store, model: str, task: str, out_dir: str | os.PathLike[str], fmt: str = "npy",
                splits: list[str] | None = None, allow_partial: bool = False) -> list[Path]:
    """Write ``<model>__<task>__<split>.{X,y}.npy`` or ``<model>__<task>__<split>.parquet``."""
    if fmt not in FORMATS:
        raise InvalidArgument(f"unknown export format {fmt!r}; choose {' or '.join(FORMATS)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    have = store.splits(model, task)
    splits = splits or have
    for s in splits:
        if s not in have:
            raise NotFound(f"{model}/{task} has no split {s!r} (splits: {', '.join(have)})")
    # read everything first so a failure writes nothing
    data = {}
    for s in splits:
        X = store.X(model, task, s, allow_partial=allow_partial)
        rows = store.done_rows(model, task, s) if allow_partial else store.row_index(model, task, s)
        data[s] = (X, store.y(model, task, s)[rows], rows)
    written: list[Path] = []
    for s, (X, y, rows) in data.items():
        stem = out / f"{model}__{task}__{s}"
        if fmt == "npy":
            written.append(_atomic(stem.with_suffix(".X.npy"), lambda f, X=X: np.save(f, X)))
            written.append(_atomic(stem.with_suffix(".y.npy"), lambda f, y=y: np.save(f, y)))
        else:
            written.append(_atomic(stem.with_suffix(".parquet"), lambda f, X=X, y=y, r=rows: _parquet(f, X, y, r)))
    return written


def _parquet(f, X: np.ndarray, y: np.ndarray, rows: np.ndarray) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    emb = pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1), type=pa.float32()), X.shape[1])
    table = pa.table({"row": pa.array(rows, pa.int64()), "label": pa.array(y, pa.int64()), "embedding": emb})
    pq.write_table(table, f)


def _atomic(path: Path, write) -> Path:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
