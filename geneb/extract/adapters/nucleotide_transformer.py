"""Nucleotide Transformers (v1, v2, Agro-NT): ESM encoders with a 6-mer (or 3-mer) tokenizer.

The tokenizer prepends <cls> and splits the sequence into non-overlapping k-mers, falling
back to single nucleotides where fewer than k bases remain or an N interrupts; `max_length`
counts tokens including <cls>. The final hidden state is taken after ESM's final layer norm
(`last_hidden_state`, identical to `hidden_states[-1]` of the masked-LM head the reference
extractors used).
"""

from __future__ import annotations

from .hf_common import HFAdapter


class NucleotideTransformerAdapter(HFAdapter):
    family = "nucleotide-transformer"


ADAPTER = NucleotideTransformerAdapter
