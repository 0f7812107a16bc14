"""Sequence and label validation: normalise DNA, or fail naming the file, row and character."""

from __future__ import annotations

import re

import numpy as np

from ..errors import UserError

_INT = re.compile(r"^[+-]?[0-9]+$")

# IUPAC ambiguity codes become N; U (RNA) becomes T; everything is upper-cased.
_AMBIGUOUS = "RYSWKMBDHVN"
_TRANS = str.maketrans({**{c: "N" for c in _AMBIGUOUS}, "U": "T"})
_ALLOWED = frozenset("ACGTN")
SPLITS = ("train", "test")


class TaskDataError(UserError, ValueError):
    """Bad task data; the message names the file and the record."""


def normalize_sequence(seq: str, where: str) -> str:
    """Upper-case, U->T, IUPAC codes->N; any other character raises naming `where`."""
    if seq is None or not str(seq).strip():
        raise TaskDataError(f"{where}: empty sequence")
    s = str(seq).strip().upper().translate(_TRANS)
    if not _ALLOWED.issuperset(s):
        for pos, ch in enumerate(s):
            if ch not in _ALLOWED:
                raise TaskDataError(
                    f"{where}: invalid character {ch!r} at position {pos + 1} "
                    "(allowed: A C G T U N and IUPAC ambiguity codes)"
                )
    return s


def parse_label(raw: str, where: str) -> int:
    """An integer written as one (`1`, not `1.0`): the official harness reads labels with
    `int(...)`, which refuses anything else."""
    text = str(raw).strip() if raw is not None else ""
    if not _INT.match(text):
        raise TaskDataError(f"{where}: label {raw!r} is not an integer")
    return int(text)


def check_labels(task_id: str, source: str, y_train: np.ndarray, y_test: np.ndarray) -> None:
    """A task needs >= 2 classes in train, and test may not hold a class train lacks."""
    train_classes = set(np.unique(y_train).tolist())
    if len(train_classes) < 2:
        raise TaskDataError(
            f"{source}: task {task_id!r} has a single class in train ({sorted(train_classes)}); "
            "a classification task needs at least two"
        )
    extra = sorted(set(np.unique(y_test).tolist()) - train_classes)
    if extra:
        raise TaskDataError(
            f"{source}: task {task_id!r}: label(s) {extra} appear in test but not in train"
        )
