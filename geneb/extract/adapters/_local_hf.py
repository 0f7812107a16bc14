"""Base for non-hub models released as Hugging Face directories (Genomics-FM, DeepGene):
weights come from GENEB_WEIGHTS_<ID> or the spec's local path, checked before loading."""

from __future__ import annotations

from typing import ClassVar

from ._families_common import local_hf_problems, local_weights, localise
from .base import Adapter, ExtractError, Problem
from .hf_common import HFAdapter


class LocalHFAdapter(HFAdapter):
    #: what the user must point at, for the error message
    what: ClassVar[str] = "the checkpoint (Hugging Face layout: config.json, weights, tokenizer files)"
    blocking = frozenset({"package", "gpu", "weights"})  # local weights: refused before any work

    def __init__(self, spec, options, device):
        super().__init__(localise(spec), options, device)
        self.catalog_spec = spec

    @classmethod
    def check(cls, spec) -> list[Problem]:
        # the packages, then the local directory (not the hub reachability HFAdapter checks)
        return Adapter.check.__func__(cls, spec) or local_hf_problems(spec, cls.what)

    @classmethod
    def source(cls, spec) -> str:
        return f"local weights at {local_weights(spec)}"

    def _load(self) -> None:
        problems = type(self).check(self.catalog_spec)
        if problems:
            raise ExtractError("; ".join(p.message for p in problems))
        super()._load()
