"""Evo (togethercomputer/evo-1-131k-base): StripedHyena hub remote code, byte tokens.

Loaded as the Evo authors do (AutoConfig + AutoModelForCausalLM, trust_remote_code, pinned
revision, `use_cache` off for a plain forward). Its attention blocks use flash-attention,
so the family needs the `evo` extra and a CUDA GPU. Tokens are the UTF-8 bytes of the
sequence (Evo's CharLevelTokenizer: no special tokens, vocab 512). The model returns
logits only; the final hidden state is captured with a forward hook on the backbone's
final norm (the input of the unembedding), intermediate layers on `backbone.blocks[k-1]`.

Evo is causal, so right padding with the pad positions zeroed (`padding_mask`) leaves
real positions untouched and the masked mean is exact for every record. The reference
kept only the first record of each batch (`mean-first-record-only`); we embed all.
`length_policy = reject` (catalog): a sequence longer than the context is an error
naming its row, never silently truncated.
"""

from __future__ import annotations

from typing import Any

from ._families_common import ensure_requirements, hf_check_available, resolve_layer
from .base import ExtractError, UnsupportedSequenceError
from .hf_common import HFAdapter

PAD_ID = 1  # CharLevelTokenizer: eos 0, pad 1


class ByteTokenizer:
    """Evo's CharLevelTokenizer: one token per UTF-8 byte."""

    pad_token_id = PAD_ID
    unk_token_id = None
    model_max_length = None

    def encode(self, seq: str) -> list[int]:
        return list(seq.encode("utf-8"))


class EvoAdapter(HFAdapter):
    family = "evo"
    requires = ("torch", "transformers", "flash_attn")
    extra = "evo"

    @classmethod
    def check_available(cls, spec) -> tuple[bool, str]:
        return hf_check_available(cls, spec, cuda=True)

    @classmethod
    def ensure_available(cls, spec) -> None:
        ensure_requirements(cls, spec, cuda=True)

    @property
    def rejects_long(self) -> bool:
        return self.spec.length_policy == "reject"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "tokenizer": "utf-8 bytes (CharLevelTokenizer 512)", "length_policy": self.spec.length_policy}

    def _load_tokenizer(self) -> ByteTokenizer:
        return ByteTokenizer()

    def _load_model(self) -> Any:
        from transformers import AutoConfig, AutoModelForCausalLM

        kw = self._hub_kwargs()
        config = AutoConfig.from_pretrained(self.spec.weights, **kw)
        config.use_cache = False
        return AutoModelForCausalLM.from_pretrained(self.spec.weights, config=config, dtype=self._weight_dtype(), **kw)

    def _hidden_size(self) -> int:
        v = getattr(self.model.config, "hidden_size", None)
        if not isinstance(v, int):
            raise ExtractError(f"model {self.spec.model_id!r}: config has no hidden_size")
        return v

    def _tokenize(self, seq: str) -> list[int]:
        ids = self.tokenizer.encode(seq)
        limit = self._limit
        if limit is not None and len(ids) > limit:
            if self.rejects_long:
                raise UnsupportedSequenceError(
                    f"model {self.spec.model_id!r}: sequence of {len(ids)} tokens exceeds its context of {limit} "
                    "(length_policy = reject)"
                )
            ids = ids[:limit]
        return ids

    def validate(self, sequences, where: str) -> None:
        limit = self.max_length if self.spec.length_unit == "tokens" else None
        if self.rejects_long and limit:
            for i, s in enumerate(sequences):
                if len(s.encode("utf-8")) > limit:
                    raise UnsupportedSequenceError(
                        f"{where}: row {i}: {len(s)} bases exceed the {limit}-token context of model "
                        f"{self.spec.model_id!r} (length_policy = reject)"
                    )

    def _tap_module(self) -> Any:
        backbone = getattr(self.model, "backbone", None)
        if backbone is None:
            raise ExtractError(f"model {self.spec.model_id!r}: no `backbone` (not StripedHyena remote code?)")
        if self.layer == -1 and getattr(backbone, "norm", None) is not None:
            return backbone.norm
        blocks = backbone.blocks
        return blocks[resolve_layer(len(blocks), self.layer, self.spec)]

    def _forward(self, ids: Any, mask: Any) -> Any:
        captured: list[Any] = []
        handle = self._tap_module().register_forward_hook(
            lambda _m, _i, o: captured.append(o[0] if isinstance(o, tuple) else o)
        )
        try:
            self.model(input_ids=ids, attention_mask=mask)
        finally:
            handle.remove()
        if not captured:
            raise ExtractError(f"model {self.spec.model_id!r}: the tapped module never ran")
        return captured[-1]


ADAPTER = EvoAdapter
