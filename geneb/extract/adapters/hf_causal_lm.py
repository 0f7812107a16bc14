"""Decoder-only language models loaded through `AutoModel` (GPT-2, Llama, Mistral, OLMo:
METAGENE-1, GenomeOcean, Omni-DNA, OmniNA, the dnagpt GPT-2s).

Sequences are right-padded per batch, so under causal attention a token's state never
sees padding and the masked mean equals that of the sequence alone. The reference
extractor for METAGENE-1 averaged pad rows too (an unmasked mean); geneb uses the masked
mean for every decoder (see docs/extraction.md).
"""

from __future__ import annotations

from .hf_common import HFAdapter


class HFCausalLMAdapter(HFAdapter):
    family = "hf-causal-lm"


ADAPTER = HFCausalLMAdapter
