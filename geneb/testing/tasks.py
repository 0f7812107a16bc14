"""Generated DNA task files, large or small, for the memory-bound tests and the
benchmarks. Vectorised, so a million-row task takes seconds; labels change base
composition so probes on k-mer features learn something."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

_BASES = np.frombuffer(b"ACGT", dtype=np.uint8)
#: Base probabilities per class: class 0 uniform, class c>0 shifted towards A/T by c.
_SHIFT = np.array([0.08, -0.08, -0.08, 0.08])


def random_sequences(n: int, length: int, labels: np.ndarray, rng: np.random.Generator) -> list[str]:
    """``n`` sequences of ``length`` bases whose composition depends on their label."""
    out: list[str] = []
    step = max(1, 4_000_000 // max(1, length))  # ~4 MB of codes at a time
    for lo in range(0, n, step):
        y = labels[lo : lo + step]
        p = 0.25 + _SHIFT[None, :] * (y[:, None] % 3)  # per-row base probabilities
        cum = np.cumsum(p, axis=1)
        u = rng.random((len(y), length))
        codes = (u[:, :, None] > cum[:, None, :3]).sum(axis=2).astype(np.uint8)
        raw = _BASES[codes]
        out.extend(row.tobytes().decode("ascii") for row in raw)
    return out


def write_task_csv(
    path: str | Path,
    n_train: int,
    n_test: int,
    length: int = 100,
    n_classes: int = 2,
    seed: int = 0,
) -> Path:
    """A task in the flat layout (``text,label,split``; ``.csv.gz`` if the name says so),
    written in pieces so the writer's memory stays small for any size."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "wt", encoding="ascii", newline="") as fh:
        fh.write("text,label,split\n")
        for split, n in (("train", n_train), ("test", n_test)):
            for lo in range(0, n, 50_000):
                m = min(50_000, n - lo)
                y = rng.integers(0, n_classes, m)
                if lo == 0:
                    y[: min(n_classes, m)] = np.arange(min(n_classes, m))  # every class present
                seqs = random_sequences(m, length, y, rng)
                fh.write("".join(f"{s},{lab},{split}\n" for s, lab in zip(seqs, y.tolist(), strict=True)))
    return path
