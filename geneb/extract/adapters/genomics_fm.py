"""Genomics-FM: a BERT masked-LM over BPE tokens, released outside the hub (Google Drive).

Point geneb at the released checkpoint saved as a Hugging Face directory (config.json,
weights, tokenizer files): `GENEB_WEIGHTS_GENOMICS_FM=/path/to/dir`, or `weights =
"/path"` with `family = "genomics-fm"` in a user model file. It loads through
transformers' Auto classes (BERT), the tokenizer adds [CLS] ... [SEP], sequences are
truncated to 512 tokens including them, and the vector is the final hidden state of
[CLS] (the reference's `cls-token` rule).
"""

from __future__ import annotations

from ._families_common import local_hf_check, localise, raise_if_unavailable
from .base import ExtractError
from .hf_common import HFAdapter

WHAT = "the Genomics-FM checkpoint (Hugging Face layout: config.json, weights, tokenizer files)"


class GenomicsFMAdapter(HFAdapter):
    family = "genomics-fm"

    def __init__(self, spec, options, device):
        super().__init__(localise(spec), options, device)
        self.catalog_spec = spec

    @classmethod
    def check_available(cls, spec) -> tuple[bool, str]:
        return local_hf_check(cls, spec, WHAT)

    @classmethod
    def ensure_available(cls, spec) -> None:
        raise_if_unavailable(cls, spec)

    def load(self) -> None:
        ok, why = local_hf_check(type(self), self.catalog_spec, WHAT)
        if not ok:
            raise ExtractError(why)
        super().load()


ADAPTER = GenomicsFMAdapter
