"""Read GENEB leaderboard submission files (one JSON per model) into the long results form.

A submission holds seed-averaged scores per (regime, task); the rows it yields carry
`seed = null`, `protocol = "geneb-v1"` (the official harness) and `backend = "submission"`,
so they aggregate exactly like seed-averaged `geneb probe` rows. A `meta.task_hashes`
block (task id -> content hash of the task data, as `geneb export-submission` writes it)
becomes the rows' `task_hash`; without it (the published submissions) `task_hash` is null.
`meta.storage_dtype` likewise becomes `storage_dtype`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..results.submission import LEADERBOARD_PROTOCOL, METRIC_NAMES, submission_filename
from ._paths import expand_files
from .errors import AnalysisError
from .schema import RESULT_SCHEMA

__all__ = ["SUBMISSION_PROTOCOL", "Submission", "parse_submission", "read_submission", "read_submissions",
           "submission_filename", "write_submission"]

SUBMISSION_PROTOCOL = LEADERBOARD_PROTOCOL
_METRIC_KEYS = {name: col for col, name in METRIC_NAMES}


@dataclass
class Submission:
    """One parsed submission: its rows and the metadata its `meta` block declares."""

    path: Path
    model_id: str
    meta: dict[str, Any] = field(default_factory=dict)
    rows: pl.DataFrame = field(default_factory=pl.DataFrame)


def read_submission(path: str | Path, task_categories: dict[str, str]) -> Submission:
    """Parse and check one submission file; `task_categories` maps known task ids to categories."""
    path = Path(path)
    return parse_submission(path.read_bytes(), path, task_categories)


def parse_submission(text: str | bytes, path: str | Path, task_categories: dict[str, str]) -> Submission:
    """Parse and check one submission's JSON text; `path` names it in errors and in `input`."""
    path = Path(path)
    try:
        doc = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AnalysisError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(doc, dict):
        raise AnalysisError(f"{path}: expected a JSON object at top level")
    model_id = doc.get("model_id")
    if not isinstance(model_id, str) or not model_id:
        raise AnalysisError(f"{path}: missing or empty 'model_id'")
    meta = doc.get("meta") or {}
    if not isinstance(meta, dict):
        raise AnalysisError(f"{path}: 'meta' must be an object")
    if "params" in meta and not (isinstance(meta["params"], int) and meta["params"] >= 0):
        raise AnalysisError(f"{path}: meta.params must be a non-negative integer, got {meta['params']!r}")
    task_hashes = meta.get("task_hashes") or {}
    if not isinstance(task_hashes, dict) or not all(isinstance(v, str) for v in task_hashes.values()):
        raise AnalysisError(f"{path}: meta.task_hashes must map task ids to hash strings")
    storage_dtype = meta.get("storage_dtype")
    if storage_dtype is not None and not isinstance(storage_dtype, str):
        raise AnalysisError(f"{path}: meta.storage_dtype must be a string, got {storage_dtype!r}")
    results = doc.get("results")
    if not isinstance(results, dict) or not results:
        raise AnalysisError(f"{path}: missing 'results' (regime -> task -> metrics)")
    cols: dict[str, list[Any]] = {k: [] for k in ("task", "category", "regime", "mcc", "acc", "f1")}
    unknown: list[str] = []
    for regime, tasks in results.items():
        if not isinstance(tasks, dict):
            raise AnalysisError(f"{path}: results[{regime!r}] must map task ids to metrics")
        for task, metrics in tasks.items():
            if task not in task_categories:
                unknown.append(task)
                continue
            if not isinstance(metrics, dict) or "MCC" not in metrics:
                raise AnalysisError(f"{path}: results[{regime!r}][{task!r}] has no 'MCC'")
            vals = {}
            for key, col in _METRIC_KEYS.items():
                v = metrics.get(key)
                if v is not None and (not isinstance(v, int | float) or isinstance(v, bool) or math.isnan(v)):
                    raise AnalysisError(f"{path}: results[{regime!r}][{task!r}][{key!r}] is not a number: {v!r}")
                vals[col] = None if v is None else float(v)
            if not -1.0 <= vals["mcc"] <= 1.0:
                raise AnalysisError(f"{path}: results[{regime!r}][{task!r}]: MCC {vals['mcc']} outside [-1, 1]")
            cols["task"].append(task)
            cols["category"].append(task_categories[task])
            cols["regime"].append(regime)
            for col in ("mcc", "acc", "f1"):
                cols[col].append(vals[col])
    if unknown:
        shown = ", ".join(sorted(set(unknown))[:5])
        raise AnalysisError(
            f"{path}: {len(set(unknown))} unknown task id(s): {shown}"
            f"{' ...' if len(set(unknown)) > 5 else ''} (not in the catalog; register them or fix the file)"
        )
    n = len(cols["task"])
    rows = pl.DataFrame(
        {
            "model": [model_id] * n,
            **{k: cols[k] for k in ("task", "category", "regime")},
            "seed": [None] * n,
            "protocol": [SUBMISSION_PROTOCOL] * n,
            "backend": ["submission"] * n,
            **{k: cols[k] for k in ("mcc", "acc", "f1")},
            "storage_dtype": [storage_dtype] * n,
            "task_hash": [task_hashes.get(t) for t in cols["task"]],
        },
        schema_overrides={k: RESULT_SCHEMA[k] for k in ("seed", "mcc", "acc", "f1", "storage_dtype", "task_hash")},
    )
    return Submission(path=path, model_id=model_id, meta=meta, rows=rows)


def read_submissions(paths: str | Path | list[str | Path], task_categories: dict[str, str]) -> list[Submission]:
    """Read submission files or directories of them; a model id may appear only once."""
    subs: list[Submission] = []
    seen: dict[str, Path] = {}
    for p in expand_files(paths, "*.json", "submission"):
        s = read_submission(p, task_categories)
        if s.model_id in seen:
            raise AnalysisError(f"duplicate model {s.model_id!r}: submitted in both {seen[s.model_id]} and {p}")
        seen[s.model_id] = p
        subs.append(s)
    return subs


def write_submission(
    path: str | Path,
    model_id: str,
    scores: dict[str, dict[str, dict[str, float]]],
    meta: dict[str, Any],
    harness_version: str = "geneb-0.1.0",
) -> Path:
    """Write one submission file (used by tests and by users exporting scores)."""
    doc = {
        "schema_version": "1.0",
        "model_id": model_id,
        "harness_version": harness_version,
        "meta": meta,
        "results": scores,
    }
    p = Path(path)
    if p.is_dir():
        p = p / submission_filename(model_id)
    p.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return p
