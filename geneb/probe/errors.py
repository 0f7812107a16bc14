"""Probe errors. `ProbeSkip` marks a unit that cannot be probed by design (e.g. a
single-class train split): the grid reports and skips it instead of failing."""

from __future__ import annotations

from ..errors import UserError


class ProbeError(UserError, ValueError):
    """A (model, task) unit cannot be probed as asked; the message names it."""


class ProbeSkip(ProbeError):
    """A (model, task) unit that is explicitly skipped (reported, never silently scored)."""
