"""Base for non-hub models released as Hugging Face directories (Genomics-FM, DeepGene):
weights come from GENEB_WEIGHTS_<ID> or the spec's local path, checked before loading."""

from __future__ import annotations

from typing import ClassVar

from ._families_common import local_weights, localise, weights_hint
from .base import ExtractError
from .hf_common import HFAdapter


class LocalHFAdapter(HFAdapter):
    #: what the user must point at, for the error message
    what: ClassVar[str] = "the checkpoint (Hugging Face layout: config.json, weights, tokenizer files)"
    blocking = HFAdapter.blocking | {"weights"}  # local weights: refused before any work

    def __init__(self, spec, options, device):
        super().__init__(localise(spec), options, device)
        self.catalog_spec = spec

    @classmethod
    def weights_available(cls, spec) -> tuple[bool, str]:
        """The local directory (not the hub reachability HFAdapter asks about), with its config.json."""
        lw = local_weights(spec)
        if lw is None or not lw.is_dir():
            return False, weights_hint(spec, cls.what)
        if not (lw / "config.json").exists():
            return False, f"model {spec.model_id!r}: {lw} has no config.json (expected a Hugging Face model directory)"
        return True, f"local weights at {lw}"

    def _load(self) -> None:
        problems = type(self).check(self.catalog_spec)
        if problems:
            raise ExtractError("; ".join(p.message for p in problems))
        super()._load()
