"""Genomics-FM: a BERT masked-LM over BPE tokens, released outside the hub (Google Drive).

Point geneb at the released checkpoint saved as a Hugging Face directory (config.json,
weights, tokenizer files): `GENEB_WEIGHTS_GENOMICS_FM=/path/to/dir`, or `weights =
"/path"` with `family = "genomics-fm"` in a user model file. It loads through
transformers' Auto classes (BERT), the tokenizer adds [CLS] ... [SEP], sequences are
truncated to 512 tokens including them, and the vector is the final hidden state of
[CLS] (the reference's `cls-token` rule).
"""

from __future__ import annotations

from ._local_hf import LocalHFAdapter


class GenomicsFMAdapter(LocalHFAdapter):
    family = "genomics-fm"
    what = "the Genomics-FM checkpoint (Hugging Face layout: config.json, weights, tokenizer files)"


ADAPTER = GenomicsFMAdapter
