"""BioFM (m42-health/BioFM-265M): a Mistral decoder over BioToken character tokens.

BioFM's tokenizer (`AnnotationTokenizer` in the biofm-eval package) is fully described by
the `tokenizer_config` block of the model's config.json (`char_ords`, `model_max_length`)
plus fixed special ids, so it is rebuilt here rather than requiring that package: one
token per base, `[CLS]` + bases + `[SEP]`, unknown characters -> `[UNK]`. The embedding is
the final hidden state of the last base (the token before `[SEP]`, "penultimate-token").

The reference (biofm-eval's `Embedder`) padded on the left but indexed position
`n_valid - 2` from the start, which is the last base only for the longest sequence of a
batch; we locate the token through the mask, so every record gets its own last base.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .base import ExtractError
from .hf_common import HFAdapter

SPECIAL_IDS = {"[CLS]": 6, "[SEP]": 7, "[UNK]": 8, "[PAD]": 9, "[EOS]": 10, "[BOS]": 11}


@dataclass
class BioTokenizer:
    """The plain-DNA part of BioFM's AnnotationTokenizer (no variant/annotation tokens)."""

    characters: tuple[str, ...]
    model_max_length: int | None = None
    vocab: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.vocab = {ch: i for i, ch in enumerate(self.characters)}

    cls_token_id = SPECIAL_IDS["[CLS]"]
    sep_token_id = SPECIAL_IDS["[SEP]"]
    unk_token_id = SPECIAL_IDS["[UNK]"]
    pad_token_id = SPECIAL_IDS["[PAD]"]

    def encode(self, seq: str, add_special_tokens: bool, max_length: int | None) -> list[int]:
        ids = [self.vocab.get(c, self.unk_token_id) for c in seq]
        if add_special_tokens:
            if max_length is not None:
                ids = ids[: max(max_length - 2, 0)]
            return [self.cls_token_id, *ids, self.sep_token_id]
        return ids[:max_length] if max_length is not None else ids

    def convert_ids_to_tokens(self, i: int) -> str:
        inv = {v: k for k, v in {**self.vocab, **SPECIAL_IDS}.items()}
        return inv.get(i, "?")

    @classmethod
    def from_config(cls, cfg: dict[str, Any], model_id: str) -> BioTokenizer:
        ords = cfg.get("char_ords")
        if not isinstance(ords, list) or not ords:
            raise ExtractError(f"model {model_id!r}: tokenizer_config has no 'char_ords' list")
        mml = cfg.get("model_max_length")
        return cls(tuple(chr(int(o)) for o in ords), int(mml) if mml else None)


class BioFMAdapter(HFAdapter):
    family = "biofm"

    def _load_tokenizer(self) -> BioTokenizer:
        from transformers import AutoConfig

        cfg = AutoConfig.from_pretrained(self.spec.weights, **self._hub_kwargs())
        tok_cfg = getattr(cfg, "tokenizer_config", None)
        if not isinstance(tok_cfg, dict):
            tok_cfg = self._tokenizer_config_file()
        return BioTokenizer.from_config(tok_cfg, self.spec.model_id)

    def _tokenizer_config_file(self) -> dict[str, Any]:
        from transformers.utils import cached_file

        kw = {k: v for k, v in self._hub_kwargs().items() if k == "revision"}
        path = cached_file(self.spec.weights, "tokenizer_config.json", **kw)
        if path is None:
            raise ExtractError(f"model {self.spec.model_id!r}: neither config.tokenizer_config nor tokenizer_config.json found")
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)

    def _tokenize(self, seq: str) -> list[int]:
        return self.tokenizer_.encode(seq, self.add_special_tokens, self._limit)


ADAPTER = BioFMAdapter
