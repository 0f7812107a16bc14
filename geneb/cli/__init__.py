"""The `geneb` command. Each area registers its subcommands from its own module, and
imports its heavy dependencies only inside the handler, so `geneb --help` stays fast."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from .. import __version__
from ..errors import TransientError, UserError

#: Modules under geneb.cli that each define `register(subparsers)`.
COMMAND_MODULES = ("catalog_cmds", "data_cmds", "store_cmds", "embed_cmd", "probe_cmd", "analyze_cmd")


class CLIError(UserError):
    """An error to print without a traceback (exit code 2)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geneb",
        description="Make genomic foundation models comparable: embed once into a Zarr store, "
        "then probe, analyse and report (GENEB protocol).",
    )
    parser.add_argument("--version", action="version", version=f"geneb {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging (-vv for debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        importlib.import_module(f"{__name__}.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)  # what was typed (presets yield to it)
    logging.basicConfig(
        level=logging.WARNING - 10 * min(args.verbose, 2),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        rc = args.func(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `geneb models | head`
        sys.stderr.close()
        return 0
    except TransientError as exc:  # e.g. a lock held by another writer: try again later
        if args.verbose >= 2:
            raise
        print(f"geneb {args.command}: error (try again): {exc}", file=sys.stderr)
        return 3
    # geneb's user errors (decided by class), and the OS's about paths the user named;
    # anything else is a bug and shows its traceback
    except (UserError, FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError) as exc:
        if args.verbose >= 2:
            raise
        msg = exc
        print(f"geneb {args.command}: error: {msg}", file=sys.stderr)
        return 2
    return int(rc or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
