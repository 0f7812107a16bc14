"""Kill -9 during `geneb embed`, rerun: the store ends bit-identical to an uninterrupted run."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from _tiny_models import write_task  # noqa: E402

from geneb.extract import embed  # noqa: E402
from geneb.store import open_store  # noqa: E402

MODEL, TASK = "random-bert-xs", "killme"


def _cmd(data_dir, store) -> list[str]:
    return [sys.executable, "-m", "geneb", "embed", "--models", MODEL, "--data", str(data_dir),
            "--tasks", TASK, "--store", str(store), "--device", "cpu", "--block-rows", "16",
            "--token-budget", "4000", "--threads", "1", "--no-progress"]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}


def _done(store) -> tuple[int, int]:
    try:
        st = open_store(store)
        if st.status(MODEL, TASK) == "missing":
            return 0, 1
        flags = st.done_blocks(MODEL, TASK, "train")
        return sum(flags), len(flags)
    except Exception:  # noqa: BLE001 - store still being created
        return 0, 1


@pytest.mark.slow  # two fresh interpreters import torch + transformers (~10 s each on 2 cores)
def test_kill_9_then_rerun_is_bit_identical(tmp_path):
    data = tmp_path / "data"
    write_task(data, TASK, 240, 24, min_len=200, max_len=500, seed=7)
    killed = tmp_path / "killed.zarr"
    proc = subprocess.Popen(_cmd(data, killed), env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            done, total = _done(killed)
            if done >= 2:
                break
            if proc.poll() is not None:
                pytest.fail(f"embed finished before it could be killed: {proc.stderr.read().decode()[-2000:]}")
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    done, total = _done(killed)
    assert 0 < done < total, (done, total)
    assert open_store(killed).status(MODEL, TASK) == "partial"

    rerun = subprocess.run(_cmd(data, killed), env=_env(), capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed" in rerun.stdout

    clean = tmp_path / "clean.zarr"  # uninterrupted, in this process, same settings
    torch.set_num_threads(1)
    embed([MODEL], [TASK], clean, data_dir=data, device="cpu", token_budget=4000, block_rows=16,
          progress=False)
    a, b = open_store(killed), open_store(clean)
    assert a.status(MODEL, TASK) == b.status(MODEL, TASK) == "complete"
    for split in ("train", "test"):
        xa, xb = a.X(MODEL, TASK, split), b.X(MODEL, TASK, split)
        assert xa.shape == xb.shape and xa.tobytes() == xb.tobytes()
        np.testing.assert_array_equal(a.y(MODEL, TASK, split), b.y(MODEL, TASK, split))
    assert a.verify() == []
