"""Fault injection, the way databases test crash consistency: every file of a small
complete store is damaged in turn (a byte flipped, the file truncated, the file deleted),
one at a time. Each time `verify` must name the damage and `geneb probe` must refuse it
(an error, never a silently wrong number). The fast tier flips three bytes per file; the
slow tier flips every byte of every file."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from geneb.probe import ProbeError, run_probes
from geneb.store import StoreError, open_store
from geneb.testing import SyntheticTask, write_synthetic_store

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

TASK = SyntheticTask("t", n_train=90, n_test=40, dim=8, n_classes=3, separation=2.0, seed=7)


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    root = tmp_path_factory.mktemp("fi") / "s.zarr"
    write_synthetic_store(str(root), "m", [TASK])
    st = open_store(root)
    assert st.verify() == [] and st.status("m", "t") == "complete"
    ref = run_probes(str(root), tmp_path_factory.mktemp("ref") / "r.parquet", backend="sklearn", progress=False)
    return root, ref


def store_files(root: Path) -> list[Path]:
    """Every file of the store (the lock directory holds no data)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and ".locks" not in p.parts)


def _damage(path: Path, how: str, offset: int | None = None) -> None:
    data = path.read_bytes()
    if how == "flip":
        b = bytearray(data)
        b[offset] ^= 0x01
        path.write_bytes(bytes(b))
    elif how == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif how == "delete":
        path.unlink()


def _check_detected(root: Path, what: str, out: Path, probe: bool = True) -> None:
    try:
        problems = open_store(root).verify()
    except StoreError:  # the store cannot even be opened: named and refused
        problems = ["open"]
    assert problems, f"verify found nothing after {what}"
    if not probe:
        return
    try:
        table = run_probes(str(root), out, backend="sklearn", progress=False)
    except (ProbeError, StoreError, ValueError):
        return  # refused, with a named error
    # a probe that ran must not have produced rows for the damaged pair
    assert table.filter(pl.col("task") == "t").is_empty(), f"probe fitted on a damaged store after {what}"


def _cases(root: Path, all_bytes: bool):
    for f in store_files(root):
        rel = f.relative_to(root)
        size = f.stat().st_size
        offsets = range(size) if all_bytes else sorted({0, size // 2, size - 1})
        for off in offsets:
            yield rel, "flip", off
        yield rel, "truncate", None
        yield rel, "delete", None


def _run(pristine, tmp_path, all_bytes: bool, probe: bool):
    root, _ = pristine
    cases = list(_cases(root, all_bytes))
    assert len({c[0] for c in cases}) >= 15  # root, model, pair, 2 splits x (group, X, y, row_index + chunks)
    for i, (rel, how, off) in enumerate(cases):
        work = tmp_path / f"c{i}" / "s.zarr"
        shutil.copytree(root, work)
        _damage(work / rel, how, off)
        _check_detected(work, f"{how} of {rel}" + (f" at byte {off}" if off is not None else ""), work.parent / "r.parquet", probe)
        shutil.rmtree(work.parent)


def test_every_file_flipped_truncated_deleted_is_named_and_refused(pristine, tmp_path):
    _run(pristine, tmp_path, all_bytes=False, probe=True)


@pytest.mark.slow
def test_every_byte_of_every_file_flipped(pristine, tmp_path):
    _run(pristine, tmp_path, all_bytes=True, probe=False)


# --- repair: `geneb embed --repair` re-embeds what verify flags ------------------------------

MINI_TASK = "mini_coding_ddis"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    from geneb.extract.runner import embed

    root = tmp_path_factory.mktemp("rep") / "s.zarr"
    embed(["kmer-3"], [MINI_TASK], root, device="cpu", progress=False)
    st = open_store(root)
    assert st.verify() == []
    arrays = {s: (st.X("kmer-3", MINI_TASK, s), st.y("kmer-3", MINI_TASK, s)) for s in ("train", "test")}
    return root, arrays


def test_embed_repair_restores_every_damaged_file(embedded, tmp_path):
    """Each file damaged in turn; `embed --repair` ends in a store that verifies and holds
    the undamaged vectors and labels. A damaged root document is the one thing it does not
    rebuild (it cannot tell a damaged store from another program's folder): the store does
    not open, and says so; a deleted one is written anew."""
    from geneb.cli import main

    root, want = embedded
    cases = list(_cases(root, all_bytes=False))
    for i, (rel, how, off) in enumerate(cases):
        work = tmp_path / f"r{i}" / "s.zarr"
        shutil.copytree(root, work)
        _damage(work / rel, how, off)
        rc = main(["embed", "--models", "kmer-3", "--tasks", MINI_TASK, "--store", str(work), "--device", "cpu",
                   "--repair", "--no-progress"])
        what = f"{how} of {rel}"
        if str(rel) == "zarr.json" and how != "delete":
            assert rc != 0, f"embed ran on a store whose root document is damaged ({what})"
        else:
            assert rc == 0, what
            st = open_store(work)
            assert st.verify() == [], what
            for split, (X, y) in want.items():
                np.testing.assert_array_equal(st.X("kmer-3", MINI_TASK, split), X, err_msg=what)
                np.testing.assert_array_equal(st.y("kmer-3", MINI_TASK, split), y, err_msg=what)
        shutil.rmtree(work.parent)
