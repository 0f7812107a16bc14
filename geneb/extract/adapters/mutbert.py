"""MutBERT (JadenLong/MutBERT, -Human-Ref, -Multi): a rotary BERT that reads *soft* inputs
(hub remote code `modeling_mutbert.py`; the authors' GitHub copy is ai4nucleome/mutBERT
`2-pretrain-code/modeling_mutbert.py` @ 82344d2).

The model card loads `AutoModel.from_pretrained(repo, trust_remote_code=True)`: the remote
`RoPEBertModel`. The code was written for transformers 4.45; the differences it needs
(`geneb.extract.compat`, names in `differences`):

* `restore-removed-helpers`: it imports `find_pruneable_heads_and_indices` from
  `transformers.pytorch_utils` (gone in 5.x), only while the module is imported;
* `build-outside-meta`: `BertRotaryEmbedding.__init__` computes non-persistent `inv_freq`,
  `cos_cached` and `sin_cached` buffers; under transformers 5's meta-device build they would
  be left uninitialised, so the class is built on the CPU and the checkpoint loaded;
* on transformers 5: `config-4x-defaults`, `add-get-head-mask` and
  `add-get-extended-attention-mask` (`RoPEBertModel.forward` calls both).

MutBERT's first layer takes a probability vector over the vocabulary at each position,
so token ids from its character tokenizer ([CLS] ... [SEP]) are one-hot encoded to
(batch, time, vocab) before the forward pass, as its model card does.

Truncation: the reference tokenised with truncation on but no effective limit (the
tokenizer's model_max_length is unset), so long sequences were never cut. We truncate to
the catalog's max_length, else to the model's `max_position_embeddings` (special tokens
included). Padding: the attention mask is passed when the remote forward accepts one;
otherwise the batch runs as unpadded equal-length groups, so every record equals its
solo forward pass either way.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

from .base import ExtractError
from .hf_common import RemoteCodeAdapter


class MutBERTAdapter(RemoteCodeAdapter):
    family = "mutbert"
    remote_file = "modeling_mutbert.py"
    differences: ClassVar[tuple[str, ...]] = (
        "class-from-auto-map", "restore-removed-helpers", "config-4x-defaults", "add-get-head-mask",
        "add-get-extended-attention-mask", "build-outside-meta",
    )

    def _load(self) -> None:
        super()._load()
        params = inspect.signature(self.model_.forward).parameters
        self.takes_attention_mask = "attention_mask" in params  # else equal-length groups, unpadded
        self._vocab = int(getattr(self.model_.config, "vocab_size", 0) or len(self.tokenizer_))
        if self._vocab < len(self.tokenizer_):
            raise ExtractError(
                f"model {self.spec.model_id!r}: tokenizer has {len(self.tokenizer_)} tokens but the model's "
                f"one-hot input is only {self._vocab} wide"
            )

    def _token_limit(self) -> int | None:
        if self.spec.length_unit == "tokens" and self.max_length:
            return int(self.max_length)
        mp = getattr(self.model_.config, "max_position_embeddings", None)
        if isinstance(mp, int) and mp > 0:
            return mp
        return super()._token_limit()

    def _forward(self, ids: Any, mask: Any) -> Any:
        import torch.nn.functional as F

        dtype = next(self.model_.parameters()).dtype
        soft = F.one_hot(ids, num_classes=self._vocab).to(dtype)
        kw = {"attention_mask": mask} if self.takes_attention_mask else {}
        return self.tapped(self.model_(soft, output_hidden_states=self.all_layers, **kw))  # as the model card calls it


ADAPTER = MutBERTAdapter
