"""Round trips through the store: dtypes, labels, shapes, subsets, lazy, fsspec, errors."""

import json
import uuid

import numpy as np
import polars as pl
import pytest
import zarr

from geneb.store import (
    CacheKeyMismatch,
    IncompleteData,
    StoreError,
    UnknownEncoding,
    open_store,
)
from geneb.testing import random_embeddings, write_pair
from geneb.testing import test_cache_key as tkey


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "s.zarr", mode="a")


def _expect(X, dtype):
    return X.astype(dtype).astype(np.float32)


@pytest.mark.parametrize("dtype", ["float16", "float32"])
@pytest.mark.parametrize("compressor", ["blosc-lz4", "zstd", "none"])
def test_roundtrip_bit_exact(store, dtype, compressor):
    X, y = random_embeddings({"train": 333, "test": 41}, 24, seed=1, n_classes=5)
    write_pair(store, "m", "t", X, y, dtype=dtype, compressor=compressor, block_rows=64)
    assert store.status("m", "t") == "complete"
    for s in X:
        got = store.X("m", "t", s)
        assert got.dtype == np.float32 and got.flags.c_contiguous
        np.testing.assert_array_equal(got, _expect(X[s], dtype))
        np.testing.assert_array_equal(store.y("m", "t", s), y[s])
        np.testing.assert_array_equal(store.row_index("m", "t", s), np.arange(len(X[s])))
        # the arrays are standard Zarr v3: zarr itself reads the same values
        z = zarr.open_array(store._access.zarr_store, path=f"m/t/{s}/X", mode="r")[:]
        np.testing.assert_array_equal(z.astype(np.float32), got)
    assert set(np.unique(store.y("m", "t", "train"))) == set(range(5))
    raw = store.X("m", "t", "train", dtype=dtype, rows=[3, 1])
    assert raw.dtype == dtype
    np.testing.assert_array_equal(raw, X["train"][[3, 1]].astype(dtype))


def test_default_layout_is_float16_sharded(store):
    X, y = random_embeddings({"train": 5000}, 256)
    write_pair(store, "m", "t", X, y)
    meta = store._access.x_meta("m", "t", "train")
    (codec,) = meta["codecs"]
    assert meta["data_type"] == "float16" and codec["name"] == "sharding_indexed"
    names = [c["name"] for c in codec["configuration"]["codecs"]]
    assert names == ["bytes", "crc32c"]  # uncompressed by default: see schema.DEFAULT_COMPRESSOR
    write_pair(store, "m", "t2", X, y, compressor="blosc-lz4")
    lz4 = store._access.x_meta("m", "t2", "train")["codecs"][0]["configuration"]["codecs"]
    assert [c["name"] for c in lz4] == ["bytes", "blosc", "crc32c"] and lz4[1]["configuration"]["shuffle"] == "shuffle"
    lay = store.layout("m", "t", "train")
    assert lay.block_rows * 256 * 2 <= 4 * 2**20 and lay.chunk_rows * 256 * 2 <= 64 * 1024
    shards = [k for k in store._kv.list_prefix("m/t/train/X/c")]
    assert len(shards) == lay.n_blocks  # one file per block, not per chunk


def test_empty_and_one_row_splits(store):
    X, y = random_embeddings({"train": 1, "test": 0, "val": 2}, 8)
    write_pair(store, "m", "t", X, y)
    assert store.X("m", "t", "train").shape == (1, 8)
    assert store.X("m", "t", "test").shape == (0, 8)
    assert store.y("m", "t", "test").shape == (0,)
    np.testing.assert_array_equal(store.X("m", "t", "val"), _expect(X["val"], "float16"))
    assert store.verify() == []


def test_row_subsets_in_given_order(store):
    X, y = random_embeddings({"train": 500}, 16, seed=3)
    write_pair(store, "m", "t", X, y, block_rows=64)
    full = store.X("m", "t", "train")
    rng = np.random.default_rng(0)
    for idx in (rng.integers(0, 500, 50), np.array([499, 0, 0, 250]), np.array([], dtype=int), np.array([-1, -500])):
        np.testing.assert_array_equal(store.X("m", "t", "train", rows=idx), full[idx])
    np.testing.assert_array_equal(store.X("m", "t", "train", rows=slice(10, 400, 7)), full[10:400:7])
    mask = np.zeros(500, bool)
    mask[[3, 77]] = True
    np.testing.assert_array_equal(store.X("m", "t", "train", rows=mask), full[[3, 77]])
    np.testing.assert_array_equal(store.y("m", "t", "train", rows=[5, 1]), y["train"][[5, 1]])
    with pytest.raises(IndexError, match="out of range"):
        store.X("m", "t", "train", rows=[500])


