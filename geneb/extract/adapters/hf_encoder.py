"""BERT-like encoders loaded through `AutoModel` (GENA-LM, GROVER, user BERT/RoBERTa models).

The tokenizer adds its special tokens ([CLS] ... [SEP]) and the geneb-v1 mean includes them;
`cls` pooling takes the first token.
"""

from __future__ import annotations

from .hf_common import HFAdapter


class HFEncoderAdapter(HFAdapter):
    family = "hf-encoder"


ADAPTER = HFEncoderAdapter
