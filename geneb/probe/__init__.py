"""Probes over stored embeddings: the exact GENEB protocol (`geneb-v1`) and named
variants (`geneb-robust`, `geneb-mlp`), backends (sklearn reference, batched torch,
cuML), the results table, and the GENEB submission export.

Importing this package needs neither torch nor cuML; backends load them on use."""

from .backends import BACKENDS, get_backend, resolve_backend_name
from .errors import ProbeError, ProbeSkip
from .grid import GridReport, run_probes
from .metrics import score
from .pair import probe_pair
from .sampling import few_shot_indices
from .submission import SubmissionError, export_submission, validate_submission
from .table import RESULT_SCHEMA, preds_path, read_preds, read_results
from .unit import probe_arrays

__all__ = [
    "BACKENDS", "GridReport", "ProbeError", "ProbeSkip", "RESULT_SCHEMA", "few_shot_indices",
    "get_backend", "preds_path", "probe_arrays", "probe_pair", "read_preds", "read_results",
    "resolve_backend_name", "run_probes", "score", "SubmissionError", "export_submission",
    "validate_submission",
]
