"""The published GENEB task data on the Hugging Face hub, pinned to one revision.

`fetch_geneb_tasks` downloads `tasks/<task_id>/{train,test}.csv` from
`darlednik/geneb-tasks` at the pinned revision through huggingface_hub (an `extract`
extra dependency); offline (HF_HUB_OFFLINE=1 or no network) it reads the local HF cache.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..catalog import get_benchmark
from .validate import TaskDataError


def geneb_dataset() -> tuple[str, str]:
    bm = get_benchmark("geneb")
    return bm.dataset, bm.revision


def fetch_geneb_tasks(
    task_ids: list[str] | None = None,
    cache_dir: str | Path | None = None,
    local_files_only: bool | None = None,
) -> Path:
    """Return a local directory in the HF layout holding the requested tasks."""
    try:
        from huggingface_hub import snapshot_download
    except ImportError:
        raise TaskDataError(
            "downloading the GENEB tasks needs huggingface_hub: pip install 'geneb[extract]' "
            "(or pass --data DIR with the task files)"
        ) from None
    repo, revision = geneb_dataset()
    patterns = [f"tasks/{t}/*" for t in task_ids] if task_ids else ["tasks/*/*"]
    if local_files_only is None:
        local_files_only = os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false")
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
        raise TaskDataError(
            f"could not get {repo}@{revision[:12]} ({type(exc).__name__}: {exc}). Offline? "
            "Put the files in a directory and pass --data DIR, or pre-populate the HF cache."
        ) from exc
    return Path(path)
