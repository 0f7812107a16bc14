"""`geneb embed` (not built yet: see the open issues)."""

from __future__ import annotations


def register(sub) -> None:
    p = sub.add_parser("embed", help="(embed: not built yet)")
    p.set_defaults(func=_run)


def _run(args) -> int:
    from . import CLIError

    raise CLIError("'geneb embed' is not built yet")
