"""LucaOne (LucaGroup/LucaOne-default-step36M): a unified nucleotide/protein encoder.

The hub repository holds config and weights only; the model and tokenizer classes come
from the `lucaone` package, which registers them with the Auto classes on import (extra
`lucaone`; it installs cleanly with --no-deps next to any transformers >= 4.26).

DNA goes in as a *gene* sequence: the tokenizer rewrites bases to LucaOne's nucleotide
symbols (A->1, T/U->2, C->3, G->4, anything else->5 = N), wraps them in [CLS] ... [SEP]
and, when truncating, keeps [SEP] last. Every token type id is 0 (gene; 1 would mean
protein). The tap is the final hidden state after LucaOne's last layer norm.
"""

from __future__ import annotations

import logging
from typing import Any

from .hf_common import HFAdapter

log = logging.getLogger(__name__)


class LucaOneAdapter(HFAdapter):
    family = "lucaone"
    requires = ("torch", "transformers", "lucaone")
    extra = "lucaone"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "seq_type": "gene", "token_type_id": 0}

    def _load_tokenizer(self) -> Any:
        import lucaone

        return lucaone.LucaGPLMTokenizer.from_pretrained(self.spec.weights)

    def _load_model(self) -> Any:
        import lucaone  # noqa: F401 - registers LucaGPLM with the Auto classes
        from transformers import AutoModel

        return AutoModel.from_pretrained(
            self.spec.weights, task_level="token_level", task_type="embedding",
            dtype=self._weight_dtype(), **self._hub_kwargs(),
        )

    def _load(self) -> None:
        super()._load()
        self._check_rotary()

    def _check_rotary(self) -> None:
        """Rotary `inv_freq` is a deterministic buffer; a checkpoint that lacks it leaves it
        uninitialised under transformers 5's meta-device loading. Recompute and restore."""
        import torch

        for name, mod in self.model_.named_modules():
            inv = getattr(mod, "inv_freq", None)
            if not isinstance(inv, torch.Tensor) or inv.dim() != 1:
                continue
            dim = 2 * inv.numel()
            want = 1.0 / (10000 ** (torch.arange(0, dim, 2, device=inv.device).float() / dim))
            if inv.is_meta or not torch.allclose(inv.float(), want, rtol=1e-4, atol=0):
                log.warning("%s: %s.inv_freq was not loaded correctly; recomputed", self.spec.model_id, name)
                mod.register_buffer("inv_freq", want.to(inv.dtype if not inv.is_meta else torch.float32))

    def _tokenize(self, seq: str) -> list[int]:
        limit = self._limit
        return list(self.tokenizer_.encode(
            seq, seq_type="gene", add_special_tokens=self.add_special_tokens,
            truncation=limit is not None, max_length=limit,
        ))

    def _forward(self, ids: Any, mask: Any) -> Any:
        import torch

        out = self.model_(
            input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids),
            output_hidden_states=self.all_layers, return_dict=True,
        )
        return self.tapped(out)


ADAPTER = LucaOneAdapter
