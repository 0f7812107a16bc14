"""`make embed`'s command on the built-in default: geneb-mini with the default models into a
fresh store, then `geneb store verify` passes (about 2 minutes on 2 cores: slow)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")


@pytest.mark.slow
def test_default_embed_on_geneb_mini_verifies(tmp_path):
    from geneb.catalog import default_models, get_benchmark
    from geneb.store import open_store

    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    store = tmp_path / "default.zarr"
    r = subprocess.run([sys.executable, "-m", "geneb", "embed", "--benchmark", "geneb-mini", "--models",
                        "default", "--store", str(store), "--device", "auto", "--no-progress"],
                       env=env, capture_output=True, text=True, timeout=1800)
    assert r.returncode == 0, r.stderr[-3000:]
    n_pairs = len(default_models()) * len(get_benchmark("geneb-mini").task_ids)
    assert f"{n_pairs} embedded" in r.stdout
    v = subprocess.run([sys.executable, "-m", "geneb", "store", "verify", "--store", str(store)],
                       capture_output=True, text=True, timeout=600)
    assert v.returncode == 0, v.stdout + v.stderr
    st = open_store(store)
    assert len(st.pairs(status="complete")) == n_pairs
    again = subprocess.run([sys.executable, "-m", "geneb", "embed", "--benchmark", "geneb-mini", "--models",
                            "default", "--store", str(store), "--no-progress"],
                           env=env, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0 and f"{n_pairs} skipped" in again.stdout
