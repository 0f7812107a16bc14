"""Task data: load a task's train/test sequences from either published layout.

Layouts:
- flat (reference harness): `<dir>/<task_id>.csv[.gz]` with columns `text,label,split`;
- HF (darlednik/geneb-tasks): `<dir>/tasks/<task_id>/{train,test}.csv[.gz]` (or
  `<dir>/<task_id>/{train,test}.csv`) with columns `text,label`.
Rows keep file order within each split: row i of the store is row i of the split.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import NotFound
from .validate import SPLITS, TaskDataError, check_labels, normalize_sequence, parse_label


@dataclass(frozen=True)
class Split:
    sequences: tuple[str, ...]  # normalised (upper case, U->T, IUPAC codes->N), what adapters embed
    labels: np.ndarray  # int64, one per sequence
    #: The file's text verbatim, kept only when some row differs from its normalised form
    #: (lower case, U, IUPAC codes, surrounding blanks): the GENEB harness hands extractors
    #: the raw text, so harness extractors get it too (`raw_sequences`).
    raw: tuple[str, ...] | None = None

    @property
    def raw_sequences(self) -> tuple[str, ...]:
        return self.sequences if self.raw is None else self.raw

    def __len__(self) -> int:
        return len(self.sequences)

    @property
    def lengths(self) -> np.ndarray:
        return np.fromiter((len(s) for s in self.sequences), dtype=np.int64, count=len(self))


@dataclass(frozen=True)
class TaskData:
    task_id: str
    train: Split
    test: Split
    content_hash: str  # sha256 over the normalised sequences and labels of both splits
    source: str  # file or directory it came from
    #: sha256 over the raw text and labels; equals `content_hash` when the text is normalised
    raw_hash: str = ""

    def split(self, name: str) -> Split:
        if name not in SPLITS:
            raise NotFound(f"unknown split {name!r}; splits are {SPLITS}")
        return self.train if name == "train" else self.test


# GENEB includes 131 kb and 1 Mb context models: a sequence is one CSV field of any length.
csv.field_size_limit(min(sys.maxsize, 2**31 - 1))


def _open_text(path: Path) -> io.TextIOBase:
    # utf-8-sig: a byte-order mark (as spreadsheet exports write) is not part of the header
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _read_rows(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    """Rows with their line numbers; an unreadable file (truncated or corrupt gzip, bad
    UTF-8, malformed CSV) is a `TaskDataError` naming the file."""
    try:
        return _read_rows_unchecked(path, required)
    except TaskDataError:
        raise
    except (EOFError, OSError, gzip.BadGzipFile, UnicodeDecodeError, csv.Error) as exc:
        kind = "truncated or corrupt compressed file" if isinstance(exc, EOFError | gzip.BadGzipFile) else type(exc).__name__
        raise TaskDataError(f"{path}: cannot read it ({kind}: {exc})") from exc


def _read_rows_unchecked(path: Path, required: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    with _open_text(path) as fh:
        reader = csv.DictReader(fh)
        cols = reader.fieldnames or []
        missing = [c for c in required if c not in cols]
        if missing:
            raise TaskDataError(f"{path}: missing column(s) {missing}; found {cols}")
        # line numbers as a user sees them in an editor (header = line 1)
        return [(i, row) for i, row in enumerate(reader, start=2)]


def content_hash(train: Split, test: Split, raw: bool = False) -> str:
    h = hashlib.sha256()
    for name, sp in (("train", train), ("test", test)):
        h.update(f"{name}:{len(sp)}\n".encode())
        for s, y in zip(sp.raw_sequences if raw else sp.sequences, sp.labels.tolist(), strict=True):
            h.update(s.encode())
            h.update(f"\t{y}\n".encode())
    return h.hexdigest()


def _build(task_id: str, source: str, rows: dict[str, list[tuple[str, int, str]]]) -> TaskData:
    """`rows[split]` holds (normalised text, label, raw text) in file order."""
    splits = {}
    for name in SPLITS:
        items = rows.get(name, [])
        if not items:
            raise TaskDataError(f"{source}: task {task_id!r} has no {name!r} rows")
        seqs = tuple(s for s, _, _ in items)
        raw = tuple(r for _, _, r in items)
        splits[name] = Split(
            sequences=seqs,
            labels=np.asarray([y for _, y, _ in items], dtype=np.int64),
            raw=None if raw == seqs else raw,
        )
    check_labels(task_id, source, splits["train"].labels, splits["test"].labels)
    norm = content_hash(splits["train"], splits["test"])
    has_raw = splits["train"].raw is not None or splits["test"].raw is not None
    return TaskData(
        task_id=task_id,
        train=splits["train"],
        test=splits["test"],
        content_hash=norm,
        source=source,
        raw_hash=content_hash(splits["train"], splits["test"], raw=True) if has_raw else norm,
    )


def read_flat_file(path: str | Path, task_id: str | None = None) -> TaskData:
    """Read the reference-harness layout: one CSV with `text,label,split`."""
    path = Path(path)
    tid = task_id or _strip_suffixes(path.name)
    rows: dict[str, list[tuple[str, int, str]]] = {s: [] for s in SPLITS}
    for line, row in _read_rows(path, ("text", "label", "split")):
        where = f"{path}: line {line}"
        split = (row.get("split") or "").strip().lower()
        if split not in SPLITS:
            raise TaskDataError(f"{where}: unknown or missing split {row.get('split')!r} (expected train or test)")
        rows[split].append((normalize_sequence(row["text"], where), parse_label(row["label"], where), row["text"]))
    return _build(tid, str(path), rows)


def read_split_dir(directory: str | Path, task_id: str | None = None) -> TaskData:
    """Read the HF layout: a directory with train.csv and test.csv (`text,label`)."""
    d = Path(directory)
    tid = task_id or d.name
    rows: dict[str, list[tuple[str, int, str]]] = {}
    for split in SPLITS:
        path = _find(d, split)
        if path is None:
            raise TaskDataError(f"{d}: task {tid!r}: missing {split}.csv")
        rows[split] = [
            (normalize_sequence(r["text"], f"{path}: line {i}"), parse_label(r["label"], f"{path}: line {i}"), r["text"])
            for i, r in _read_rows(path, ("text", "label"))
        ]
    return _build(tid, str(d), rows)


def _find(d: Path, stem: str) -> Path | None:
    for suffix in (".csv", ".csv.gz"):
        p = d / f"{stem}{suffix}"
        if p.exists():
            return p
    return None


def _strip_suffixes(name: str) -> str:
    for suffix in (".csv.gz", ".csv"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def discover_tasks(directory: str | Path) -> dict[str, Path]:
    """Task ids found in a directory, in either layout (flat files, or HF `tasks/<id>/`)."""
    d = Path(directory)
    if not d.is_dir():
        raise TaskDataError(f"{d}: not a directory")
    found: dict[str, Path] = {}
    for p in sorted(d.iterdir()):
        if p.is_file() and (p.name.endswith(".csv") or p.name.endswith(".csv.gz")):
            found[_strip_suffixes(p.name)] = p
    roots = [d / "tasks", d]
    for root in roots:
        if root.is_dir():
            for p in sorted(root.iterdir()):
                if p.is_dir() and _find(p, "train") is not None:
                    found.setdefault(p.name, p)
    return found


def load_task_from(directory: str | Path, task_id: str) -> TaskData:
    """Load one task from a local directory in either published layout."""
    d = Path(directory)
    for candidate in (d / f"{task_id}.csv", d / f"{task_id}.csv.gz"):
        if candidate.exists():
            return read_flat_file(candidate, task_id)
    for candidate in (d / "tasks" / task_id, d / task_id):
        if candidate.is_dir():
            return read_split_dir(candidate, task_id)
    raise TaskDataError(f"{d}: no data for task {task_id!r} (looked for {task_id}.csv and tasks/{task_id}/)")
