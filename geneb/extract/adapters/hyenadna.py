"""HyenaDNA (LongSafari/hyenadna-*-seqlen-hf): hub remote code, character tokenizer.

The model takes no attention mask. It is causal (implicit long convolutions evaluated
with a causal FFT, causal short convolutions), so with right padding no real position
ever sees a pad, and the masked mean over real tokens equals the solo forward pass. The
published reference padded on the tokenizer's default side (left) and ignored the mask,
so its vectors depended on the other sequences in the batch; we do not reproduce that.
"""

from __future__ import annotations

from typing import Any

from .hf_common import HFAdapter


class HyenaDNAAdapter(HFAdapter):
    family = "hyenadna"

    def _forward(self, ids: Any, mask: Any) -> Any:
        # No `attention_mask` argument exists; right padding + causality make it unnecessary.
        out = self.model_(input_ids=ids, output_hidden_states=self.all_layers, return_dict=True)
        # embeddings, each block, then the final-norm output
        return self.tapped(out, ": 0 = embeddings, {last} = after the final norm")


ADAPTER = HyenaDNAAdapter
