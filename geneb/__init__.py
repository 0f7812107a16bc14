"""geneb: make genomic (DNA) foundation models comparable.

Extract frozen embeddings once into a versioned Zarr store (`geneb.extract`, needs
torch), then probe and analyse them many times (`geneb.probe`, `geneb.analysis`,
`geneb.report`, no torch). The public API is re-exported here; heavy modules load lazily.
"""

from __future__ import annotations

from ._lazy import lazy_exports

__version__ = "0.1.0"

_LAZY = {
    # catalog
    "get_model": "geneb.catalog",
    "get_task": "geneb.catalog",
    "get_benchmark": "geneb.catalog",
    "get_protocol": "geneb.catalog",
    "all_models": "geneb.catalog",
    "all_tasks": "geneb.catalog",
    "ModelSpec": "geneb.catalog",
    "TaskSpec": "geneb.catalog",
    # data
    "load_task": "geneb.data",
    "TaskData": "geneb.data",
    # store
    "open_store": "geneb.store",
    "make_cache_key": "geneb.store",
    # extract
    "embed": "geneb.extract",
    "embed_pair": "geneb.extract",
    # probe
    "run_probes": "geneb.probe",
    "probe_pair": "geneb.probe",
    "export_submission": "geneb.probe",
    "validate_submission": "geneb.probe",
    # analysis and report
    "load_results": "geneb.analysis",
    "run_analysis": "geneb.analysis",
    "build_report": "geneb.report",
    # distributed execution
    "embed_all": "geneb.dist",
    "probe_all": "geneb.dist",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())
