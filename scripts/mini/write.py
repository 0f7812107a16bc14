"""Deterministic writers: task files (`text,label,split` CSV, gzip with mtime 0) and the catalog."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

CATALOG_COLUMNS = ("task_id", "label", "category", "source_collection", "simulated", "provenance")


def write_task(path: Path, train: list[tuple[str, int]], test: list[tuple[str, int]]) -> None:
    """Flat layout read by `geneb.data.read_flat_file`; byte-identical for identical rows."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["text", "label", "split"])
    for split, rows in (("train", train), ("test", test)):
        for seq, label in rows:
            w.writerow([seq, int(label), split])
    data = buf.getvalue().encode("ascii")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with (
        open(tmp, "wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz,
    ):
        gz.write(data)
    tmp.replace(path)


def write_catalog(path: Path, rows: list[dict[str, str]]) -> None:
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=CATALOG_COLUMNS, lineterminator="\n")
    w.writeheader()
    for row in rows:
        w.writerow({k: row[k] for k in CATALOG_COLUMNS})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(buf.getvalue(), encoding="utf-8")
