"""The GENEB task download path: pinned repo and revision, HF layout, offline errors."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("huggingface_hub")

import huggingface_hub  # noqa: E402

from geneb.cli import main  # noqa: E402
from geneb.data import TaskDataError, load_task, read_flat_file  # noqa: E402
from geneb.data.fingerprint import MANIFEST_NAME, file_digests  # noqa: E402
from geneb.data.hub import fetch_geneb_snapshot, fetch_geneb_tasks  # noqa: E402

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
    assert call["repo_id"] == "DeepPavlov/geneb-tasks"  # the official spec's id
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
    with pytest.raises(TaskDataError, match=r"could not get DeepPavlov/geneb-tasks@4edd705be573.* nor "
                                            r"darlednik/geneb-tasks@4edd705be573.*--data DIR"):
        fetch_geneb_tasks([TASK])


# -- both dataset ids, the manifest of hub file hashes, pinned hashes ---------------------------


def test_the_alias_id_serves_when_the_official_one_cannot(fake_hub, monkeypatch):
    served = huggingface_hub.snapshot_download

    def only_alias(**kwargs):
        if kwargs["repo_id"] != "darlednik/geneb-tasks":
            raise OSError("not in the cache under this id")
        return served(**kwargs)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", only_alias)
    root, repo, rev = fetch_geneb_snapshot([TASK], local_files_only=True)
    assert repo == "darlednik/geneb-tasks" and rev.startswith("4edd705b")
    assert (root / "tasks" / TASK / "test.csv").exists()


def _repo_files(root, lfs_tamper=False):
    """The hub's listing as huggingface_hub's own RepoFile objects (one LFS, one plain file)."""
    from huggingface_hub.hf_api import RepoFile, RepoFolder

    train = root / "tasks" / TASK / "train.csv"
    test = root / "tasks" / TASK / "test.csv"
    tr, te = file_digests(train), file_digests(test)
    sha = "0" * 64 if lfs_tamper else tr["sha256"]
    return [
        RepoFolder(path=f"tasks/{TASK}", oid="f" * 40),
        RepoFile(path=f"tasks/{TASK}/train.csv", size=tr["size"], oid="a" * 40,
                 lfs={"size": tr["size"], "oid": sha, "pointerSize": 130}),
        RepoFile(path=f"tasks/{TASK}/test.csv", size=te["size"], oid=te["git_blob_sha1"]),
    ]


@pytest.fixture
def hub_tree(fake_hub, tmp_path, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    calls = []
    state = {"tamper": False}

    def list_repo_tree(self, repo_id, path_in_repo=None, *, recursive=False, expand=False, revision=None,
                       repo_type=None, token=None):
        calls.append({"repo_id": repo_id, "path_in_repo": path_in_repo, "revision": revision, "repo_type": repo_type})
        return iter(_repo_files(tmp_path / "snapshot", state["tamper"]))

    monkeypatch.setattr(huggingface_hub.HfApi, "list_repo_tree", list_repo_tree)
    return calls, state


def test_fetch_writes_a_manifest_with_the_hubs_file_hashes(hub_tree, tmp_path, capsys):
    calls, _ = hub_tree
    out = tmp_path / "flat"
    assert main(["data", "fetch", "--tasks", TASK, "--out", str(out)]) == 0
    (call,) = calls
    assert call == {"repo_id": "DeepPavlov/geneb-tasks", "path_in_repo": "tasks",
                    "revision": "4edd705be573e48c585c2cf79dc320f9f43c7b04", "repo_type": "dataset"}
    m = json.loads((out / MANIFEST_NAME).read_text())
    assert m["dataset"] == "DeepPavlov/geneb-tasks" and m["revision"].startswith("4edd705b")
    train = m["files"][f"tasks/{TASK}/train.csv"]
    assert train["hub"]["lfs_sha256"] == train["sha256"] and train["matches_hub"] is True
    assert m["files"][f"tasks/{TASK}/test.csv"]["matches_hub"] is True  # by git blob id
    assert m["tasks"][TASK]["content_hash"] == read_flat_file(out / f"{TASK}.csv").content_hash
    assert m["tasks"][TASK]["status"] == "unpinned"  # no GENEB hashes are known to this build
    assert "hub file hashes: from the hub" in capsys.readouterr().out


def test_fetch_fails_when_a_file_differs_from_the_hubs_record(hub_tree, tmp_path, capsys):
    _, state = hub_tree
    state["tamper"] = True
    assert main(["data", "fetch", "--tasks", TASK, "--out", str(tmp_path / "flat")]) == 1
    out = capsys.readouterr().out
    assert "NOT THE GENEB DATA" in out and "train.csv: differs from the hub's record" in out


def test_fetch_offline_records_cache_etags(fake_hub, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    snap = tmp_path / "snapshot" / "tasks" / TASK
    blobs = tmp_path / "blobs"
    blobs.mkdir()
    f = snap / "test.csv"
    etag = file_digests(f)["git_blob_sha1"]
    f.rename(blobs / etag)
    f.symlink_to(blobs / etag)  # how the HF cache lays out a snapshot
    out = tmp_path / "flat"
    assert main(["data", "fetch", "--tasks", TASK, "--out", str(out)]) == 0
    m = json.loads((out / MANIFEST_NAME).read_text())
    rec = m["files"][f"tasks/{TASK}/test.csv"]
    assert rec["hub"] == {"etag": etag} and rec["matches_hub"] is True
    assert m["files"][f"tasks/{TASK}/train.csv"]["matches_hub"] is None  # nothing to check it against
    assert "HF_HUB_OFFLINE" in m["hub_metadata"]


def test_pinned_hash_mismatch_fails_fetch_and_check(fake_hub, tmp_path, monkeypatch, capsys):
    from geneb.data import fingerprint as fp

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    pins = fp._read_pins(f"task_id,content_hash\n{TASK},{'ab' * 32}\n", "test")
    monkeypatch.setattr(fp, "pinned_tasks", lambda: pins)
    out = tmp_path / "flat"
    assert main(["data", "fetch", "--tasks", TASK, "--out", str(out)]) == 1
    assert "differs from the pinned abababababab" in capsys.readouterr().out
    assert json.loads((out / MANIFEST_NAME).read_text())["tasks"][TASK]["status"] == "differs-from-pinned"
    assert main(["data", "check", str(out)]) == 1
    assert "not the GENEB data" in capsys.readouterr().out
