"""Results, predictions and submissions are readable as the umask says (not 0600)."""

from __future__ import annotations

import os
import stat

import polars as pl
import pytest

from geneb._atomic import atomic_write, current_umask
from geneb.probe.submission import _atomic_json
from geneb.probe.table import _atomic_parquet


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(p):
    return stat.S_IMODE(os.stat(p).st_mode)


def test_written_files_honour_the_umask(tmp_path, umask_022):
    assert current_umask() == 0o022
    _atomic_parquet(pl.DataFrame({"a": [1]}), tmp_path / "r.parquet")
    _atomic_json({"a": 1}, tmp_path / "s.json")
    assert _mode(tmp_path / "r.parquet") == 0o644 and _mode(tmp_path / "s.json") == 0o644
    os.umask(0o077)
    _atomic_json({"a": 2}, tmp_path / "private.json")
    assert _mode(tmp_path / "private.json") == 0o600


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")

    def boom(tmp):
        open(tmp, "w").write("half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write(target, boom)
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_store_files_honour_the_umask_and_leave_no_temporary(tmp_path, umask_022):
    """The store's own atomic puts (shards streamed in pieces, metadata documents)."""
    from geneb.store import open_store
    from geneb.testing import random_embeddings, write_pair

    st = open_store(tmp_path / "s.zarr", mode="a")
    X, y = random_embeddings({"train": 50, "test": 10}, 8)
    write_pair(st, "m", "t", X, y, dtype="float32")
    files = [p for p in (tmp_path / "s.zarr").rglob("*") if p.is_file()]
    assert len(files) > 10 and {_mode(p) for p in files} == {0o644}
    assert not [p for p in files if p.name.endswith(".partial")]
    assert st.verify() == []
