"""Figures, tables and the static HTML leaderboard built from a `geneb.analysis.Analysis`."""

from .figures import FIGURES, make_figures
from .html import build_report, render_report
from .write import write_analysis

__all__ = ["FIGURES", "make_figures", "build_report", "render_report", "write_analysis"]
