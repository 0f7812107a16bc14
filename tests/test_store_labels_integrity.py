"""Labels and row indexes are protected like X: a flipped byte, a deleted or truncated
chunk of y / row_index, or an array whose zarr.json disagrees with the split's layout is
named by `verify` and refused by every reader (so `geneb probe` never fits on it)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from geneb.store import CorruptData, StoreError, open_store
from geneb.testing import random_embeddings, write_pair


@pytest.fixture
def store(tmp_path):
    st = open_store(tmp_path / "s.zarr", mode="a")
    X, y = random_embeddings({"train": 300, "test": 60}, 8, seed=3, n_classes=3)
    write_pair(st, "m", "t", X, y, block_rows=64)
    assert st.verify() == []
    return st, tmp_path / "s.zarr", y


def _chunks(root, split, name):
    return sorted(p for p in (root / "m" / "t" / split / name / "c").rglob("*") if p.is_file())


def _damage(path, how):
    data = path.read_bytes()
    if how == "flip":
        b = bytearray(data)
        b[len(b) // 2] ^= 0x01
        path.write_bytes(bytes(b))
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    else:
        path.unlink()


@pytest.mark.parametrize("name", ["y", "row_index"])
@pytest.mark.parametrize("how", ["flip", "truncate", "delete"])
def test_damaged_labels_are_named_and_refused(store, name, how):
    st, root, _ = store
    chunk = _chunks(root, "train", name)[0]
    _damage(chunk, how)
    st = open_store(root)
    problems = st.verify()
    assert problems and all(p.split == "train" for p in problems)
    assert any(name in p.key for p in problems), problems
    with pytest.raises(CorruptData, match=name):
        (st.y if name == "y" else st.row_index)("m", "t", "train")


def test_labels_read_back_exactly(store):
    st, _, y = store
    for split in ("train", "test"):
        np.testing.assert_array_equal(st.y("m", "t", split), y[split])


@pytest.mark.parametrize("edit", [
    ("X", {"data_type": "float32"}),          # the stored bytes are float16: read as float32 they are garbage
    ("X", {"shape": [301, 8]}),
    ("y", {"data_type": "int32"}),
    ("X", {"attributes": {"encoding-type": "geneb-embedding-matrix", "encoding-version": "9.0.0"}}),
])
def test_readers_check_array_metadata_like_verify(store, edit):
    st, root, _ = store
    name, change = edit
    meta_path = root / "m" / "t" / "train" / name / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta.update(change)
    meta_path.write_text(json.dumps(meta))
    st = open_store(root)
    problems = st.verify()
    assert any(p.key.endswith(f"train/{name}/zarr.json") for p in problems), problems
    read = st.X if name == "X" else st.y
    with pytest.raises(StoreError, match=f"train/{name}/zarr.json"):
        read("m", "t", "train")


def test_a_broken_zarr_json_is_named(store):
    st, root, _ = store
    (root / "m" / "t" / "test" / "X" / "zarr.json").write_text("{not json")
    with pytest.raises(StoreError, match=r"test/X/zarr.json: not valid JSON"):
        open_store(root).X("m", "t", "test")


def test_arrays_carry_dimension_names(store):
    _, root, _ = store
    x = json.loads((root / "m" / "t" / "train" / "X" / "zarr.json").read_text())
    y = json.loads((root / "m" / "t" / "train" / "y" / "zarr.json").read_text())
    assert x["dimension_names"] == ["row", "feature"] and y["dimension_names"] == ["row"]
    assert [c["name"] for c in y["codecs"]][-1] == "crc32c"


def test_xarray_opens_a_split_and_the_store(store):
    """An analyst's tools: a split opens as an xarray Dataset with named dimensions, the
    whole store as a DataTree, and nothing in the store (pair locks included: they live
    beside it) makes zarr or xarray warn."""
    xr = pytest.importorskip("xarray")
    _, root, y = store
    assert (root.parent / (root.name + ".locks")).is_dir()  # the writer's locks, outside the hierarchy
    warnings.simplefilter("error")
    ds = xr.open_zarr(root, group="m/t/train", consolidated=False)
    assert ds["X"].dims == ("row", "feature") and ds["X"].shape == (300, 8)
    np.testing.assert_array_equal(ds["y"].values, y["train"])
    tree = xr.open_datatree(root, engine="zarr", consolidated=False)
    assert tree["m/t/test"]["X"].shape == (60, 8)


def test_labels_read_straight_from_their_chunks_equal_zarr(tmp_path, monkeypatch):
    """Labels of geneb's own codec chain are decoded from the chunk files directly (no zarr
    array machinery): over several chunks, the last one partial, they equal zarr's reading;
    a chunk missing in the middle is named."""
    import zarr

    from geneb.store import schema

    monkeypatch.setattr(schema, "LABEL_CHUNK_ROWS", 64)
    st = open_store(tmp_path / "s.zarr", mode="a")
    X, y = random_embeddings({"train": 300, "test": 60}, 8, seed=5, n_classes=7)
    write_pair(st, "m", "t", X, y)
    root = tmp_path / "s.zarr"
    assert len(_chunks(root, "train", "y")) == 5
    for split in ("train", "test"):
        via_zarr = zarr.open_array(zarr.storage.LocalStore(root), path=f"m/t/{split}/y", mode="r")[:]
        np.testing.assert_array_equal(st.y("m", "t", split), via_zarr)
        np.testing.assert_array_equal(st.y("m", "t", split), y[split])
        np.testing.assert_array_equal(st.y("m", "t", split, rows=[5, 0, 3]), y[split][[5, 0, 3]])
    _chunks(root, "train", "y")[2].unlink()
    with pytest.raises(CorruptData, match=r"train/y/c/2: chunk is missing"):
        st.y("m", "t", "train")
