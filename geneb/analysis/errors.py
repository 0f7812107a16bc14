"""The one exception the analysis half raises for problems a user can fix."""

from __future__ import annotations

from ..errors import UserError


class AnalysisError(UserError, ValueError):
    """Bad input to an analysis (a results file, a submission, a filter, a parameter).

    The message names the file, record or option at fault."""
