"""`geneb store import`: vectors computed elsewhere enter a store under a stated cache key,
labelled and fingerprinted from the task file; bad files are refused before anything is
written."""

from __future__ import annotations

import json

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from geneb.cli import main
from geneb.data import load_task
from geneb.store import open_store


@pytest.fixture()
def data(tmp_path):
    rng = np.random.default_rng(0)
    d = tmp_path / "data"
    d.mkdir()
    lines = ["text,label,split"]
    for split, n in (("train", 70), ("test", 30)):
        for i in range(n):
            y = i % 3
            seq = "".join(rng.choice(list("ACGT"), size=40)) + ["AAAA", "CCCC", "GGGG"][y] * 3
            lines.append(f"{seq},{y},{split}")
    (d / "tri.csv").write_text("\n".join(lines) + "\n")
    return d


def _matrices(seed: int = 1, dim: int = 12):
    rng = np.random.default_rng(seed)
    return {"train": rng.normal(size=(70, dim)).astype(np.float32), "test": rng.normal(size=(30, dim)).astype(np.float32)}


def _import(tmp_path, data, url, *extra: str, key='{"revision": "r1", "pooling": "mean"}') -> int:
    return main(["store", "import", "ext-model", "tri", "--store", url, "--data", str(data), "--key", key, *extra])


def test_exported_pair_imports_bit_equal_under_its_own_key(tmp_path, data):
    """embed -> store export -> store import into another store: the same vectors and cache
    key, so `geneb embed` then finds the pair done."""
    a, b = str(tmp_path / "a.zarr"), str(tmp_path / "b.zarr")
    assert main(["embed", "--models", "kmer-3", "--data", str(data), "--tasks", "tri", "--store", a, "--no-progress"]) == 0
    for fmt in ("npy", "parquet"):
        out = tmp_path / fmt
        assert main(["store", "export", "kmer-3", "tri", "--store", a, "--format", fmt, "--out", str(out)]) == 0
        key = tmp_path / "key.json"
        key.write_text(json.dumps(open_store(a).cache_key("kmer-3", "tri")))
        url = f"{b}-{fmt}"
        assert main(["store", "import", "kmer-3", "tri", "--store", url, "--data", str(data), "--from", str(out),
                     "--key", str(key)]) == 0
        src, dst = open_store(a), open_store(url)
        assert dst.cache_key("kmer-3", "tri") == src.cache_key("kmer-3", "tri")
        for split in ("train", "test"):
            np.testing.assert_array_equal(dst.X("kmer-3", "tri", split), src.X("kmer-3", "tri", split))
            np.testing.assert_array_equal(dst.y("kmer-3", "tri", split), src.y("kmer-3", "tri", split))
        assert dst.provenance("kmer-3", "tri")["imported"] is True
        from geneb.extract import embed

        assert embed(["kmer-3"], ["tri"], url, data_dir=str(data), progress=False).counts() == {"skipped": 1}


def test_export_layout_labels_are_checked(tmp_path, data, capsys):
    a, b = str(tmp_path / "a.zarr"), str(tmp_path / "b.zarr")
    assert main(["embed", "--models", "kmer-3", "--data", str(data), "--tasks", "tri", "--store", a, "--no-progress"]) == 0
    out = tmp_path / "npy"
    assert main(["store", "export", "kmer-3", "tri", "--store", a, "--out", str(out)]) == 0
    y = np.load(out / "kmer-3__tri__test.y.npy")
    np.save(out / "kmer-3__tri__test.y.npy", np.roll(y, 1))  # rows out of the task's order
    key = json.dumps(open_store(a).cache_key("kmer-3", "tri"))
    assert main(["store", "import", "kmer-3", "tri", "--store", b, "--data", str(data), "--from", str(out),
                 "--key", key]) == 2
    assert "kmer-3__tri__test.X.npy: row 0: label" in capsys.readouterr().err
    assert not (tmp_path / "b.zarr").exists() or open_store(b).status("kmer-3", "tri") == "missing"


