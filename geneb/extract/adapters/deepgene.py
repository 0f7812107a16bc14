"""DeepGene: a RoFormer encoder over BPE tokens from a pan-genome graph, released outside
the hub (Google Drive).

Point geneb at the released checkpoint saved as a Hugging Face directory (config.json
with model_type roformer, weights, tokenizer files): `GENEB_WEIGHTS_DEEPGENE=/path/to/dir`
or `weights = "/path"` with `family = "deepgene"` in a user model file. As in the
reference ("manual CLS/SEP"), the sequence is tokenised without special tokens, cut to
max_length - 2 tokens, and wrapped as [CLS] tokens [SEP]; the vector is the masked mean of
the final RoFormer hidden states, special tokens included.
"""

from __future__ import annotations

from ._local_hf import LocalHFAdapter
from .base import ExtractError


class DeepGeneAdapter(LocalHFAdapter):
    family = "deepgene"
    what = "the DeepGene checkpoint (Hugging Face layout: config.json, weights, tokenizer files)"

    def _load(self) -> None:
        super()._load()
        for name in ("cls_token_id", "sep_token_id"):
            if getattr(self.tokenizer_, name, None) is None:
                raise ExtractError(f"model {self.spec.model_id!r}: its tokenizer defines no {name[:3].upper()} token")

    def _tokenize(self, seq: str) -> list[int]:
        ids = list(self.tokenizer_(seq, add_special_tokens=False)["input_ids"])
        if self.spec.special_tokens == "none":
            return ids[: self._limit] if self._limit else ids
        if self._limit:
            ids = ids[: max(self._limit - 2, 0)]
        return [int(self.tokenizer_.cls_token_id), *ids, int(self.tokenizer_.sep_token_id)]


ADAPTER = DeepGeneAdapter
