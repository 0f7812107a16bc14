"""The task data fingerprinted: pinned content hashes, file digests and the fetch manifest.

A task's *content hash* (`TaskData.content_hash`: sha256 over the normalised sequences
and labels of both splits, the same for the flat and the HF layout) goes into every
cache key, every results row (`task_hash`) and every exported submission
(`meta.task_hashes`). The catalog pins known hashes in `geneb/catalog/data/task_hashes.csv`:
results on a pinned task whose hash differs are "not the GENEB data". The pinned set may
be empty or partial; an unpinned task is checked only for agreement across models.

`geneb data fetch` writes `geneb-data-manifest.json` beside the files: the dataset id and
revision that served them, per file its size, sha256 and git blob id as computed here and
as the hub records them at that revision (blob id, LFS sha256, size: `HfApi.list_repo_tree`;
offline, the cache blob name, which is the hub's etag), and per task its content hash and
its status against the pinned set.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import InvalidArgument

#: The file `geneb data fetch` writes beside the task files.
MANIFEST_NAME = "geneb-data-manifest.json"
#: Status of a task hash against the pinned set.
PINNED_OK, PINNED_MISMATCH, UNPINNED = "pinned", "differs-from-pinned", "unpinned"


@dataclass(frozen=True)
class PinnedTask:
    task_id: str
    content_hash: str
    file_sha256: dict[str, str] = field(default_factory=dict)  # split -> sha256 of the hub's file
    provenance: str = ""


def _read_pins(text: str, where: str) -> dict[str, PinnedTask]:
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    out: dict[str, PinnedTask] = {}
    for i, row in enumerate(csv.DictReader(io.StringIO("\n".join(lines))), start=1):
        tid, h = (row.get("task_id") or "").strip(), (row.get("content_hash") or "").strip().lower()
        if not tid or len(h) != 64 or any(c not in "0123456789abcdef" for c in h):
            raise InvalidArgument(f"{where}: entry {i}: needs a task_id and a 64-hex-digit content_hash, got {row}")
        if tid in out:
            raise InvalidArgument(f"{where}: task {tid!r} pinned twice")
        files = {s: (row.get(f"{s}_sha256") or "").strip().lower() for s in ("train", "test")}
        out[tid] = PinnedTask(tid, h, {s: v for s, v in files.items() if v}, (row.get("provenance") or "").strip())
    return out


@cache
def pinned_tasks() -> dict[str, PinnedTask]:
    """The catalog's pinned task hashes (task id -> PinnedTask); possibly empty or partial."""
    from ..catalog._files import data_path

    path = data_path("task_hashes.csv")
    if not path.exists():
        return {}
    return _read_pins(path.read_text(encoding="utf-8"), str(path))


def pinned_hashes() -> dict[str, str]:
    """Task id -> pinned content hash."""
    return {t: p.content_hash for t, p in pinned_tasks().items()}


def pin_status(task_id: str, content_hash: str | None, pins: dict[str, str] | None = None) -> str | None:
    """``pinned`` (equal to the pinned hash), ``differs-from-pinned``, ``unpinned`` (no
    pin for this task), or None when there is no hash to check."""
    if not content_hash:
        return None
    pins = pinned_hashes() if pins is None else pins
    if task_id not in pins:
        return UNPINNED
    return PINNED_OK if pins[task_id] == content_hash else PINNED_MISMATCH


def dataset_ids() -> tuple[tuple[str, ...], str]:
    """The GENEB dataset ids to try, the official spec's first, and the pinned revision."""
    from ..catalog import get_benchmark
    from ..catalog._files import data_path, read_toml

    bm = get_benchmark("geneb")
    aliases = read_toml(data_path("benchmarks.toml")).get("geneb", {}).get("dataset_aliases", [])
    return tuple(dict.fromkeys([bm.dataset, *aliases])), bm.revision


