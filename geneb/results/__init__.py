"""The results contracts, defined once: the results table and its predictions side file
(`geneb.probe` writes them, `geneb.analysis` reads them) here, and the GENEB submission
format (`geneb export-submission` writes it, the analysis and the leaderboard read it) in
`geneb.results.submission`.

A neutral layer: it imports nothing from the rest of geneb, so the writer and the
readers cannot drift apart (before, each half had its own copy). Documented in
docs/contracts.md.
"""

from . import submission
from .schema import (
           OPTIONAL_COLUMNS,
           PRED_SCHEMA,
           REQUIRED_COLUMNS,
           RESULT_SCHEMA,
           RESULTS_FORMAT_VERSION,
           ROW_KEY,
)

__all__ = ["OPTIONAL_COLUMNS", "PRED_SCHEMA", "REQUIRED_COLUMNS", "RESULTS_FORMAT_VERSION", "RESULT_SCHEMA", "ROW_KEY",
           "submission"]
