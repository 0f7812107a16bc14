"""GENERator (GenerTeam/GENERator-eukaryote-*-base): a Llama decoder over 6-mer tokens.

Model: the hub `config.json` says `model_type: llama` and its `auto_map` names only
`AutoModelForCausalLM -> modeling_generator.GENERatorForCausalLM`, a `LlamaForCausalLM`
subclass that adds tokenizer-based generation/scoring helpers. `AutoModel` therefore builds
transformers' own `LlamaModel` from the same weights (the backbone of that class); its last
hidden state is the causal LM's `hidden_states[-1]` (after the final RMSNorm). No remote model
code runs.

Tokenizer: the hub's remote `DNAKmerTokenizer` (vocabulary: 32 specials, then the 4,096 6-mers
over A/T/C/G; unknown token `<oov>`). On transformers 5 it does not construct unaided (it sets
`bos_token`/`eos_token` before `super().__init__()`); the named difference
`tokenizer-special-tokens-before-init` (`geneb.extract.compat.tokenizers`) builds it.

Recipe (the GENEB reference extractor's preprocessing, the model card's special tokens):
right-trim every sequence to a multiple of 6 bases, prepend the BOS token, tokenise without
other special tokens, pad on the right and pool the final hidden layer with the attention
mask. A 6-mer containing N (or any character other than upper-case A/C/G/T, each lower-case
character being a token of its own) becomes `<oov>`, as in the authors' tokenizer; `audit`
counts the bases inside `<oov>` tokens (6 for a k-mer with an N). The token limit includes BOS:
the bases are cut to `6 x (limit - 1)` before the trim (no longer tokenisation can start a
kept token), then the token ids to `limit - 1`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import TokenAudit, UnsupportedSequenceError
from .hf_common import HFAdapter

KMER = 6
_BASES = frozenset("ACGT")


def trim_to_kmers(seq: str, k: int = KMER) -> str:
    """Drop the trailing len(seq) % k bases (GENERator's right-trim)."""
    return seq[: len(seq) // k * k]


class GeneratorAdapter(HFAdapter):
    family = "generator"
    differences: ClassVar[tuple[str, ...]] = ("tokenizer-special-tokens-before-init",)

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "preprocess": f"right-trim to a multiple of {KMER}, BOS prefix"}

    def _load_tokenizer(self) -> Any:
        from ..compat.tokenizers import load_tokenizer

        return load_tokenizer(self.spec.weights, hub_kwargs=self._hub_kwargs(), differences=self.differences)

    def _body_ids(self, body: str) -> list[int]:
        return [int(i) for i in self.tokenizer_(body, add_special_tokens=False)["input_ids"]] if body else []

    def _tokenize(self, seq: str) -> list[int]:
        limit = self._limit
        if limit is not None:
            seq = seq[: max(limit - 1, 0) * KMER]  # room for BOS
        ids = self._body_ids(trim_to_kmers(seq))
        if limit is not None:
            ids = ids[: max(limit - 1, 0)]  # lower case: one token per character
        bos = self.tokenizer_.bos_token_id
        if bos is None:
            raise UnsupportedSequenceError(f"model {self.spec.model_id!r}: its tokenizer defines no BOS token")
        return [int(bos), *ids]

    def audit(self, sequences, where: str) -> TokenAudit:
        """Bases inside `<oov>` tokens, per sequence (trimmed as `prepare` trims, not truncated,
        as every family counts): a k-mer with an N hides all 6 of its bases."""
        unk = self._unk_id
        audit = TokenAudit(sequences=len(sequences))
        if unk is None:
            return super().audit(sequences, where)
        tok = self.tokenizer_
        for row, s in enumerate(sequences):
            body = trim_to_kmers(s)
            if _BASES.issuperset(body):
                continue  # only whole A/C/G/T 6-mers: nothing unknown
            pieces = tok.tokenize(body)
            if "".join(pieces) != body:  # not a plain split of the bases: fall back to characters
                return super().audit(sequences, where)
            hidden, pos = 0, 0
            for piece, i in zip(pieces, tok.convert_tokens_to_ids(pieces), strict=True):
                if int(i) == unk:
                    hidden += len(piece)
                    for j, c in enumerate(piece):
                        if c not in _BASES:
                            audit.characters[c] = "unknown"
                            if audit.first is None:
                                audit.first = (where, row, pos + j + 1, c)
                pos += len(piece)
            if hidden:
                audit.unknown_bases += hidden
                audit.sequences_affected += 1
        return audit


ADAPTER = GeneratorAdapter
