"""The catalog's pinned task hashes: what is pinned equals the data it names, the reader
refuses malformed pins, and an empty or partial pinned set is a working state."""

from __future__ import annotations

import hashlib

import pytest

from geneb.catalog import geneb_tasks, mini_tasks
from geneb.data import fingerprint as fp
from geneb.data import load_task


def test_every_mini_task_is_pinned_to_its_package_data():
    pins = fp.pinned_tasks()
    for t in mini_tasks():
        assert pins[t.task_id].content_hash == load_task(t.task_id).content_hash, t.task_id
        assert fp.pin_status(t.task_id, load_task(t.task_id).content_hash) == fp.PINNED_OK


def test_geneb_tasks_are_unpinned_in_this_build():
    # no hub access and no hashes in the published material: documented in task_hashes.csv
    pins = fp.pinned_hashes()
    assert not any(t.task_id in pins for t in geneb_tasks())
    assert fp.pin_status(geneb_tasks()[0].task_id, "0" * 64) == fp.UNPINNED


def test_pin_status_and_reader():
    pins = fp._read_pins("# a comment\ntask_id,content_hash,train_sha256\n"
                         f"t1,{'A' * 64},{'b' * 64}\n", "x.csv")
    assert pins["t1"].content_hash == "a" * 64 and pins["t1"].file_sha256 == {"train": "b" * 64}
    hashes = {k: v.content_hash for k, v in pins.items()}
    assert fp.pin_status("t1", "a" * 64, hashes) == "pinned"
    assert fp.pin_status("t1", "c" * 64, hashes) == "differs-from-pinned"
    assert fp.pin_status("t2", "c" * 64, hashes) == "unpinned"
    assert fp.pin_status("t1", None, hashes) is None
    assert fp.pin_status("t1", "a" * 64, {}) == "unpinned"  # an empty pinned set works
    with pytest.raises(ValueError, match="64-hex-digit"):
        fp._read_pins("task_id,content_hash\nt1,xyz\n", "x.csv")
    with pytest.raises(ValueError, match="pinned twice"):
        fp._read_pins(f"task_id,content_hash\nt1,{'a' * 64}\nt1,{'a' * 64}\n", "x.csv")


def test_file_digests_match_git_and_sha256(tmp_path):
    p = tmp_path / "f.csv"
    p.write_bytes(b"text,label\nACGT,0\n")
    d = fp.file_digests(p)
    assert d["sha256"] == hashlib.sha256(p.read_bytes()).hexdigest()
    # `git hash-object` of this content
    assert d["git_blob_sha1"] == hashlib.sha1(b"blob 18\0text,label\nACGT,0\n").hexdigest()
    assert fp.verify_file(d, {"lfs_sha256": d["sha256"]}) is True
    assert fp.verify_file(d, {"blob_id": "0" * 40}) is False
    assert fp.verify_file(d, None) is None


def test_both_dataset_ids_official_first():
    ids, rev = fp.dataset_ids()
    assert ids == ("DeepPavlov/geneb-tasks", "darlednik/geneb-tasks")
    assert rev == "4edd705be573e48c585c2cf79dc320f9f43c7b04"