def test_npy_files_import_and_probe(tmp_path, data):
    url = str(tmp_path / "s.zarr")
    m = _matrices()
    for s, X in m.items():
        np.save(tmp_path / f"{s}.npy", X)
    assert _import(tmp_path, data, url, "--train", str(tmp_path / "train.npy"), "--test", str(tmp_path / "test.npy")) == 0
    st = open_store(url)
    key = st.cache_key("ext-model", "tri")
    assert key["task_content_hash"] == load_task("tri", str(data)).content_hash
    assert key["extractor_version"] == "external" and key["dtype"] == "float32" and key["model_id"] == "ext-model"
    np.testing.assert_array_equal(st.X("ext-model", "tri", "test"), m["test"])
    res = tmp_path / "r.parquet"
    assert main(["probe", "--store", url, "--out", str(res), "--no-progress"]) == 0
    import polars as pl

    rows = pl.read_parquet(res)
    assert rows.height == 15 and rows["task_hash"].unique().to_list() == [key["task_content_hash"]]
    # the same import again is a no-op; another key needs --overwrite
    assert _import(tmp_path, data, url, "--train", str(tmp_path / "train.npy"), "--test", str(tmp_path / "test.npy")) == 0
    assert _import(tmp_path, data, url, "--train", str(tmp_path / "train.npy"), "--test", str(tmp_path / "test.npy"),
                   key='{"revision": "r2", "pooling": "mean"}') == 2
    assert st.cache_key("ext-model", "tri")["revision"] == "r1"


def test_parquet_float_columns_with_shuffled_rows(tmp_path, data):
    url = str(tmp_path / "s.zarr")
    m = _matrices(dim=5)
    y = {s: load_task("tri", str(data)).split(s).labels for s in m}
    for s, X in m.items():
        order = np.random.default_rng(2).permutation(len(X))
        cols = {f"d{j}": X[order, j] for j in range(X.shape[1])}
        pq.write_table(pa.table({"row": order, "label": y[s][order], **cols}), tmp_path / f"{s}.parquet")
    assert _import(tmp_path, data, url, "--train", str(tmp_path / "train.parquet"), "--test", str(tmp_path / "test.parquet")) == 0
    np.testing.assert_array_equal(open_store(url).X("ext-model", "tri", "train"), m["train"])


@pytest.mark.parametrize("case,match", [
    ("rows", r"train.npy: 69 rows, but split 'train' of the task has 70"),
    ("nan", r"test.npy: row 4: non-finite"),
    ("labels", r"train.parquet: row 0: label 1 differs from the task file's 0"),
    ("no-revision", r"state revision"),
    ("other-data", r"not the hash of the task file given"),
    ("unknown-field", r"unknown field\(s\) \['colour'\]"),
])
def test_bad_imports_write_nothing(tmp_path, data, capsys, case, match):
    url = str(tmp_path / "s.zarr")
    m = _matrices()
    key = {"revision": "r1", "pooling": "mean"}
    train, test = tmp_path / "train.npy", tmp_path / "test.npy"
    if case == "rows":
        m["train"] = m["train"][:-1]
    if case == "nan":
        m["test"][4, 2] = np.nan
    np.save(train, m["train"])
    np.save(test, m["test"])
    if case == "labels":
        y = load_task("tri", str(data)).train.labels
        emb = pa.FixedSizeListArray.from_arrays(pa.array(m["train"].reshape(-1)), m["train"].shape[1])
        train = tmp_path / "train.parquet"
        pq.write_table(pa.table({"label": (y + 1) % 3, "embedding": emb}), train)
    if case == "no-revision":
        key = {"pooling": "mean"}
    if case == "other-data":
        key["task_content_hash"] = "0" * 64
    if case == "unknown-field":
        key["colour"] = "blue"
    rc = main(["store", "import", "ext-model", "tri", "--store", url, "--data", str(data), "--key", json.dumps(key),
               "--train", str(train), "--test", str(test)])
    assert rc == 2
    import re

    assert re.search(match, capsys.readouterr().err)
    assert not (tmp_path / "s.zarr").exists() or open_store(url).status("ext-model", "tri") == "missing"
