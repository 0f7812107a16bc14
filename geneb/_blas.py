"""Capping BLAS threads around a computation (threadpoolctl, which scikit-learn ships),
for the probe's fits and the analysis's resampling alike."""

from __future__ import annotations

from typing import Any

from .errors import InvalidArgument

_controller: tuple[int, Any] | None = None


def blas_limit(threads: int | None) -> Any:
    """A context that caps BLAS threads at ``threads`` (None: leave them as they are).
    The thread-pool scan (~2.5 ms) is done once per process and redone only when modules
    were imported since (a library loaded later, e.g. by torch, is then found too)."""
    global _controller
    from contextlib import nullcontext

    if threads is None:
        return nullcontext()
    if threads < 1:
        raise InvalidArgument(f"blas_threads must be >= 1 (or None to leave them as they are), got {threads}")
    import sys

    from threadpoolctl import ThreadpoolController

    if _controller is None or _controller[0] != len(sys.modules):
        _controller = (len(sys.modules), ThreadpoolController())
    return _controller[1].limit(limits=threads, user_api="blas")
