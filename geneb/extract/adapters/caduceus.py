"""Caduceus and PlantCaduceus (kuleshov-group/*): bidirectional, RC-equivariant Mamba.

Hub remote code (pinned revision, trust_remote_code) built on `mamba_ssm` kernels, so the
family needs the `mamba` extra and a CUDA GPU; it fails at once, naming both, elsewhere.
The model takes no attention mask and reads every sequence in both directions, so a
padded batch would leak pads into real positions (the reference padded and pooled with
the mask, which does not undo that). We run each batch as groups of equal-length
sequences without padding, so every vector equals the solo forward pass. Character
tokens; the tokenizer's trailing [SEP] is omitted (catalog policy "none"). RC-equivariant
("ps") checkpoints return 2 x d_model features; we keep them all.
"""

from __future__ import annotations

from typing import Any

from ._families_common import ensure_requirements, grouped_hf_embed, hf_check_available, probe_dim
from .base import ExtractError
from .hf_common import HFAdapter


class CaduceusAdapter(HFAdapter):
    family = "caduceus"
    requires = ("torch", "transformers", "mamba_ssm")
    extra = "mamba"
    needs_cuda = True

    @classmethod
    def check_available(cls, spec) -> tuple[bool, str]:
        return hf_check_available(cls, spec, cuda=cls.needs_cuda)

    @classmethod
    def ensure_available(cls, spec) -> None:
        ensure_requirements(cls, spec, cuda=cls.needs_cuda)

    def _load_model(self) -> Any:
        import transformers

        kw = {**self._hub_kwargs(), "dtype": self._weight_dtype()}
        return transformers.AutoModel.from_pretrained(self.spec.weights, **kw)

    def _forward(self, ids: Any, mask: Any) -> Any:
        want_all = self.layer != -1
        out = self.model(input_ids=ids, output_hidden_states=want_all, return_dict=True)
        if not want_all:
            return out.last_hidden_state
        hs = out.hidden_states
        try:
            return hs[self.layer]
        except IndexError:
            raise ExtractError(
                f"model {self.spec.model_id!r}: layer {self.layer} does not exist (hidden states 0..{len(hs) - 1})"
            ) from None

    def load(self) -> None:
        super().load()
        self.dim = probe_dim(self)  # config width is not the output width for every variant

    def embed(self, batch: list[Any]) -> Any:
        return grouped_hf_embed(self, batch)


ADAPTER = CaduceusAdapter
