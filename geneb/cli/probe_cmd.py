"""`geneb probe` (not built yet: see the open issues)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("probe", help="(probe: not built yet)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from . import CLIError

    raise CLIError("'geneb probe' is not built yet")
