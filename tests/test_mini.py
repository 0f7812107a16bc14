"""The built-in geneb-mini suite: shipped files load with the official loader, cover every
GENEB category, stay within the size budget, and rebuild byte-identically (slow test)."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geneb.catalog import category_order
from geneb.catalog.tasks import mini_tasks
from geneb.data import load_task, mini_dir

REPO = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO / "scripts" / "build_mini.py"
SIZE_BUDGET_BYTES = 3_000_000
MINI = mini_tasks()
IDS = [t.task_id for t in MINI]


def test_catalog_lists_at_least_13_tasks_covering_every_category():
    assert len(MINI) >= 13
    assert len(set(IDS)) == len(IDS)
    assert {t.category for t in MINI} == set(category_order())
    assert all(t.suite == "mini" for t in MINI)


def test_catalog_order_follows_category_order():
    rank = {c: i for i, c in enumerate(category_order())}
    ranks = [rank[t.category] for t in MINI]
    assert ranks == sorted(ranks)


def test_catalog_records_provenance_and_simulated_flag():
    raw = list(csv.DictReader(open(REPO / "geneb" / "catalog" / "data" / "mini_tasks.csv", encoding="utf-8")))
    assert [r["task_id"] for r in raw] == IDS
    for row, spec in zip(raw, MINI, strict=True):
        assert row["simulated"] in ("true", "false"), row["task_id"]
        assert spec.simulated == (row["simulated"] == "true")
        assert "seed=" in spec.provenance and len(spec.provenance) > 40, spec.task_id
        assert spec.source_collection.startswith("geneb-mini")
    # the suite is mostly real data; simulated tasks are the exception, and say so
    assert sum(not t.simulated for t in MINI) >= 7
    assert all("(sim" in t.label for t in MINI if t.simulated)


def test_every_catalog_task_has_a_file_and_no_stray_files():
    files = sorted(p.name for p in mini_dir().iterdir() if p.name.endswith(".csv.gz"))
    assert files == sorted(f"{i}.csv.gz" for i in IDS)


def test_total_shipped_size_within_budget():
    total = sum(p.stat().st_size for p in mini_dir().glob("*.csv.gz"))
    assert 0 < total <= SIZE_BUDGET_BYTES, f"mini suite is {total} bytes"


def test_files_are_reproducible_gzip_with_flat_header():
    for tid in IDS:
        raw = (mini_dir() / f"{tid}.csv.gz").read_bytes()
        assert raw[:2] == b"\x1f\x8b", tid
        assert raw[4:8] == b"\x00\x00\x00\x00", f"{tid}: gzip mtime must be 0 for byte-identical rebuilds"
        header = gzip.decompress(raw).split(b"\n", 1)[0]
        assert header == b"text,label,split", tid


@pytest.mark.parametrize("task_id", IDS)
def test_task_loads_with_official_loader(task_id):
    task = load_task(task_id)
    train, test = task.train, task.test
    assert len(train) >= 200 and len(test) >= 50
    n = len(train) + len(test)
    assert 300 <= n <= 2500
    assert 0.2 <= len(test) / n <= 0.3
    classes = np.unique(train.labels)
    assert len(classes) >= 2
    assert classes.tolist() == list(range(len(classes)))  # labels 0..C-1
    assert set(np.unique(test.labels).tolist()) == set(classes.tolist())  # every class is tested
    counts = np.bincount(train.labels)
    assert counts.min() / counts.max() >= 0.5  # roughly balanced
    for split in (train, test):
        for s in split.sequences:
            assert set(s) <= set("ACGTN")
        assert 50 <= split.lengths.min() and split.lengths.max() <= 1000
    assert not set(train.sequences) & set(test.sequences), "a sequence is in both splits"


def test_suite_shape_matches_its_promise():
    specs = {t.task_id: t for t in MINI}
    tasks = [load_task(t) for t in IDS]
    n_classes = [len(np.unique(t.train.labels)) for t in tasks]
    assert sum(c > 2 for c in n_classes) >= 2  # multi-class tasks
    lengths = [int(np.median(t.train.lengths)) for t in tasks]
    assert min(lengths) <= 80 and max(lengths) >= 900  # short and long tasks
    assert any(not specs[i].simulated and specs[i].category == "TF Binding" for i in IDS)


def test_content_hash_is_stable_across_loads():
    tid = IDS[0]
    assert load_task(tid).content_hash == load_task(tid).content_hash


def _downloads_available() -> str | None:
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "apt-get/dpkg-deb not available (not a Debian-like system)"
    try:
        probe = subprocess.run(["apt-cache", "show", "bowtie2-examples"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return "apt-cache not usable"
    if probe.returncode != 0:
        return "the Debian package index lacks bowtie2-examples (run apt-get update)"
    if importlib.util.find_spec("pip") is None:
        return "pip not available"
    return None


@pytest.mark.slow
def test_rebuild_is_byte_identical(tmp_path):
    reason = _downloads_available()
    if reason:
        pytest.skip(f"cannot rebuild the mini suite here: {reason}")
    out, catalog = tmp_path / "mini", tmp_path / "mini_tasks.csv"
    proc = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--cache", str(tmp_path / "cache"), "--out", str(out),
         "--catalog", str(catalog), "--no-sanity"],
        capture_output=True, text=True, timeout=1800,
    )
    if proc.returncode == 2 and "could not download" in proc.stderr:
        pytest.skip(f"source packages could not be downloaded: {proc.stderr.strip()[:300]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    shipped = sorted(p.name for p in mini_dir().glob("*.csv.gz"))
    assert sorted(p.name for p in out.glob("*.csv.gz")) == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (mini_dir() / name).read_bytes(), f"{name} differs from the shipped file"
    assert catalog.read_bytes() == (REPO / "geneb" / "catalog" / "data" / "mini_tasks.csv").read_bytes()