def test_lazy_dask(store):
    pytest.importorskip("dask.array")
    X, y = random_embeddings({"train": 300}, 8)
    write_pair(store, "m", "t", X, y, block_rows=64)
    lazy = store.X("m", "t", "train", lazy=True)
    assert lazy.shape == (300, 8) and lazy.dtype == np.float32 and lazy.chunks[0][0] == 64
    np.testing.assert_array_equal(lazy.compute(), store.X("m", "t", "train"))
    np.testing.assert_array_equal(store.X("m", "t", "train", rows=[7, 200], lazy=True).compute(),
                                  store.X("m", "t", "train")[[7, 200]])


def test_fsspec_memory_store():
    url = f"memory://geneb-{uuid.uuid4().hex}/s.zarr"
    st = open_store(url, mode="a")
    X, y = random_embeddings({"train": 130, "test": 1}, 12, n_classes=3)
    write_pair(st, "m", "t", X, y, dtype="float32", block_rows=32)
    ro = open_store(url)
    assert ro._kv.local_root is None and ro.pairs() == [("m", "t")]
    np.testing.assert_array_equal(ro.X("m", "t", "train"), X["train"])
    np.testing.assert_array_equal(ro.X("m", "t", "train", rows=[129, 3]), X["train"][[129, 3]])
    np.testing.assert_array_equal(ro.y("m", "t", "test"), y["test"])
    assert ro.verify() == []
    assert ro.summary()["bytes"].min() > 0
    st.remove("m")
    assert ro.pairs() == []


def test_incomplete_reads_raise_unless_partial(store):
    X, y = random_embeddings({"train": 200}, 8)
    w = store.open_writer("m", "t", cache_key=tkey("m"), n_rows={"train": 200}, dim=8, labels=y, block_rows=64)
    with w:
        blocks = w.pending_blocks("train")
        assert [(b.start, b.stop) for b in blocks] == [(0, 64), (64, 128), (128, 192), (192, 200)]
        w.write_block("train", 64, X["train"][64:128])
        w.write_block("train", 192, X["train"][192:200])
        with pytest.raises(StoreError, match="cannot finish"):
            w.finish()
    assert store.status("m", "t") == "partial"
    with pytest.raises(IncompleteData, match="2 of 4 blocks"):
        store.X("m", "t", "train")
    rows = store.done_rows("m", "t", "train")
    np.testing.assert_array_equal(rows, np.r_[64:128, 192:200])
    np.testing.assert_array_equal(store.X("m", "t", "train", allow_partial=True), _expect(X["train"][rows], "float16"))
    with pytest.raises(IncompleteData, match="unfinished block"):
        store.X("m", "t", "train", rows=[0], allow_partial=True)
    # a reopened writer resumes with only the missing blocks
    with store.open_writer("m", "t", cache_key=tkey("m"), n_rows={"train": 200}, dim=8, labels=y) as w2:
        assert [b.index for b in w2.pending_blocks("train")] == [0, 2]


def test_cache_key_mismatch_refuses_or_overwrites(store):
    X, y = random_embeddings({"train": 10}, 4)
    write_pair(store, "m", "t", X, y)
    with pytest.raises(CacheKeyMismatch, match="pooling: stored 'mean' != requested 'cls'"):
        store.open_writer("m", "t", cache_key=tkey("m", pooling="cls"), n_rows={"train": 10}, dim=4, labels=y)
    np.testing.assert_array_equal(store.X("m", "t", "train"), _expect(X["train"], "float16"))  # untouched
    X2, _ = random_embeddings({"train": 10}, 4, seed=9)
    write_pair(store, "m", "t", X2, y, cache_key=tkey("m", pooling="cls"), overwrite=True)
    np.testing.assert_array_equal(store.X("m", "t", "train"), _expect(X2["train"], "float16"))
    assert store.cache_key("m", "t")["pooling"] == "cls"
    # same key, different labels or shape: refused too
    with pytest.raises(StoreError, match="same cache key but different"):
        store.open_writer("m", "t", cache_key=tkey("m", pooling="cls"), n_rows={"train": 10}, dim=4,
                          labels={"train": y["train"][::-1].copy()})
    with pytest.raises(StoreError, match="same cache key but different"):
        store.open_writer("m", "t", cache_key=tkey("m", pooling="cls"), n_rows={"train": 11}, dim=4,
                          labels={"train": np.zeros(11, int)})


