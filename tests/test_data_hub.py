"""The GENEB task download path: pinned repo and revision, HF layout, offline errors."""

from __future__ import annotations

import pytest

pytest.importorskip("huggingface_hub")

import huggingface_hub  # noqa: E402

from geneb.cli import main  # noqa: E402
from geneb.data import TaskDataError, load_task, read_flat_file  # noqa: E402
from geneb.data.hub import fetch_geneb_tasks  # noqa: E402

TASK = "InstaDeepAI_nucleotide_transformer_downstream_tasks_H3"


@pytest.fixture
def fake_hub(tmp_path, monkeypatch):
    """A snapshot_download that serves a local HF-layout directory and records its call."""
    root = tmp_path / "snapshot"
    d = root / "tasks" / TASK
    d.mkdir(parents=True)
    (d / "train.csv").write_text("text,label\nACGTACGT,0\nTTTTACGA,1\nGGGGCCCA,1\n")
    (d / "test.csv").write_text("text,label\nACGTTTTT,0\nCCCCGGGA,1\n")
    calls = []

    def snapshot_download(**kwargs):
        calls.append(kwargs)
        return str(root)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", snapshot_download)
    return calls


def test_fetch_uses_pinned_dataset_revision(fake_hub):
    path = fetch_geneb_tasks([TASK], local_files_only=True)
    (call,) = fake_hub
    assert call["repo_id"] == "darlednik/geneb-tasks"
    assert call["repo_type"] == "dataset"
    assert call["revision"] == "4edd705be573e48c585c2cf79dc320f9f43c7b04"
    assert call["allow_patterns"] == [f"tasks/{TASK}/*"]
    assert call["local_files_only"] is True
    assert (path / "tasks" / TASK / "train.csv").exists()


def test_load_task_for_a_geneb_task_goes_through_the_hub(fake_hub):
    t = load_task(TASK)
    assert len(t.train) == 3 and len(t.test) == 2


def test_cli_fetch_writes_flat_layout(fake_hub, tmp_path, capsys):
    out = tmp_path / "flat"
    assert main(["data", "fetch", "--tasks", TASK, "--out", str(out)]) == 0
    t = read_flat_file(out / f"{TASK}.csv")
    assert t.content_hash == load_task(TASK).content_hash


def test_offline_without_cache_is_a_clear_error(monkeypatch):
    def boom(**kwargs):
        raise OSError("no network")

    monkeypatch.setattr(huggingface_hub, "snapshot_download", boom)
    with pytest.raises(TaskDataError, match=r"could not get darlednik/geneb-tasks@4edd705be573.*--data DIR"):
        fetch_geneb_tasks([TASK])
