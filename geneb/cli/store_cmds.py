"""`geneb store` (not built yet: see the open issues)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("store", help="(store: not built yet)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from . import CLIError

    raise CLIError("'geneb store' is not built yet")
