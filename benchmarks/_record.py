"""What every benchmark record names: the machine and the library versions."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path

#: Distributions whose versions a record lists by default.
VERSIONED = ("geneb", "numpy", "zarr", "numcodecs", "polars", "pyarrow", "scikit-learn", "scipy",
             "torch", "transformers", "dask", "distributed")


def machine() -> str:
    """Host: CPU model, cores, RAM, GPUs (nvidia-smi) and OS."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        ram = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"
    except (ValueError, OSError, AttributeError):
        ram = "RAM unknown"
    gpu = "no GPU"
    try:
        names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=20, check=True).stdout.split("\n")
        names = [g.strip() for g in names if g.strip()]
        if names:
            gpu = f"{len(names)} x {names[0]}"
    except (OSError, subprocess.SubprocessError):
        pass
    return (f"{platform.node()}: {cpu}, {os.cpu_count()} cores, {ram}, {gpu}, "
            f"{platform.system()} {platform.release()}")


def versions(dists: tuple[str, ...] = VERSIONED, blas: bool = False) -> str:
    """`python X, numpy Y, ...` for the installed distributions (missing ones as `-`);
    with `blas`, the BLAS/OpenMP libraries and their thread counts (threadpoolctl)."""
    from importlib.metadata import PackageNotFoundError, version

    out = [f"python {platform.python_version()}"]
    for dist in dists:
        try:
            out.append(f"{dist} {version(dist)}")
        except PackageNotFoundError:
            out.append(f"{dist} -")
    if blas:
        from threadpoolctl import threadpool_info

        out += sorted({f"{i['internal_api']} {i.get('version') or ''} ({i['num_threads']} threads)".strip()
                       for i in threadpool_info()})
    return ", ".join(out)


def load_avg() -> str:
    """1-minute load average: shared cores make timings depend on it."""
    return f"{os.getloadavg()[0]:.1f}" if hasattr(os, "getloadavg") else "?"
