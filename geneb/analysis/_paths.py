"""Expanding the paths a user names (files, directories, lists of both) into input files."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from .errors import AnalysisError

PathLike = str | Path


def as_paths(x: PathLike | Iterable[PathLike] | None) -> list[Path]:
    """One path or many (None = none) as a list of Paths."""
    if x is None:
        return []
    if isinstance(x, str | Path):
        return [Path(x)]
    return [Path(p) for p in x]


def expand_files(paths: PathLike | Iterable[PathLike], pattern: str, kind: str,
                 keep: Callable[[Path], bool] = lambda _: True) -> list[Path]:
    """Files as given; each directory as its sorted `pattern` matches that `keep` accepts.
    A directory with none, or a path that does not exist, is an error naming it and `kind`."""
    out: list[Path] = []
    for p in as_paths(paths):
        if p.is_dir():
            found = sorted(f for f in p.glob(pattern) if keep(f))
            if not found:
                raise AnalysisError(f"{p}: no {pattern} {kind} files in this directory")
            out.extend(found)
        elif p.is_file():
            out.append(p)
        else:
            raise AnalysisError(f"{p}: {kind} file or directory not found")
    return out
