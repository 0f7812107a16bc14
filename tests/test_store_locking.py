"""One writer per (model, task); different pairs in parallel; dead holders never block."""

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
import uuid

import numpy as np
import pytest

from geneb.store import LockBusy, open_store
from geneb.testing import random_embeddings
from geneb.testing import test_cache_key as tkey

WRITER = textwrap.dedent(
    """
    import os, sys, time
    from geneb.store import open_store
    from geneb.testing import random_embeddings, test_cache_key
    store, task, rendezvous, hold = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    X, y = random_embeddings({"train": 640, "test": 64}, 32, seed=len(task))
    st = open_store(store, mode="a")
    with st.open_writer("m", task, cache_key=test_cache_key("m"), n_rows={"train": 640, "test": 64}, dim=32,
                        labels=y, block_rows=64, lock_timeout=30) as w:
        print("ready", os.getpid(), flush=True)
        if rendezvous != "-":
            open(os.path.join(rendezvous, task), "w").close()
        deadline = time.time() + 30
        while rendezvous != "-" and len(os.listdir(rendezvous)) < 2 and time.time() < deadline:
            time.sleep(0.01)  # both writers hold their pair lock at the same time
        time.sleep(hold)
        for split in ("train", "test"):
            for b in w.pending_blocks(split):
                w.write_block(split, b.start, X[split][b.start:b.stop])
        w.finish()
    print("done", flush=True)
    """
)


