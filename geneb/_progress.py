"""Progress for long work: a tqdm bar on a terminal, a plain line every so often elsewhere.

tqdm redraws by writing carriage returns; in a log file or a CI console that is one line per
refresh (100 KB for `make all`). Off a terminal, `progress_bar` prints one line per
`GENEB_PROGRESS_SECONDS` (default 30) and one when the work ends.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any


class LineProgress:
    """The part of tqdm's interface geneb uses, printing plain periodic lines."""

    def __init__(self, total: int, desc: str, unit: str, every: float, stream: Any = None) -> None:
        self.total, self.desc, self.unit, self.every = total, desc, unit, every
        self.n = 0
        self.postfix = ""
        self.stream = stream or sys.stderr
        self._t0 = self._last = time.monotonic()
        self._closed = False

    def update(self, n: int = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            self._print()

    def set_postfix_str(self, s: str, refresh: bool = True) -> None:
        self.postfix = s

    def _print(self, final: bool = False) -> None:
        el = time.monotonic() - self._t0
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        rate = f", {self.n / el:,.1f} {self.unit}/s" if el > 0 and self.n else ""
        extra = f", {self.postfix}" if self.postfix else ""
        done = " done" if final else ""
        print(f"{self.desc}: {self.n:,}/{self.total:,} {self.unit}{pct}{done} in {el:,.0f} s{rate}{extra}",
              file=self.stream, flush=True)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            if self.n:
                self._print(final=True)

    def __iter__(self):  # pragma: no cover - used by wrap()
        raise TypeError("use progress_iter() to wrap an iterable")


def _interval() -> float:
    try:
        return max(float(os.environ.get("GENEB_PROGRESS_SECONDS", "30")), 0.0)
    except ValueError:
        return 30.0


def progress_bar(total: int, desc: str, unit: str = "it", enabled: bool = True, **tqdm_kw: Any) -> Any:
    """A tqdm bar on a terminal, a `LineProgress` elsewhere, a silent one when disabled."""
    from tqdm.auto import tqdm

    if not enabled:
        return tqdm(total=total, disable=True)
    if sys.stderr.isatty():
        return tqdm(total=total, desc=desc, unit=unit, dynamic_ncols=True, **tqdm_kw)
    return LineProgress(total, desc, unit, _interval())


def progress_iter(items: list[Any], desc: str, unit: str = "it", enabled: bool = True):
    """Iterate `items` with `progress_bar` progress."""
    bar = progress_bar(len(items), desc, unit, enabled)
    try:
        for x in items:
            yield x
            bar.update(1)
    finally:
        bar.close()
