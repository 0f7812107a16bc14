"""Run (model, task) units in-process or on a Dask cluster (the ``dist`` extra).

Importing this package imports neither dask nor distributed: only a run with
``dask=...`` does, so everything else works without the extra installed.
"""

from __future__ import annotations

from .._lazy import lazy_exports

_LAZY = {
    "Unit": "geneb.dist.units",
    "UnitResult": "geneb.dist.units",
    "embed_units": "geneb.dist.units",
    "probe_units": "geneb.dist.units",
    "run_embed_unit": "geneb.dist.units",
    "run_probe_unit": "geneb.dist.units",
    "run_units": "geneb.dist.executor",
    "ClusterError": "geneb.dist.cluster",
    "connect": "geneb.dist.cluster",
    "local_cluster": "geneb.dist.cluster",
    "RunReport": "geneb.dist.drivers",
    "embed_all": "geneb.dist.drivers",
    "probe_all": "geneb.dist.drivers",
    "measure_peak_rss": "geneb.dist.peakmem",
    "PeakRSS": "geneb.dist.peakmem",
    "release_adapters": "geneb.dist.units",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())


__all__ = sorted(_LAZY)
