"""`verify` finds damaged data and names it; the CLI exits non-zero listing every problem."""

import json

import numpy as np
import pytest

from geneb.cli import main
from geneb.store import CorruptData, StoreError, open_store
from geneb.testing import random_embeddings, write_pair


@pytest.fixture
def healthy(tmp_path):
    st = open_store(tmp_path / "s.zarr", mode="a")
    for task in ("t1", "t2", "t3", "t4"):
        X, y = random_embeddings({"train": 300, "test": 50}, 16, seed=len(task))
        write_pair(st, "m", task, X, y, block_rows=64)
    assert st.verify() == []
    return st, tmp_path / "s.zarr"


def _shard(root, task, block, split="train"):
    return root / "m" / task / split / "X" / "c" / str(block) / "0"


def test_flipped_deleted_truncated_each_found_by_name(healthy, capsys):
    st, root = healthy
    flipped = _shard(root, "t1", 2)
    data = bytearray(flipped.read_bytes())
    data[len(data) // 3] ^= 0x40
    flipped.write_bytes(bytes(data))
    deleted = _shard(root, "t2", 1)
    deleted.unlink()
    truncated = _shard(root, "t3", 4)
    truncated.write_bytes(truncated.read_bytes()[:-100])
    index_hit = _shard(root, "t4", 0, split="test")
    data = bytearray(index_hit.read_bytes())
    data[-10] ^= 0x01  # inside the shard index
    index_hit.write_bytes(bytes(data))

    problems = st.verify()
    by_key = {p.key: p for p in problems}
    assert set(by_key) == {"m/t1/train/X/c/2/0", "m/t2/train/X/c/1/0", "m/t3/train/X/c/4/0", "m/t4/test/X/c/0/0"}
    assert by_key["m/t1/train/X/c/2/0"].kind == "corrupt" and "checksum mismatch" in by_key["m/t1/train/X/c/2/0"].message
    assert by_key["m/t2/train/X/c/1/0"].kind == "missing-chunk"
    assert by_key["m/t3/train/X/c/4/0"].kind == "corrupt" and "truncated" in by_key["m/t3/train/X/c/4/0"].message
    assert by_key["m/t4/test/X/c/0/0"].kind == "corrupt" and "index" in by_key["m/t4/test/X/c/0/0"].message
    # reads fail loudly instead of returning garbage
    with pytest.raises(CorruptData, match="checksum mismatch"):
        st.X("m", "t1", "train")
    with pytest.raises(StoreError, match="shard missing"):
        st.X("m", "t2", "train")
    with pytest.raises(CorruptData):
        st.X("m", "t3", "train", rows=[4 * 64 + 1])

    rc = main(["store", "verify", "--store", str(root)])
    out = capsys.readouterr()
    assert rc == 1
    for key in by_key:
        assert key in out.out
    assert "4 problem(s)" in out.err
    # verify can be narrowed to one pair
    assert [p.key for p in st.verify(model="m", task="t2")] == ["m/t2/train/X/c/1/0"]


def test_nan_shape_flags_and_metadata_problems(healthy):
    st, root = healthy
    # NaN sneaked into a done block (written behind the writer's back with zarr)
    import zarr

    arr = zarr.open_array(st._access.zarr_store, path="m/t1/train/X", mode="r+")
    block = arr[64:128]
    block[3, 2] = np.nan
    arr[64:128] = block
    # a complete pair whose done flags were lost
    sp = root / "m" / "t2" / "test" / "zarr.json"
    doc = json.loads(sp.read_text())
    doc["attributes"]["done"] = "00"
    # as a geneb bug would write it (a valid checksum), not as damage (which the checksum catches)
    from geneb.store import schema as S

    attrs = {k: v for k, v in doc["attributes"].items() if k != S.CHECKSUM_ATTR}
    doc["attributes"][S.CHECKSUM_ATTR] = S.attrs_checksum(attrs)
    sp.write_text(json.dumps(doc))
    # labels of the wrong length
    zarr.create_array(st._access.zarr_store, name="m/t3/train/y", shape=(7,), dtype="int64", overwrite=True)
    # unparsable metadata
    (root / "m" / "t4" / "train" / "zarr.json").write_text("{not json")
    kinds = {(p.task, p.kind) for p in st.verify()}
    assert ("t1", "non-finite") in kinds
    assert ("t2", "done-flags") in kinds
    assert ("t3", "metadata") in kinds  # y's zarr.json disagrees with the split's layout
    assert any("y is [7] int64, the split's layout says [300] int64" in str(p) for p in st.verify(task="t3"))
    assert ("t4", "metadata") in kinds
    msg = [str(p) for p in st.verify() if p.kind == "non-finite"][0]
    assert "m/t1/train/X/c/1/0" in msg and "rows [67]" in msg


def test_temp_files_of_a_killed_metadata_write_are_not_damage(healthy):
    """A worker killed inside an atomic put leaves its temp file (`<name>.<uuid>.partial`)
    beside the key; the rename never happened, so the old metadata stands. verify must not
    call that debris an orphaned task (it did, once, after a Dask worker was SIGKILLed),
    while a real orphan next to it is still reported."""
    st, root = healthy
    (root / "m" / "zarr.3f2a9c.partial").write_text('{"half": ')  # model-level zarr.json, cut
    (root / "zarr.77aa01.partial").write_text("")  # the root's
    (root / "m" / "t1" / "zarr.0b1c.partial").write_text("{")  # the pair's
    assert st.verify() == []
    assert st.tasks("m") == ["t1", "t2", "t3", "t4"] and st.models() == ["m"]
    (root / "m" / "t5").mkdir()
    (root / "m" / "t5" / "leftover").write_text("x")
    assert [(p.task, p.kind) for p in st.verify()] == [("t5", "orphan")]