def test_bad_input_writes_nothing(store):
    y = {"train": np.zeros(64, int)}
    with pytest.raises(ValueError, match="invalid model id"):
        store.open_writer("a/b", "t", cache_key=tkey(), n_rows={"train": 64}, dim=4, labels=y)
    with pytest.raises(ValueError, match="labels have shape"):
        store.open_writer("m", "t", cache_key=tkey(), n_rows={"train": 65}, dim=4, labels=y)
    with pytest.raises(ValueError, match="differs from storage dtype"):
        store.open_writer("m", "t", cache_key=tkey(), n_rows={"train": 64}, dim=4, labels=y, dtype="float32")
    assert store.pairs() == []
    with store.open_writer("m", "t", cache_key=tkey(), n_rows={"train": 64}, dim=4, labels=y, block_rows=32) as w:
        bad = np.ones((32, 4), np.float32)
        bad[5, 1] = np.nan
        with pytest.raises(ValueError, match=r"non-finite embedding values in rows \[5\]"):
            w.write_block("train", 0, bad)
        with pytest.raises(ValueError, match=r"rows \[32, 33, 34, 35, 36\] are beyond float16 range"):
            w.write_block("train", 32, np.full((32, 4), 1e6, np.float32))
        with pytest.raises(ValueError, match="not the start of a block"):
            w.write_block("train", 5, np.ones((32, 4), np.float32))
        with pytest.raises(ValueError, match="needs shape"):
            w.write_block("train", 0, np.ones((31, 4), np.float32))
        assert len(w.pending_blocks("train")) == 2


def test_read_only_and_missing(tmp_path, store):
    with pytest.raises(StoreError, match="no geneb store"):
        open_store(tmp_path / "nope.zarr")
    X, y = random_embeddings({"train": 5}, 4)
    write_pair(store, "m", "t", X, y)
    ro = open_store(store.url)
    with pytest.raises(StoreError, match="read-only"):
        ro.open_writer("m", "t2", cache_key=tkey(), n_rows={"train": 5}, dim=4, labels=y)
    with pytest.raises(StoreError, match="read-only"):
        ro.remove("m")
    with pytest.raises(KeyError, match="no embeddings for m/zz"):
        ro.X("m", "zz", "train")
    with pytest.raises(KeyError, match="no split 'dev'"):
        ro.X("m", "t", "dev")
    assert ro.status("m", "zz") == "missing"


def test_unknown_encoding_version_refused(tmp_path, store):
    X, y = random_embeddings({"train": 5}, 4)
    write_pair(store, "m", "t", X, y)
    path = tmp_path / "s.zarr" / "m" / "t" / "zarr.json"
    doc = json.loads(path.read_text())
    doc["attributes"]["encoding-version"] = "2.0.0"
    path.write_text(json.dumps(doc))
    with pytest.raises(UnknownEncoding, match="encoding-version '2.0.0'"):
        store.X("m", "t", "train")
    root = tmp_path / "s.zarr" / "zarr.json"
    doc = json.loads(root.read_text())
    doc["attributes"]["encoding-type"] = "something-else"
    root.write_text(json.dumps(doc))
    with pytest.raises(UnknownEncoding, match="encoding-type"):
        open_store(tmp_path / "s.zarr")


def test_listing_summary_provenance_remove(store):
    for m in ("a", "b"):
        for t in ("t1", "t2"):
            X, y = random_embeddings({"train": 20, "test": 5}, 4)
            write_pair(store, m, t, X, y, provenance={"batch_size": 4})
    assert store.models() == ["a", "b"] and store.tasks("a") == ["t1", "t2"]
    assert store.pairs(status="complete") == [("a", "t1"), ("a", "t2"), ("b", "t1"), ("b", "t2")]
    df = store.summary()
    assert isinstance(df, pl.DataFrame) and df.height == 8
    assert {"model", "task", "split", "n", "dim", "dtype", "bytes", "status", "created"} <= set(df.columns)
    assert (df["bytes"] > 0).all() and set(df["status"]) == {"complete"}
    prov = store.provenance("a", "t1")
    for k in ("cache_key", "created", "finished", "throughput_rows_per_s", "peak_memory_bytes", "host", "versions"):
        assert prov[k] is not None, k
    assert prov["batch_size"] == 4 and prov["versions"]["zarr"] == zarr.__version__
    assert len(store.cache_key_hash("a", "t1")) == 64
    assert store.remove("a", "t1") == [("a", "t1")]
    assert store.pairs() == [("a", "t2"), ("b", "t1"), ("b", "t2")]
    store.remove("b")
    assert store.models() == ["a"]
    with pytest.raises(KeyError):
        store.remove("b")