def _spawn(tmp_path, store, task, rendezvous, hold=0.0):
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    return subprocess.Popen([sys.executable, str(script), str(store), task, str(rendezvous), str(hold)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_two_processes_write_different_pairs_at_once(tmp_path):
    store = tmp_path / "s.zarr"
    open_store(store, mode="a")
    rv = tmp_path / "rendezvous"
    rv.mkdir()
    procs = [_spawn(tmp_path, store, t, rv) for t in ("task-a", "task-b")]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert "done" in out
    assert sorted(os.listdir(rv)) == ["task-a", "task-b"]  # both held their locks simultaneously
    st = open_store(store)
    assert st.pairs(status="complete") == [("m", "task-a"), ("m", "task-b")]
    assert st.verify() == []
    for t in ("task-a", "task-b"):
        X, _ = random_embeddings({"train": 640, "test": 64}, 32, seed=len(t))
        np.testing.assert_array_equal(st.X("m", t, "train"), X["train"].astype(np.float16).astype(np.float32))


def test_same_pair_second_writer_refused_then_waits(tmp_path):
    st = open_store(tmp_path / "s.zarr", mode="a")
    y = {"train": np.zeros(8, int)}
    kw = dict(cache_key=tkey("m"), n_rows={"train": 8}, dim=4, labels=y)
    w1 = st.open_writer("m", "t", **kw)
    with pytest.raises(LockBusy, match=rf"m/t is being written by pid {os.getpid()} on {socket.gethostname()}"):
        st.open_writer("m", "t", **kw)
    t0 = time.monotonic()
    with pytest.raises(LockBusy, match="after waiting 0.3 s"):
        st.open_writer("m", "t", lock_timeout=0.3, **kw)
    assert time.monotonic() - t0 >= 0.3
    with pytest.raises(LockBusy):
        st.remove("m", "t")  # rm respects a running writer too
    st.open_writer("m", "u", **kw).close()  # another pair is free
    w1.close()
    with st.open_writer("m", "t", **kw) as w2:
        assert w2.pending_blocks("train")


def test_lock_of_killed_writer_is_freed(tmp_path):
    store = tmp_path / "s.zarr"
    open_store(store, mode="a")
    p = _spawn(tmp_path, store, "t", "-", hold=60)
    line = p.stdout.readline().split()
    assert line[0] == "ready"
    st = open_store(store, mode="a")
    y = {"train": np.zeros(640, int), "test": np.zeros(64, int)}
    X, y = random_embeddings({"train": 640, "test": 64}, 32, seed=1)
    kw = dict(cache_key=tkey("m"), n_rows={"train": 640, "test": 64}, dim=32, labels=y, block_rows=64)
    with pytest.raises(LockBusy, match=f"pid {line[1]}"):
        st.open_writer("m", "t", **kw)
    assert p.poll() is None  # still alive and holding the lock
    os.kill(p.pid, signal.SIGKILL)
    p.wait(timeout=10)
    assert p.returncode == -signal.SIGKILL
    t0 = time.monotonic()
    with st.open_writer("m", "t", lock_timeout=10, **kw) as w:
        assert time.monotonic() - t0 < 5
        assert len(w.pending_blocks("train")) == 10


def test_lease_lock_on_fsspec_store(monkeypatch):
    from geneb.store import lock as L

    url = f"memory://geneb-{uuid.uuid4().hex}/s.zarr"
    st = open_store(url, mode="a")
    y = {"train": np.zeros(8, int)}
    kw = dict(cache_key=tkey("m"), n_rows={"train": 8}, dim=4, labels=y)
    w1 = st.open_writer("m", "t", **kw)
    with pytest.raises(LockBusy, match=f"pid {os.getpid()}.*lease"):
        st.open_writer("m", "t", **kw)
    w1.close()
    locks = st._kv.beside(".locks")  # leases live beside the store, outside its hierarchy
    assert locks.url == url + ".locks"
    key = "m/t.json"
    assert locks.get(key) is None and not st._kv.list_dir(".locks")  # released lease is deleted

    def put(doc):
        locks.set(key, json.dumps(doc).encode())

    # a live holder on another host with an unexpired lease blocks
    put({"host": "elsewhere", "pid": 1, "token": "x", "expires": time.time() + 60, "since": "t0"})
    with pytest.raises(LockBusy, match="pid 1 on elsewhere"):
        st.open_writer("m", "t", **kw)
    # ... until it expires
    put({"host": "elsewhere", "pid": 1, "token": "x", "expires": time.time() - 1, "since": "t0"})
    st.open_writer("m", "t", **kw).close()
    # a holder on this host whose process is gone is taken over at once
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    put({"host": socket.gethostname(), "pid": dead.pid, "token": "x", "expires": time.time() + 60, "since": "t0"})
    st.open_writer("m", "t", **kw).close()
    # a long writer renews its lease
    monkeypatch.setattr(L, "LEASE_SECONDS", 0.0)
    with st.open_writer("m", "t", **kw) as w:
        before = json.loads(locks.get(key))["expires"]
        time.sleep(0.01)
        w.write_block("train", 0, np.ones((8, 4), np.float32))
        assert json.loads(locks.get(key))["expires"] > before


def test_embed_exits_with_its_locked_code_when_a_pair_is_held(tmp_path, capsys):
    """`embed && probe` must not go on over a pair another writer is still writing."""
    from geneb.catalog import get_benchmark
    from geneb.cli import main
    from geneb.cli.embed_cmd import EXIT_LOCKED
    from geneb.store.lock import PairLock

    task = get_benchmark("geneb-mini").task_ids[0]
    store = tmp_path / "s.zarr"
    st = open_store(store, mode="a")
    held = PairLock(st._kv, "kmer-3", task).acquire()
    try:
        rc = main(["embed", "--models", "kmer-3", "--tasks", task, "--store", str(store), "--no-progress"])
    finally:
        held.release()
    assert rc == EXIT_LOCKED == 3
    assert f"1 pair(s) locked by another writer, not finished by this run: kmer-3 x {task}" in capsys.readouterr().err
    assert main(["embed", "--models", "kmer-3", "--tasks", task, "--store", str(store), "--no-progress"]) == 0


def test_legacy_in_store_lock_folder_is_removed_when_free(tmp_path):
    """Older versions kept `.locks/` inside the store (zarr and xarray warn about it):
    opening the store for writing removes it, unless an older writer still holds a lock."""
    import fcntl

    store = tmp_path / "s.zarr"
    open_store(store, mode="a")
    legacy = store / ".locks" / "m"
    legacy.mkdir(parents=True)
    (legacy / "t.lock").write_text("{}")
    fd = os.open(legacy / "t.lock", os.O_RDWR)
    fcntl.flock(fd, fcntl.LOCK_EX)  # an older writer at work
    try:
        open_store(store, mode="a")
        assert (legacy / "t.lock").exists()
    finally:
        os.close(fd)
    open_store(store)  # read-only: never touches it
    assert (legacy / "t.lock").exists()
    open_store(store, mode="a")
    assert not (store / ".locks").exists()


def test_lock_falls_back_inside_the_store_when_its_parent_is_read_only(tmp_path, monkeypatch):
    """A store in a folder the writer cannot create files in (simulated: this suite may run
    as root, which ignores permissions): the pair lock goes inside the store, as older
    versions kept it, and still excludes a second writer."""
    from pathlib import Path

    from geneb.store.lock import PairLock

    store = tmp_path / "s.zarr"
    st = open_store(store, mode="a")
    real_mkdir = Path.mkdir

    def mkdir(self, *a, **kw):
        if str(self).startswith(str(tmp_path / "s.zarr.locks")):
            raise PermissionError(13, "Permission denied", str(self))
        return real_mkdir(self, *a, **kw)

    monkeypatch.setattr(Path, "mkdir", mkdir)
    with PairLock(st._kv, "m", "t").acquire():
        assert (store / ".locks" / "m" / "t.lock").is_file()
        with pytest.raises(LockBusy):
            PairLock(st._kv, "m", "t").acquire()
    assert not (tmp_path / "s.zarr.locks").exists()
