"""Progress off a terminal is a few plain lines, not a flood of carriage returns."""

from __future__ import annotations

import io

from geneb._progress import LineProgress, progress_bar
from geneb.cli._table import _fmt


def test_line_progress_prints_periodic_plain_lines():
    out = io.StringIO()
    bar = LineProgress(1000, "m | t", "seq", every=0.0, stream=out)
    for _ in range(3):
        bar.update(100)
    bar.set_postfix_str("12 seq/s")
    bar.close()
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 4 and "\r" not in out.getvalue()
    assert lines[-1].startswith("m | t: 300/1,000 seq (30%) done in ") and lines[-1].endswith("12 seq/s")


def test_rare_lines_when_the_interval_is_long(capsys):
    bar = LineProgress(10, "x", "it", every=3600.0)
    for _ in range(10):
        bar.update(1)
    bar.close()
    assert len(capsys.readouterr().err.splitlines()) == 1  # only the final line


def test_progress_bar_is_plain_off_a_terminal_and_silent_when_disabled(capsys):
    assert isinstance(progress_bar(5, "x", "it", True), LineProgress)  # pytest's stderr is no TTY
    quiet = progress_bar(5, "x", "it", False)
    quiet.update(5)
    quiet.close()
    assert capsys.readouterr().err == ""


def test_numbers_print_plainly():
    assert _fmt(30920.4) == "30,920" and _fmt(0.123456) == "0.1235" and _fmt(12.5) == "12.5"
