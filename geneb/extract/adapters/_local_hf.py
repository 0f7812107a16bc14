"""Base for non-hub models released as Hugging Face directories (Genomics-FM, DeepGene):
weights come from GENEB_WEIGHTS_<ID> or the spec's local path, checked before loading."""

from __future__ import annotations

from typing import ClassVar

from ._families_common import local_hf_check, localise, raise_if_unavailable
from .base import ExtractError
from .hf_common import HFAdapter


class LocalHFAdapter(HFAdapter):
    #: what the user must point at, for the error message
    what: ClassVar[str] = "the checkpoint (Hugging Face layout: config.json, weights, tokenizer files)"

    def __init__(self, spec, options, device):
        super().__init__(localise(spec), options, device)
        self.catalog_spec = spec

    @classmethod
    def check_available(cls, spec) -> tuple[bool, str]:
        return local_hf_check(cls, spec, cls.what)

    @classmethod
    def ensure_available(cls, spec) -> None:
        raise_if_unavailable(cls, spec)

    def _load(self) -> None:
        ok, why = local_hf_check(type(self), self.catalog_spec, self.what)
        if not ok:
            raise ExtractError(why)
        super()._load()
