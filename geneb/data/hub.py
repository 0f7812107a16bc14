"""The published GENEB task data on the Hugging Face hub, pinned to one revision.

`fetch_geneb_tasks` downloads `tasks/<task_id>/{train,test}.csv` at the pinned revision
through huggingface_hub (an `extract` extra dependency) from the official spec's dataset
`DeepPavlov/geneb-tasks`, or, when that id cannot serve it, from its alias
`darlednik/geneb-tasks` (the same data at the same revision; `benchmarks.toml`
`dataset_aliases`). Offline (HF_HUB_OFFLINE=1 or no network) it reads the local HF cache,
under either id.
"""

from __future__ import annotations

import os
from pathlib import Path

from .validate import TaskDataError


def geneb_dataset() -> tuple[str, str]:
    """The official dataset id and the pinned revision."""
    from .fingerprint import dataset_ids

    ids, revision = dataset_ids()
    return ids[0], revision


def fetch_geneb_snapshot(
    task_ids: list[str] | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
) -> tuple[Path, str, str]:
    """(local HF-layout directory, the dataset id that served it, revision)."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise TaskDataError(
            "downloading the GENEB tasks needs huggingface_hub: pip install 'geneb[extract]' "
            "(or pass --data DIR with the task files)"
        ) from None
    from .fingerprint import dataset_ids

    ids, revision = dataset_ids()
    patterns = [f"tasks/{t}/*" for t in task_ids] if task_ids else ["tasks/*/*"]
    if local_files_only is None:
        local_files_only = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")
    failures = []
    for repo in ids:
        try:
            path = snapshot_download(
                repo_id=repo,
                repo_type="dataset",
                revision=revision,
                allow_patterns=patterns,
                cache_dir=str(cache_dir) if cache_dir else None,
                local_files_only=local_files_only,
            )
        except Exception as exc:  # huggingface_hub raises many network/cache error types
            failures.append(f"{repo}@{revision[:12]} ({type(exc).__name__}: {exc})")
            continue
        return Path(path), repo, revision
    raise TaskDataError(
        f"could not get {' nor '.join(failures)}. Offline? "
        "Put the files in a directory and pass --data DIR, or pre-populate the HF cache."
    )


def fetch_geneb_tasks(
    task_ids: list[str] | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """Return a local directory in the HF layout holding the requested tasks."""
    return fetch_geneb_snapshot(task_ids, cache_dir, local_files_only)[0]
