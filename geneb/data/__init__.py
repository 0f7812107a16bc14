"""Task sequences: loading (HF dataset, local directory in either layout, built-in mini
suite), validation and normalisation, content hashes."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from ..catalog import get_task
from .tasks import (
    Split,
    TaskData,
    discover_tasks,
    load_task_from,
    read_flat_file,
    read_split_dir,
)
from .validate import SPLITS, TaskDataError, normalize_sequence


def mini_dir() -> Path:
    """Directory of the built-in mini suite's task files (flat layout, gzipped)."""
    return Path(str(resources.files("geneb.data") / "mini"))


def load_task(task_id: str, data_dir: str | Path | None = None) -> TaskData:
    """Load a task by id.

    With `data_dir`, read it from that directory (either layout). Otherwise a mini task
    comes from the package, and a GENEB task from the pinned HF dataset (local cache
    when offline).
    """
    if data_dir is not None:
        return load_task_from(data_dir, task_id)
    spec = get_task(task_id)
    if spec.suite == "mini":
        return load_task_from(mini_dir(), task_id)
    if spec.suite == "geneb":
        from .hub import fetch_geneb_tasks

        return load_task_from(fetch_geneb_tasks([task_id]), task_id)
    raise TaskDataError(f"task {task_id!r} has no known data source; pass a data directory")


__all__ = [
    "SPLITS", "Split", "TaskData", "TaskDataError", "discover_tasks", "load_task",
    "load_task_from", "mini_dir", "normalize_sequence", "read_flat_file", "read_split_dir",
]
