"""The GENEB submission format (one JSON file per model, the official leaderboard's input):
the constants both its writer (`geneb.probe.submission`) and its reader
(`geneb.analysis.submissions`) follow, as the official `tools/validate_submission.py`
defines them."""

from __future__ import annotations

import re

#: ``schema_version`` written into submissions.
SUBMISSION_SCHEMA_VERSION = "1.0"
#: The leaderboard's protocol: only its rows are exported, and submissions read as it.
LEADERBOARD_PROTOCOL = "geneb-v1"
#: Results column -> the metric key of a submission's per-task scores.
METRIC_NAMES: tuple[tuple[str, str], ...] = (("mcc", "MCC"), ("acc", "Acc"), ("f1", "F1"))
PROVENANCES = ("official", "verified", "reproduced", "self-reported")
META_FIELDS = ("display", "params", "url", "zero_shot", "training_data", "provenance", "submitted_by")

_BAD_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def submission_filename(model_id: str) -> str:
    """The validator's file name: the model id with every character outside
    ``A-Za-z0-9._-`` replaced by ``_``, plus ``.json``."""
    return _BAD_CHARS.sub("_", model_id) + ".json"
