"""Crash safety: writers killed with SIGKILL at random moments, then resumed.

A "zygote" subprocess imports geneb once and forks one writer per attempt, so each
kill costs milliseconds instead of an interpreter start. After every kill we check
that each block marked done holds exactly the right data; at the end the resumed
store must be byte-identical to an uninterrupted write.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from geneb.store import open_store
from geneb.testing import write_pair

N_ROWS = {"train": 1200, "test": 300}
DIM = 96
BLOCK = 64

ZYGOTE = textwrap.dedent(
    """
    import json, os, sys, time, traceback
    import numpy as np
    from geneb.store import open_store
    from geneb.testing import random_embeddings, test_cache_key

    def run(cmd):
        X, y = random_embeddings(cmd["n_rows"], cmd["dim"], seed=cmd["seed"], n_classes=4)
        st = open_store(cmd["store"], mode="a")
        with st.open_writer("m", "t", cache_key=test_cache_key("m"), n_rows=cmd["n_rows"], dim=cmd["dim"],
                            labels=y, block_rows=cmd["block"], lock_timeout=10) as w:
            print("ready", flush=True)
            for split in cmd["n_rows"]:
                for b in w.pending_blocks(split):
                    w.write_block(split, b.start, X[split][b.start:b.stop])
                    time.sleep(cmd["pause"])
            w.finish({"attempt": cmd["attempt"]})

    for line in sys.stdin:
        cmd = json.loads(line)
        pid = os.fork()
        if pid == 0:
            try:
                run(cmd)
                code = 0
            except BaseException:
                traceback.print_exc()
                code = 1
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
        print(pid, flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"exit": os.waitstatus_to_exitcode(status)}), flush=True)
    """
)


def _check_done_blocks(store_path, X):
    """Every block flagged done must hold exactly the expected data (never a torn block)."""
    if not os.path.exists(os.path.join(store_path, "zarr.json")):
        return 0  # killed before the store existed
    st = open_store(store_path)
    if st.status("m", "t") == "missing":
        return 0
    if not st._access.pair_attrs("m", "t").get("layout_ready"):
        return 0
    n_done = 0
    for split in N_ROWS:
        rows = st.done_rows("m", "t", split)
        got = st.X("m", "t", split, allow_partial=True)
        np.testing.assert_array_equal(got, X[split][rows].astype(np.float16).astype(np.float32))
        n_done += int(sum(st.done_blocks("m", "t", split)))
    return n_done


def _crash_and_resume(tmp_path, kills, pause, seed):
    from geneb.testing import random_embeddings

    X, y = random_embeddings(N_ROWS, DIM, seed=seed, n_classes=4)
    path = str(tmp_path / "crash.zarr")
    script = tmp_path / "zygote.py"
    script.write_text(ZYGOTE)
    proc = subprocess.Popen([sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    rng = np.random.default_rng(seed)
    n_blocks = sum(-(-n // BLOCK) for n in N_ROWS.values())
    total_time = n_blocks * pause
    killed, history = 0, []
    try:
        attempt = 0
        while True:
            attempt += 1
            cmd = {"store": path, "n_rows": N_ROWS, "dim": DIM, "seed": seed, "block": BLOCK, "pause": pause, "attempt": attempt}
            proc.stdin.write(json.dumps(cmd) + "\n")
            proc.stdin.flush()
            pid = int(proc.stdout.readline())
            line = None
            if killed < kills:
                if rng.random() < 0.25:
                    # during setup: store/pair creation, labels, lock
                    time.sleep(rng.uniform(0, 0.3))
                else:
                    line = proc.stdout.readline().strip()
                    time.sleep(rng.uniform(0, total_time))  # during block writes / marking / finish
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            while line is None or not line.startswith("{"):
                line = proc.stdout.readline().strip()
            result = json.loads(line)
            if result["exit"] == -signal.SIGKILL:
                killed += 1
                history.append(_check_done_blocks(path, X))
                continue
            assert result["exit"] == 0, f"writer failed on attempt {attempt}"
            if killed >= kills:
                break
            # finished before we could kill it: start over from scratch to keep killing
            open_store(path, mode="a").remove("m", "t")
    finally:
        proc.stdin.close()
        proc.wait(timeout=30)
    assert killed >= kills
    # progress was made across kills and some kills landed mid-run
    assert max(history) > 0 and min(history) < n_blocks

    st = open_store(path)
    assert st.status("m", "t") == "complete" and st.verify() == []
    ref = open_store(tmp_path / "ref.zarr", mode="a")
    write_pair(ref, "m", "t", X, y, block_rows=BLOCK, cache_key=st.cache_key("m", "t"))
    for split in N_ROWS:
        np.testing.assert_array_equal(st.X("m", "t", split), ref.X("m", "t", split))
        np.testing.assert_array_equal(st.y("m", "t", split), y[split])
        keys = ref._kv.list_prefix(f"m/t/{split}/X/c")
        assert keys == st._kv.list_prefix(f"m/t/{split}/X/c")  # no stray temp files left
        for k in keys:  # byte-identical shards
            assert st._kv.get(k) == ref._kv.get(k), k
    return history


def test_kill_9_at_random_moments_then_resume(tmp_path):
    history = _crash_and_resume(tmp_path, kills=12, pause=0.004, seed=7)
    assert len(history) >= 12


@pytest.mark.slow
def test_kill_9_many_times(tmp_path):
    _crash_and_resume(tmp_path, kills=60, pause=0.002, seed=11)


def test_torn_shard_of_unfinished_block_is_rewritten(tmp_path):
    """A kill mid-write can leave a temp file or (on non-atomic stores) a torn shard for a
    block that is not marked done; resuming must rewrite it and clean up."""
    from geneb.testing import random_embeddings
    from geneb.testing import test_cache_key as tkey

    X, y = random_embeddings({"train": 256}, 16)
    st = open_store(tmp_path / "s.zarr", mode="a")
    with st.open_writer("m", "t", cache_key=tkey("m"), n_rows={"train": 256}, dim=16, labels=y, block_rows=64) as w:
        w.write_block("train", 0, X["train"][:64])
    root = tmp_path / "s.zarr" / "m" / "t" / "train" / "X" / "c"
    (root / "1").mkdir(parents=True, exist_ok=True)
    (root / "1" / "0").write_bytes(b"\x00torn")
    (root / "1" / "0.deadbeef.partial").write_bytes(b"junk")
    assert st.verify() == []  # unfinished blocks are not checked: they are not claimed done
    write_pair(st, "m", "t", X, y, cache_key=tkey("m"))
    assert st.verify() == []
    assert not list(root.rglob("*.partial"))
    np.testing.assert_array_equal(st.X("m", "t", "train"), X["train"].astype(np.float16).astype(np.float32))


def test_readers_never_see_half_written_metadata(tmp_path):
    """Done flags are rewritten after every block; a concurrent reader must always parse
    a whole document and see the done count only grow."""
    import threading

    from geneb.testing import random_embeddings
    from geneb.testing import test_cache_key as tkey

    X, y = random_embeddings({"train": 2000}, 8)
    st = open_store(tmp_path / "s.zarr", mode="a")
    w = st.open_writer("m", "t", cache_key=tkey("m"), n_rows={"train": 2000}, dim=8, labels=y, block_rows=8)

    def write():
        with w:
            for b in w.pending_blocks("train"):
                w.write_block("train", b.start, X["train"][b.start:b.stop])
            w.finish()

    th = threading.Thread(target=write)
    th.start()
    ro = open_store(tmp_path / "s.zarr")
    seen, reads = [0], 0
    while th.is_alive() or reads == 0:
        n = sum(ro.done_blocks("m", "t", "train"))  # raises on a torn zarr.json
        ro.status("m", "t")
        assert n >= seen[-1]
        seen.append(n)
        reads += 1
    th.join()
    assert seen[-1] <= 250 and sum(ro.done_blocks("m", "t", "train")) == 250
    assert reads > 10 and len(set(seen)) > 2  # we really read while it was writing
