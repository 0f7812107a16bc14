"""GENERator (GenerTeam/GENERator-eukaryote-*-base): a Llama decoder over 6-mer tokens.

The authors' embedding recipe, which we follow: right-trim every sequence to a multiple of
6 bases (the tokenizer only has whole 6-mers), prepend the BOS token, tokenise without
other special tokens, pad on the right and pool the final hidden layer with the attention
mask. Truncation is applied to the bases before trimming, so the token limit (BOS
included) is never exceeded and the kept k-mers are always whole.
"""

from __future__ import annotations

from typing import Any

from .base import UnsupportedSequenceError
from .hf_common import HFAdapter

KMER = 6


def trim_to_kmers(seq: str, k: int = KMER) -> str:
    """Drop the trailing len(seq) % k bases (GENERator's right-trim)."""
    return seq[: len(seq) // k * k]


class GeneratorAdapter(HFAdapter):
    family = "generator"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "preprocess": f"right-trim to a multiple of {KMER}, BOS prefix"}

    def _tokenize(self, seq: str) -> list[int]:
        limit = self._limit
        if limit is not None:
            seq = seq[: max(limit - 1, 0) * KMER]  # room for BOS
        body = trim_to_kmers(seq)
        ids = list(self.tokenizer(body, add_special_tokens=False)["input_ids"]) if body else []
        bos = self.tokenizer.bos_token_id
        if bos is None:
            raise UnsupportedSequenceError(f"model {self.spec.model_id!r}: its tokenizer defines no BOS token")
        return [int(bos), *ids]


ADAPTER = GeneratorAdapter
