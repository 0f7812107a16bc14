"""Peak resident memory of a piece of code, measured in a fresh Python process.

Used by the memory-bound tests and by the benchmarks. The child runs ``setup`` (imports,
opening files), then resets the kernel's peak-RSS mark (Linux ``/proc/self/clear_refs``)
and runs ``body``; the reported ``peak_delta`` is the peak above the resident size at
that point, so import costs do not hide (or fake) the growth under test. Where the reset
is not available, a sampling thread records the peak instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from dataclasses import dataclass

_CHILD = r'''
import json, os, sys, threading, time

def _status_kb(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None

def _rss_kb():
    v = _status_kb("VmRSS")
    if v is not None:
        return v
    import psutil
    return psutil.Process().memory_info().rss // 1024

#@SETUP@#

_base = _rss_kb()
_hwm_reset = False
try:
    if _FORCE_SAMPLING:
        raise OSError("sampling requested")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    _hwm_reset = _status_kb("VmHWM") is not None
except OSError:
    pass
_peak = [_base]
_stop = threading.Event()
def _sample():
    while not _stop.is_set():
        _peak[0] = max(_peak[0], _rss_kb())
        time.sleep(0.005)
_thr = None
if not _hwm_reset:
    _thr = threading.Thread(target=_sample, daemon=True)
    _thr.start()
_t0 = time.perf_counter()

#@BODY@#

_secs = time.perf_counter() - _t0
if _hwm_reset:
    _pk = _status_kb("VmHWM")
else:
    _stop.set(); _thr.join()
    _pk = max(_peak[0], _rss_kb())
_out = {"base_kb": _base, "peak_kb": _pk, "seconds": _secs, "method": "hwm" if _hwm_reset else "sampling"}
_res = globals().get("RESULT")
if _res is not None:
    _out["result"] = _res
sys.stdout.write("\n@@PEAKMEM@@" + json.dumps(_out) + "\n")
'''


@dataclass(frozen=True)
class PeakRSS:
    """Resident memory of a child run, in bytes; ``result`` is whatever ``body`` left in
    the global ``RESULT`` (JSON-serialisable)."""

    base: int
    peak: int
    seconds: float
    method: str
    result: object = None

    @property
    def delta(self) -> int:
        """Peak above the resident size before ``body`` ran."""
        return max(0, self.peak - self.base)


def measure_peak_rss(
    body: str,
    setup: str = "",
    env: dict[str, str] | None = None,
    timeout: float = 600.0,
    method: str = "auto",
) -> PeakRSS:
    """Run ``setup`` then ``body`` (Python source) in a new interpreter and return the
    peak resident memory while ``body`` ran. ``method``: ``auto`` (kernel peak mark where
    it can be reset, else sampling) or ``sampling`` (a 5 ms RSS sampler; may miss spikes
    shorter than that). Raises ``RuntimeError`` with the child's stderr if it fails."""
    if method not in ("auto", "sampling"):
        raise ValueError(f"method must be 'auto' or 'sampling', got {method!r}")
    code = f"_FORCE_SAMPLING = {method == 'sampling'}\n" + _CHILD.replace("#@SETUP@#", textwrap.dedent(setup)).replace("#@BODY@#", textwrap.dedent(body))
    child_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=child_env, timeout=timeout
    )
    marker = "@@PEAKMEM@@"
    if proc.returncode != 0 or marker not in proc.stdout:
        raise RuntimeError(f"memory probe failed (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    doc = json.loads(proc.stdout.rsplit(marker, 1)[1].strip().splitlines()[0])
    return PeakRSS(
        base=doc["base_kb"] * 1024,
        peak=doc["peak_kb"] * 1024,
        seconds=float(doc["seconds"]),
        method=doc["method"],
        result=doc.get("result"),
    )