def test_fast_float16_cast_is_exact():
    """With torch loaded, float16 -> float32 uses its SIMD cast; it must equal numpy bit for bit."""
    pytest.importorskip("torch")
    from geneb.store.shards import cast_into

    bits = np.arange(65536, dtype=np.uint16)
    finite = bits[np.isfinite(bits.view(np.float16))]  # every finite half: zeros, subnormals, max
    src = np.tile(finite.view(np.float16), 2).reshape(-1, 16)
    fast = np.empty(src.shape, np.float32)
    cast_into(fast, src)
    np.testing.assert_array_equal(fast.view(np.uint32), src.astype(np.float32).view(np.uint32))


def test_fast_float32_to_float16_cast_is_exact():
    """Writing rounds float32 -> float16; torch's SIMD path must round exactly like numpy."""
    pytest.importorskip("torch")
    from geneb.store.shards import cast_into

    rng = np.random.default_rng(0)
    halves = np.arange(65536, dtype=np.uint16).view(np.float16)
    halves = halves[np.isfinite(halves)].astype(np.float32)
    mids = (halves[:-1] + np.diff(halves) / 2)  # ties: round half to even
    vals = np.concatenate([halves, mids, np.nextafter(mids, 0), np.nextafter(mids, np.inf),
                           rng.standard_normal(100_000).astype(np.float32) * 10.0 ** rng.integers(-8, 4, 100_000),
                           np.float32([65519.0, -65519.0, 1e-8, -1e-8, 0.0, -0.0])]).astype(np.float32)
    vals = vals[np.abs(vals) < 65520]
    vals = vals[: len(vals) // 16 * 16].reshape(-1, 16)
    fast = np.empty(vals.shape, np.float16)
    cast_into(fast, vals)
    np.testing.assert_array_equal(fast.view(np.uint16), vals.astype(np.float16).view(np.uint16))


def test_vectorised_half_to_float32_is_exact_for_every_half():
    from geneb.store.halfcast import half_to_float32

    every = np.arange(65536, dtype=np.uint16).view(np.float16)
    for src in (every, np.tile(every, 3).reshape(-1, 64), every[:5]):  # several pieces; tiny
        out = np.empty(src.shape, np.float32)
        half_to_float32(np.ascontiguousarray(src), out)
        np.testing.assert_array_equal(out.view(np.uint32), src.astype(np.float32).view(np.uint32))
    with pytest.raises(ValueError, match="same shape"):
        half_to_float32(every, np.empty(3, np.float32))


@pytest.mark.parametrize("compressor", ["blosc-lz4", "none"])
def test_write_split_writes_the_same_shards_as_block_by_block(tmp_path, compressor):
    """The threaded whole-split write is a faster route to the very same bytes."""
    X, y = random_embeddings({"train": 333}, 24, seed=3)
    stores = {}
    for how in ("blocks", "split"):
        st = open_store(tmp_path / f"{how}.zarr", mode="a")
        with st.open_writer("m", "t", cache_key=tkey(dtype="float32"), n_rows={"train": 333}, dim=24,
                            labels=y, dtype="float32", compressor=compressor, block_rows=64) as w:
            if how == "blocks":
                for b in w.pending_blocks("train"):
                    w.write_block("train", b.start, X["train"][b.start:b.stop])
            else:
                assert [b.index for b in w.write_split("train", X["train"], threads=3)] == list(range(6))
            assert w.pending_blocks("train") == []
            w.finish()
        stores[how] = tmp_path / f"{how}.zarr" / "m" / "t" / "train" / "X" / "c"
    shards = sorted(p.relative_to(stores["blocks"]) for p in stores["blocks"].rglob("*") if p.is_file())
    assert len(shards) == 6
    for rel in shards:
        assert (stores["blocks"] / rel).read_bytes() == (stores["split"] / rel).read_bytes()
    np.testing.assert_array_equal(open_store(tmp_path / "split.zarr").X("m", "t", "train"), X["train"])


def test_write_split_resumes_and_keeps_what_landed_before_a_bad_block(store):
    X = np.arange(320 * 4, dtype=np.float32).reshape(320, 4)
    y = {"train": np.arange(320) % 2}
    with store.open_writer("m", "t", cache_key=tkey(dtype="float32"), n_rows={"train": 320}, dim=4, labels=y,
                           dtype="float32", block_rows=32) as w:
        w.write_block("train", 0, X[:32])
        bad = X.copy()
        bad[200, 2] = np.inf  # in block 6
        with pytest.raises(ValueError, match=r"non-finite embedding values in rows \[200\]"):
            w.write_split("train", bad, threads=1)
        # one thread writes in row order: blocks 1-5 landed and are recorded, the bad block 6
        # is not (blocks the worker took up before the failure was seen may land and be recorded)
        pending = [b.index for b in w.pending_blocks("train")]
        assert pending[0] == 6
        with pytest.raises(ValueError, match=r"needs 320 rows x 4"):
            w.write_split("train", X[:300])
        assert [b.index for b in w.write_split("train", X)] == pending
        w.finish()
    np.testing.assert_array_equal(store.X("m", "t", "train"), X)


def test_local_put_survives_short_writes(tmp_path, monkeypatch):
    """os.writev may write fewer bytes than asked; the put resumes mid-piece."""
    import os

    from geneb.store._kv import open_kv

    real = os.writev
    calls = []

    def short_writev(fd, bufs):
        calls.append(len(bufs))
        first = memoryview(bufs[0]).cast("B")
        return real(fd, [first[: max(1, min(len(first), 7))]])  # at most 7 bytes a call

    monkeypatch.setattr(os, "writev", short_writev)
    kv = open_kv(tmp_path / "kv", read_only=False)
    parts = [b"abcdefghij", memoryview(np.arange(10, dtype=np.uint8)), b"", b"xyz" * 5]
    kv.set_parts("a/b", parts)
    assert (tmp_path / "kv" / "a" / "b").read_bytes() == b"".join(bytes(p) for p in parts)
    assert len(calls) > 4


@pytest.mark.parametrize("dtype,compressor", [("float32", "none"), ("float16", "none"), ("float32", "blosc-lz4")])
def test_sparse_gather_checks_exactly_the_chunks_it_reads(store, tmp_path, dtype, compressor):
    """A few rows of a big shard are read from the memory-mapped shard: equal to the full
    read, in the order asked, and every chunk holding one of them is crc32c-checked (a
    damaged chunk elsewhere in the shard does not stop the gather; one it uses does)."""
    X, y = random_embeddings({"train": 2048}, 1024, seed=5)
    write_pair(store, "m", "t", X, y, dtype=dtype, compressor=compressor)
    lay = store.layout("m", "t", "train")
    assert lay.block_rows // lay.chunk_rows >= 16  # many chunks per shard: the sparse path runs
    full = store.X("m", "t", "train")
    idx = np.array([1500, 3, 3, 1030, 17, 2047])
    np.testing.assert_array_equal(store.X("m", "t", "train", rows=idx), full[idx])
    np.testing.assert_array_equal(store.X("m", "t", "train", rows=idx, dtype=dtype), X["train"][idx].astype(dtype))

    shard = tmp_path / "s.zarr" / "m" / "t" / "train" / "X" / "c" / "0" / "0"
    raw = bytearray(shard.read_bytes())
    n_chunks = lay.block_rows // lay.chunk_rows
    index = np.frombuffer(bytes(raw[-(16 * n_chunks + 4):-4]), "<u8").reshape(-1, 2)
    used_chunks = {int(r) // lay.chunk_rows for r in idx if r < lay.block_rows}
    far = max(set(range(n_chunks)) - used_chunks)  # a chunk of block 0 holding none of idx
    raw[int(index[far, 0]) + 10] ^= 0xFF
    shard.write_bytes(bytes(raw))
    np.testing.assert_array_equal(store.X("m", "t", "train", rows=idx), full[idx])
    used = 17 // lay.chunk_rows
    raw[int(index[used, 0]) + 10] ^= 0xFF
    shard.write_bytes(bytes(raw))
    with pytest.raises(StoreError, match=rf"c/0/0 chunk {used}: chunk checksum mismatch"):
        store.X("m", "t", "train", rows=idx)
    shard.write_bytes(bytes(raw[: len(raw) // 2]))
    with pytest.raises(StoreError, match="c/0/0: .*(truncated|index)"):
        store.X("m", "t", "train", rows=idx)