def file_digests(path: str | Path) -> dict[str, Any]:
    """Size, sha256 and git blob id (what the hub lists as a non-LFS file's oid) of a file."""
    p = Path(path)
    size = p.stat().st_size
    sha, git = hashlib.sha256(), hashlib.sha1(f"blob {size}\0".encode())
    with open(p, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
            git.update(chunk)
    return {"size": size, "sha256": sha.hexdigest(), "git_blob_sha1": git.hexdigest()}


def hub_file_info(repo_id: str, revision: str, prefix: str = "tasks") -> dict[str, dict[str, Any]]:
    """The hub's record of every file under ``prefix`` at ``revision``: path -> size,
    blob_id and (LFS files) lfs_sha256. Raises whatever huggingface_hub raises offline."""
    from huggingface_hub import HfApi

    out: dict[str, dict[str, Any]] = {}
    for item in HfApi().list_repo_tree(repo_id, path_in_repo=prefix, recursive=True, revision=revision,
                                       repo_type="dataset"):
        if not hasattr(item, "blob_id"):  # a folder
            continue
        lfs = getattr(item, "lfs", None)
        out[item.path] = {"size": item.size, "blob_id": item.blob_id,
                          "lfs_sha256": (lfs.get("sha256") if isinstance(lfs, dict) else getattr(lfs, "sha256", None))}
    return out


def cache_etag(path: Path) -> str | None:
    """The HF cache names a snapshot file's blob by the hub's etag (sha256 for LFS files,
    the git blob id otherwise); None when the file is not a cache symlink."""
    if not path.is_symlink():
        return None
    return Path(os.readlink(path)).name or None


def verify_file(local: dict[str, Any], hub: dict[str, Any] | None) -> bool | None:
    """Does the local file equal the hub's record? None when there is no record."""
    if not hub:
        return None
    if hub.get("lfs_sha256"):
        return hub["lfs_sha256"] == local["sha256"]
    if hub.get("blob_id"):
        return hub["blob_id"] == local["git_blob_sha1"]
    if hub.get("etag"):
        return hub["etag"] in (local["sha256"], local["git_blob_sha1"])
    return None


def task_files(root: Path, task_id: str) -> list[Path]:
    """The split files of a task in an HF-layout snapshot (``tasks/<id>/*``)."""
    d = root / "tasks" / task_id
    return sorted(p for p in d.iterdir() if p.is_file()) if d.is_dir() else []


def build_manifest(root: Path, tasks: dict[str, str], repo_id: str, revision: str,
                   hub: dict[str, dict[str, Any]] | None, hub_note: str) -> dict[str, Any]:
    """The manifest of a fetched snapshot at ``root``: ``tasks`` maps task id -> content hash."""
    pins = pinned_tasks()
    files: dict[str, Any] = {}
    per_task: dict[str, Any] = {}
    for tid, h in tasks.items():
        names = []
        for p in task_files(root, tid):
            rel = p.relative_to(root).as_posix()
            local = file_digests(p)
            rec = dict((hub or {}).get(rel) or {})
            etag = cache_etag(p)
            if etag:
                rec.setdefault("etag", etag)
            pin = pins.get(tid)
            split = p.name.split(".")[0]
            files[rel] = {**local, "hub": rec or None, "matches_hub": verify_file(local, rec),
                          "pinned_sha256": pin.file_sha256.get(split) if pin else None}
            names.append(rel)
        per_task[tid] = {"content_hash": h, "pinned": pins[tid].content_hash if tid in pins else None,
                         "status": pin_status(tid, h, {t: p.content_hash for t, p in pins.items()}), "files": names}
    return {"dataset": repo_id, "revision": revision, "hub_metadata": hub_note,
            "n_pinned": sum(1 for t in tasks if t in pins), "tasks": per_task, "files": files}


def manifest_problems(manifest: dict[str, Any]) -> list[str]:
    """Everything in a manifest that says the files are not the pinned GENEB data."""
    out = []
    for rel, f in manifest["files"].items():
        if f.get("matches_hub") is False:
            out.append(f"{rel}: differs from the hub's record at {manifest['revision'][:12]} (sha256 {f['sha256'][:12]})")
        if f.get("pinned_sha256") and f["pinned_sha256"] != f["sha256"]:
            out.append(f"{rel}: sha256 {f['sha256'][:12]} differs from the pinned {f['pinned_sha256'][:12]}")
    for tid, t in manifest["tasks"].items():
        if t["status"] == PINNED_MISMATCH:
            out.append(f"{tid}: content hash {t['content_hash'][:12]} differs from the pinned {t['pinned'][:12]}")
    return out


def write_manifest(manifest: dict[str, Any], out_dir: Path) -> Path:
    from .._atomic import atomic_write

    path = Path(out_dir) / MANIFEST_NAME
    text = json.dumps(manifest, indent=1, sort_keys=False) + "\n"
    atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))
    return path
