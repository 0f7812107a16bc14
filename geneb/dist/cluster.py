"""Connect to a Dask cluster from a ``--dask`` value: ``local[:N]``, an address, or a
scheduler file. Kept apart from the executor so that importing the executor never
imports ``distributed``; only a run that asks for Dask pays for it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import subprocess
from collections.abc import Iterator
from typing import Any

from ..errors import InvalidArgument, UserError

log = logging.getLogger(__name__)

#: Resource name GPU units ask for; workers declare it with ``--resources GPU=1``.
GPU_RESOURCE = "GPU"


class ClusterError(UserError, RuntimeError):
    """The cluster cannot run the requested units (no Dask, no workers, no GPU workers)."""


def require_distributed() -> Any:
    """Import ``distributed`` or explain which extra installs it."""
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - exercised without the extra installed
        raise ClusterError(
            "--dask needs dask.distributed: pip install 'geneb[dist]' (or drop --dask to run in-process)"
        ) from exc
    return distributed


def detect_gpus() -> list[str]:
    """GPU ids visible to this process, without importing torch: ``CUDA_VISIBLE_DEVICES``
    when set, else one id per line of ``nvidia-smi -L``, else none."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        return [g.strip() for g in env.split(",") if g.strip() and g.strip() != "-1"]
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=20, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines()) if line.startswith("GPU ")]


def parse_local(spec: str) -> int | None | bool:
    """``local`` -> None (default worker count), ``local:3`` -> 3, anything else -> False."""
    if spec == "local":
        return None
    if spec.startswith("local:"):
        n = spec.split(":", 1)[1]
        if not n.isdigit() or int(n) < 1:
            raise InvalidArgument(f"--dask {spec!r}: expected local or local:N with N >= 1 workers")
        return int(n)
    return False


def _thread_env(threads: int) -> dict[str, str]:
    """Compute threads for one worker process (Dask's nanny sets 1 by default)."""
    t = str(max(1, threads))
    return {"OMP_NUM_THREADS": t, "MKL_NUM_THREADS": t, "OPENBLAS_NUM_THREADS": t}


def local_cluster(
    n_workers: int | None = None,
    gpus: list[str] | None = None,
    memory_limit: str | float | int | None = "auto",
    dashboard_address: str | None = ":0",
) -> Any:
    """A cluster on this machine, one worker process per unit slot.

    With GPUs (``gpus`` or detected): one worker per GPU, each pinned to its device by
    ``CUDA_VISIBLE_DEVICES`` and declaring ``GPU=1``, plus ``n_workers`` CPU-only workers
    if given. Without: ``n_workers`` CPU workers (default: cores, at most 4). Each worker
    runs one unit at a time (one Dask thread, so it holds one pair's arrays) and gives
    torch/BLAS its share of the cores; ``memory_limit="auto"`` gives each worker its
    share of the RAM (Dask's own "auto" would scale it by threads/cores instead).
    """
    distributed = require_distributed()
    gpus = detect_gpus() if gpus is None else list(gpus)
    cores = os.cpu_count() or 1
    n_cpu = (n_workers or max(1, min(cores, 4))) if not gpus else (n_workers or 0)
    total = len(gpus) + n_cpu
    mem = 1.0 / total if memory_limit == "auto" else memory_limit
    env = _thread_env(cores // total)
    if not gpus:
        log.info("starting a LocalCluster with %d CPU worker process(es)", n_cpu)
        return distributed.LocalCluster(
            n_workers=n_cpu,
            threads_per_worker=1,
            processes=True,
            memory_limit=mem,
            dashboard_address=dashboard_address,
            env=env,
        )
    from distributed import Nanny, Scheduler, SpecCluster

    workers: dict[str, dict[str, Any]] = {}
    for gid in gpus:
        workers[f"gpu-{gid}"] = {
            "cls": Nanny,
            "options": {"nthreads": 1, "resources": {GPU_RESOURCE: 1}, "memory_limit": mem,
                        "env": {**env, "CUDA_VISIBLE_DEVICES": gid}},
        }
    for i in range(n_cpu):
        workers[f"cpu-{i}"] = {
            "cls": Nanny,
            "options": {"nthreads": 1, "memory_limit": mem, "env": {**env, "CUDA_VISIBLE_DEVICES": ""}},
        }
    log.info("starting a local cluster: %d GPU worker(s) %s, %d CPU worker(s)", len(gpus), gpus, n_cpu)
    return SpecCluster(
        workers=workers,
        scheduler={"cls": Scheduler, "options": {"dashboard_address": dashboard_address}},
        name="geneb-local",
    )


@contextlib.contextmanager
def connect(dask: Any, n_workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client`` for ``dask``: an existing Client, ``"local"``/``"local:N"``
    (a LocalCluster started and closed here), a scheduler-file path, or an address
    (``tcp://host:8786``, ``host:8786``)."""
    distributed = require_distributed()
    if isinstance(dask, distributed.Client):
        yield dask
        return
    spec = str(dask)
    local = parse_local(spec)
    if local is not False:
        cluster = local_cluster(n_workers=local or n_workers)
        try:
            with distributed.Client(cluster) as client:
                log.info("local Dask cluster up; dashboard: %s", client.dashboard_link)
                yield client
        finally:
            cluster.close()
        return
    if spec.endswith(".json") and os.path.isfile(spec):
        client = distributed.Client(scheduler_file=spec)
    else:
        import dask

        try:  # Dask's connect timeout (30 s unless configured) bounds the wait
            client = distributed.Client(spec, timeout=dask.config.get("distributed.comm.timeouts.connect"))
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {spec!r}: {exc}") from exc
    try:
        yield client
    finally:
        client.close()


def worker_resources(client: Any) -> dict[str, dict[str, float]]:
    """Each worker's declared resources, by worker address."""
    info = client.scheduler_info(n_workers=-1) if _accepts_n_workers(client) else client.scheduler_info()
    return {addr: dict(w.get("resources") or {}) for addr, w in info.get("workers", {}).items()}


def _accepts_n_workers(client: Any) -> bool:
    import inspect

    try:
        return "n_workers" in inspect.signature(client.scheduler_info).parameters
    except (TypeError, ValueError):  # pragma: no cover
        return False
