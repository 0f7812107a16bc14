"""One error root: every exception class geneb defines derives from GenebError, through
the user-error branch (exit 2, never retried) or the transient branch (retried; a busy
lock); the CLI and the Dask units decide by class, and a bug that is neither shows its
traceback."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import geneb
from geneb.errors import GenebError, TransientError, UserError, is_transient, is_user_error


def _geneb_exception_classes():
    out = {}
    for info in pkgutil.walk_packages(geneb.__path__, "geneb."):
        if info.name.endswith("__main__"):
            continue
        try:
            mod = importlib.import_module(info.name)
        except ImportError:  # an optional extra not installed here
            continue
        for _, obj in inspect.getmembers(mod, inspect.isclass):
            if issubclass(obj, BaseException) and obj.__module__.startswith("geneb"):
                out[f"{obj.__module__}.{obj.__qualname__}"] = obj
    return out


def test_every_geneb_exception_has_the_root():
    classes = _geneb_exception_classes()
    assert len(classes) >= 15
    stray = sorted(n for n, c in classes.items() if not issubclass(c, GenebError))
    assert not stray, f"exception classes outside the GenebError root: {stray}"
    for name, c in classes.items():
        if c not in (GenebError, UserError, TransientError):
            assert issubclass(c, (UserError, TransientError)), name


def test_branches_and_precedence():
    from geneb.store import CorruptData, LockBusy, StoreError

    busy = LockBusy("m/t is being written")
    assert is_transient(busy) and not is_user_error(busy) and isinstance(busy, StoreError)
    assert is_user_error(CorruptData("x")) and isinstance(CorruptData("x"), RuntimeError)


def test_dask_units_retry_transient_errors_only():
    from geneb.dist.units import is_permanent
    from geneb.probe import ProbeError
    from geneb.store import LockBusy

    assert is_permanent(ProbeError("bad pair")) and not is_permanent(LockBusy("busy"))
    assert not is_permanent(OSError("nfs hiccup"))


def test_cli_exit_codes_by_class(monkeypatch, capsys):
    import geneb.cli as cli
    from geneb.store import LockBusy

    def run_with(exc):
        def boom(args):
            raise exc
        parser = cli.build_parser()
        real = parser.parse_args

        def parse(argv):
            ns = real(argv)
            ns.func = boom
            return ns
        monkeypatch.setattr(parser, "parse_args", parse)
        monkeypatch.setattr(cli, "build_parser", lambda: parser)
        return cli.main(["models"])

    assert run_with(cli.CLIError("no such thing")) == 2
    assert "error: no such thing" in capsys.readouterr().err
    assert run_with(LockBusy("m/t is being written by pid 1")) == 3
    assert "try again" in capsys.readouterr().err
    with pytest.raises(ZeroDivisionError):  # a bug is not a user error: its traceback shows
        run_with(ZeroDivisionError("division by zero"))
    for bug in (ValueError("operands could not be broadcast"), KeyError("x"), RuntimeError("CUDA error")):
        with pytest.raises(type(bug)):  # builtin errors are bugs too: decided by class, not caught
            run_with(bug)
    from geneb.errors import InvalidArgument, MissingFile

    assert run_with(InvalidArgument("--jobs must be >= 1")) == 2
    assert run_with(MissingFile("no such results table")) == 2
    assert run_with(FileNotFoundError(2, "No such file or directory", "x.parquet")) == 2  # a path the user named


def test_geneb_raises_no_bare_builtin_for_bad_input():
    """Raise sites use geneb's classes (InvalidArgument is still a ValueError); the builtin
    ones left are internal invariants, where a violation is a bug with its traceback."""
    import re
    from pathlib import Path

    allowed = {"store/halfcast.py", "store/shards.py", "extract/compat/__init__.py", "extract/compat/helpers.py",
               "extract/compat/remote.py", "extract/pooling.py", "extract/preflight.py", "dist/peakmem.py",
               "probe/backends/torch_backend.py", "extract/adapters/dnabert2.py"}
    root = Path(geneb.__file__).parent
    bare = re.compile(r"raise (ValueError|KeyError|RuntimeError|FileNotFoundError|ImportError|TimeoutError)\(")
    found = [f"{p.relative_to(root)}:{i}" for p in root.rglob("*.py") if str(p.relative_to(root)) not in allowed
             for i, line in enumerate(p.read_text().splitlines(), 1) if bare.search(line)]
    assert not found, f"bare builtin raises (use geneb.errors): {found}"
