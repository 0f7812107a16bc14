"""k-mer frequency embeddings: the built-in baseline that needs neither torch nor weights.

A sequence's vector is the frequency of each of the 4**k k-mers over its overlapping
windows (windows containing N are skipped), in lexicographic order (AAA, AAC, ...). A
sequence with no valid window gets the zero vector.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np

from .base import Adapter, ExtractError

_CODE = np.full(256, 255, dtype=np.uint8)
for _i, _c in enumerate(b"ACGT"):
    _CODE[_c] = _i


def kmer_frequencies(seq: str, k: int) -> np.ndarray:
    """Frequencies of the 4**k overlapping k-mers of `seq` (float32, sums to 1 or is all 0)."""
    codes = _CODE[np.frombuffer(seq.encode("ascii"), dtype=np.uint8)]
    n = codes.shape[0] - k + 1
    out = np.zeros(4**k, dtype=np.float64)
    if n <= 0:
        return out.astype(np.float32)
    bad = codes == 255
    idx = np.zeros(n, dtype=np.int64)
    valid = np.ones(n, dtype=bool)
    c = codes.astype(np.int64)
    for j in range(k):
        idx = idx * 4 + np.where(bad[j : j + n], 0, c[j : j + n])
        valid &= ~bad[j : j + n]
    counts = np.bincount(idx[valid], minlength=4**k).astype(np.float64)
    total = counts.sum()
    if total > 0:
        out = counts / total
    return out.astype(np.float32)


class KmerAdapter(Adapter):
    family = "kmer"
    requires: ClassVar[tuple[str, ...]] = ("numpy",)
    extra = "extract"
    neural = False

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        k = spec.config.get("k")
        if not isinstance(k, int) or not 1 <= k <= 8:
            raise ExtractError(f"model {spec.model_id!r}: config.k must be an integer in 1..8, got {k!r}")
        self.k = k
        self.dim_ = 4**k

    def _load(self) -> None:
        return None

    def prepare(self, seq: str) -> np.ndarray:
        if self.max_length:  # a k-mer "token" is a base position: truncate in bases
            seq = seq[: self.max_length]
        return kmer_frequencies(seq, self.k)

    def n_tokens(self, prepared: Any) -> int:
        return 1  # the work is done in prepare(); batches are free

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        return np.stack(batch).astype(np.float32, copy=False)

    def describe(self) -> dict[str, Any]:
        return {"weights": "", "revision": "", "tokenizer": f"kmer-{self.k}-overlapping-skipN", "k": self.k}


ADAPTER = KmerAdapter
