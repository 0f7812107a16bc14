"""Issue 8, must-show: a 2-process LocalCluster embeds and probes geneb-mini with two
models into one store; the store verifies and everything equals the in-process run.
And a worker killed mid-unit: the run completes on the remaining worker."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pytest

from geneb.catalog import get_benchmark
from geneb.dist import embed_all, probe_all
from geneb.probe import read_preds, read_results, run_probes
from geneb.store import open_store
from geneb.testing import write_task_csv

distributed = pytest.importorskip("distributed")

MODELS = ["kmer-3", "kmer-4"]


def _mini_tasks() -> list[str]:
    tasks = list(get_benchmark("geneb-mini").task_ids)
    assert tasks, "the geneb-mini suite has no tasks"
    return tasks


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        yield c


def _assert_same_store(a, b) -> None:
    assert sorted(a.pairs()) == sorted(b.pairs())
    for m, t in a.pairs():
        assert b.status(m, t) == "complete"
        assert a.cache_key(m, t) == b.cache_key(m, t)
        for split in ("train", "test"):
            np.testing.assert_array_equal(a.X(m, t, split), b.X(m, t, split), err_msg=f"{m}/{t}/{split}")
            np.testing.assert_array_equal(a.y(m, t, split), b.y(m, t, split))


def test_local_cluster_embeds_and_probes_mini_like_in_process(client, tmp_path):
    tasks = _mini_tasks()
    # the distributed run: every (model, task) unit on the cluster's 2 worker processes
    rep = embed_all(tmp_path / "dist.zarr", MODELS, tasks, dask=client, device="cpu", progress=False)
    rep.raise_for_failures()
    assert rep.counts() == {"embedded": len(MODELS) * len(tasks)}
    worker_pids = {r.pid for r in rep.results}
    assert len(worker_pids) == 2 and os.getpid() not in worker_pids
    dist = open_store(tmp_path / "dist.zarr")
    assert dist.verify() == []

    # the in-process run of the same units, through the extractor's own entry point
    from geneb.extract import embed

    embed(MODELS, tasks, str(tmp_path / "here.zarr"), device="cpu", progress=False)
    here = open_store(tmp_path / "here.zarr")
    _assert_same_store(here, dist)

    # probing: units on the cluster, rows merged here; vs the in-process probe grid
    out_d, out_h = tmp_path / "dist.parquet", tmp_path / "here.parquet"
    tab_d = probe_all(tmp_path / "dist.zarr", out_d, backend="sklearn", dask=client, progress=False)
    run_probes(str(tmp_path / "here.zarr"), out_h, backend="sklearn", progress=False)
    a, b = read_results(out_h), read_results(out_d)
    assert a.height == len(MODELS) * len(tasks) * 3 * 5
    key = ["model", "task", "regime", "seed", "protocol"]
    cols = [c for c in a.columns if c != "fit_seconds"]
    assert a.select(cols).sort(key).equals(b.select(cols).sort(key))
    assert tab_d.sort(key).select(cols).equals(b.select(cols).sort(key))
    pa, pb = read_preds(out_h).sort(key), read_preds(out_d).sort(key)
    assert pa.equals(pb)

    # a second distributed probe run finds nothing to do (incremental like run_probes)
    again = probe_all(tmp_path / "dist.zarr", out_d, backend="sklearn", dask=client, progress=False)
    assert again.select(cols).sort(key).equals(b.select(cols).sort(key))


def _kill_mid_unit(cluster, client, store_path, stop: threading.Event) -> dict:
    """Wait until a worker is writing a half-done pair, then SIGKILL its process (its
    nanny told not to restart it), so the cluster is left with one worker."""
    pids = client.run(os.getpid)
    nannies = {n.worker_address: n for n in cluster.workers.values()}
    killed: dict = {}
    while not stop.is_set():
        try:
            st = open_store(store_path)
            partial = [p for p in st.pairs() if st.status(*p) == "partial"]
        except Exception:  # noqa: BLE001 - the store may not exist yet
            partial = []
        for addr, keys in client.processing().items():
            mine = [(m, t) for m, t in partial if any(f"-{m}-{t}-" in str(k) for k in keys)]
            if mine:
                killed = {"addr": addr, "pid": pids[addr], "pair": mine[0]}
                nannies[addr].close_gracefully(reason="test: worker killed for good")
                os.kill(pids[addr], signal.SIGKILL)
                return killed
        time.sleep(0.02)
    return killed


def test_killed_worker_unit_is_redone_and_store_verifies(tmp_path):
    data = tmp_path / "data"
    tasks = [f"big{i}" for i in range(3)]
    for i, t in enumerate(tasks):
        write_task_csv(data / f"{t}.csv", n_train=6000, n_test=1500, length=400, seed=i)
    store = tmp_path / "s.zarr"
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster, distributed.Client(cluster) as c:
        stop = threading.Event()
        killed: dict = {}
        thread = threading.Thread(target=lambda: killed.update(_kill_mid_unit(cluster, c, store, stop)), daemon=True)
        thread.start()
        try:
            rep = embed_all(store, ["kmer-6"], tasks, dask=c, data_dir=data, device="cpu", progress=False)
        finally:
            stop.set()
            thread.join()
        assert killed, "no worker was killed: the units finished too fast to test"
        assert len(c.scheduler_info()["workers"]) == 1
    rep.raise_for_failures()
    assert {r.pid for r in rep.results}.isdisjoint({killed["pid"]})  # all finished elsewhere
    st = open_store(store)
    assert all(st.status("kmer-6", t) == "complete" for t in tasks)
    assert st.verify() == []
    # the pair that was half written when its worker died resumed to the same bytes
    m, t = killed["pair"]
    from geneb.extract import embed_pair

    embed_pair(str(tmp_path / "ref.zarr"), m, t, data_dir=data, device="cpu")
    ref = open_store(tmp_path / "ref.zarr")
    for split in ("train", "test"):
        np.testing.assert_array_equal(ref.X(m, t, split), st.X(m, t, split))
    redone = next(r for r in rep.results if (r.unit.model, r.unit.task) == (m, t))
    assert redone.value.status == "resumed"  # picked up the dead worker's finished blocks



def test_fsspec_url_store_on_cluster_matches_local_path(client, tmp_path):
    """A store given as an fsspec URL (here fsspec's `local://`, which goes through zarr's
    FsspecStore and the lease locks used for object storage) works the same on a cluster."""
    tasks = _mini_tasks()[:3]
    so = {"auto_mkdir": True}  # fsspec's local file system does not create parents itself
    url = f"local://{tmp_path / 'url.zarr'}"
    rep = embed_all(url, ["kmer-3"], tasks, dask=client, device="cpu", storage_options=so, progress=False)
    rep.raise_for_failures()
    assert rep.counts() == {"embedded": len(tasks)}
    st = open_store(url, storage_options=so)
    assert type(st._kv.zstore).__name__ == "FsspecStore"
    assert st.verify() == []
    embed_all(tmp_path / "path.zarr", ["kmer-3"], tasks, device="cpu", progress=False).raise_for_failures()
    _assert_same_store(open_store(tmp_path / "path.zarr"), st)
    assert not any((tmp_path / "url.zarr.locks").rglob("*.json"))  # every lease released
    tab = probe_all(url, tmp_path / "url.parquet", backend="sklearn", dask=client, storage_options=so,
                    progress=False)
    assert tab.height == len(tasks) * 15 and tab["mcc"].is_finite().all()


def test_user_model_specs_travel_to_workers(client, tmp_path):
    """A model the workers' catalog does not know (declared in a model file on the client,
    or a path: model) is embedded from the spec the client resolved."""
    import dataclasses

    from geneb.catalog import get_model

    spec = dataclasses.replace(get_model("kmer-3"), model_id="my-kmer", display="user k-mer")
    with pytest.raises(KeyError):
        client.submit(get_model, "my-kmer", pure=False).result()  # unknown on the workers
    tasks = _mini_tasks()[:2]
    rep = embed_all(tmp_path / "u.zarr", [spec], tasks, dask=client, device="cpu", progress=False)
    rep.raise_for_failures()
    st = open_store(tmp_path / "u.zarr")
    assert sorted(st.pairs()) == sorted(("my-kmer", t) for t in tasks)
    assert st.cache_key("my-kmer", tasks[0])["model_id"] == "my-kmer"


@pytest.mark.slow
def test_neural_model_on_cluster_is_bit_identical_to_in_process(client, tmp_path):
    """A random-init transformer (torch, one thread per worker) embedded on the cluster
    gives the same stored bytes as in this process."""
    from geneb.extract import embed

    tasks = _mini_tasks()[:4]
    rep = embed_all(tmp_path / "d.zarr", ["random-bert-xs"], tasks, dask=client, device="cpu", progress=False)
    rep.raise_for_failures()
    embed(["random-bert-xs"], tasks, str(tmp_path / "h.zarr"), device="cpu", progress=False)
    _assert_same_store(open_store(tmp_path / "h.zarr"), open_store(tmp_path / "d.zarr"))


def test_repair_on_the_cluster_reembeds_only_the_damaged_pairs(client, tmp_path):
    """`embed --repair --dask`: each worker verifies its pair; a flipped shard byte and a
    deleted label chunk are re-embedded, healthy pairs are skipped, and the store ends
    equal to the undamaged one."""
    import shutil

    tasks = _mini_tasks()[:3]
    pristine = tmp_path / "pristine.zarr"
    embed_all(pristine, ["kmer-3"], tasks, device="cpu", progress=False).raise_for_failures()
    work = tmp_path / "work.zarr"
    shutil.copytree(pristine, work)
    shard = sorted(p for p in (work / "kmer-3" / tasks[0] / "train" / "X" / "c").rglob("*") if p.is_file())[0]
    raw = bytearray(shard.read_bytes())
    raw[len(raw) // 3] ^= 0x10
    shard.write_bytes(bytes(raw))
    label_chunk = sorted(p for p in (work / "kmer-3" / tasks[1] / "test" / "y").rglob("*") if p.is_file()
                         and p.name != "zarr.json")[0]
    label_chunk.unlink()
    assert len({p.task for p in open_store(work).verify()}) == 2
    rep = embed_all(work, ["kmer-3"], tasks, dask=client, device="cpu", repair=True, progress=False)
    rep.raise_for_failures()
    status = {r.unit.task: r.value.status for r in rep.results}
    assert status == {tasks[0]: "embedded", tasks[1]: "embedded", tasks[2]: "skipped"}
    st = open_store(work)
    assert st.verify() == []
    _assert_same_store(open_store(pristine), st)
