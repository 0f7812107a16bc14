"""Length-sorted, token-budget batching and the per-row work units behind windows and
reverse-complement averaging.

Sorting by length and padding per batch removes almost all padding work; the budget caps
`batch_size * longest_in_batch` (the padded tokens a forward pass computes on). The plan
depends only on the lengths, so a resumed block is batched exactly as it was the first time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import InvalidArgument

_COMPLEMENT = str.maketrans("ACGTN", "TGCAN")


def reverse_complement(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def window_starts(length: int, window: int, stride: int) -> list[int]:
    """Start positions of windows covering [0, length); the last window ends at `length`."""
    if length <= window:
        return [0]
    starts = list(range(0, length - window + 1, stride))
    if starts[-1] + window < length:
        starts.append(length - window)
    return starts


@dataclass(frozen=True)
class Piece:
    """One forward-pass input: row `row` of the block, a (sub)sequence, maybe reverse-complemented."""

    row: int
    seq: str


def pieces_for(sequences: Sequence[str], window: int | None, stride: int | None, rc: bool) -> list[Piece]:
    """Expand rows into pieces; a row's vector is the mean of its pieces' vectors."""
    out: list[Piece] = []
    for i, s in enumerate(sequences):
        parts = [s] if window is None else [s[a : a + window] for a in window_starts(len(s), window, stride or window)]
        for p in parts:
            out.append(Piece(i, p))
            if rc:
                out.append(Piece(i, reverse_complement(p)))
    return out


def plan_batches(n_tokens: Sequence[int], token_budget: int, max_batch: int = 512) -> list[np.ndarray]:
    """Index batches, longest first, each with `len(batch) * max(n_tokens) <= token_budget`
    (a single over-long item still gets its own batch). Stable for equal lengths."""
    if token_budget <= 0:
        raise InvalidArgument(f"token budget must be positive, got {token_budget}")
    lengths = np.asarray(n_tokens, dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    batches: list[np.ndarray] = []
    i = 0
    n = len(order)
    while i < n:
        width = max(int(lengths[order[i]]), 1)  # longest first: the first item sets the width
        size = max(1, min(max_batch, token_budget // width))
        batches.append(order[i : i + size])
        i += size
    return batches
