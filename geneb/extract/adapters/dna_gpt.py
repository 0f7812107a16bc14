"""DNA-GPT (DNAGPT, TencentAILabHealthcare): GPT decoders over non-overlapping 6-mers.

Not on the hub. Two things must be pointed at:

* the weights file (`dna_gpt0.1b_h.pth`, `dna_gpt3b_m.pth`, ... from the authors' Google
  Drive): `GENEB_WEIGHTS_<MODEL_ID>=/path/file.pth` (or a directory holding
  `<variant>.pth`), or `weights = "/path/file.pth"` in a user model file;
* the authors' code (github.com/TencentAILabHealthcare/DNAGPT, package `dna_gpt`):
  `GENEB_CODE_DNA_GPT=/path/to/checkout` or `config.code_dir`.

The variant (`dna_gpt0.1b_h`, `dna_gpt0.1b_m`, `dna_gpt3b_m`) comes from `config.variant`,
else the model id, else the weights file name. Input is the species prefix token (`<R>`,
human, unless `config.prefix` says otherwise) followed by the 6-mer chunks of the
sequence, truncated to max_length tokens. Whether the vocabulary includes the shorter
"dynamic" k-mers is read off the checkpoint's embedding size rather than guessed from the
variant name (the authors' scripts disagree on it). The tap is the output of the final
layer norm (`_transformer_impl`), mean-pooled with the mask (prefix included); the model
is causal, so right padding is exact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ..pooling import pool
from ._families_common import (
    LocalCheckout,
    code_dir,
    code_hint,
    import_from_checkout,
    local_weights,
    pad_right,
    weights_hint,
)
from .base import Adapter, ExtractError, UnsupportedSequenceError

REPO = "https://github.com/TencentAILabHealthcare/DNAGPT"
WHAT = "the DNAGPT checkpoint (.pth) from the authors' Google Drive"
VARIANTS = ("dna_gpt0.1b_h", "dna_gpt0.1b_m", "dna_gpt3b_m")
SPECIAL_TOKENS = (
    [str(i) for i in range(10)] + ["+", "-", "*", "/", "=", "&", "|", "!"] + ["M", "B"] + ["P"]
    + ["R", "I", "K", "L", "O", "Q", "S", "U", "V"] + ["W", "Y", "X", "Z"]
)
KMER = 6
BASES = "ACGTN"


class DNAGPTAdapter(LocalCheckout, Adapter):
    family = "dna-gpt"
    weights_what = WHAT
    code = (REPO, "dna_gpt")
    final_layer_only = "DNA-GPT exposes its final-norm output"
    requires = ("torch",)
    extra = "extract"

    # -- identity -----------------------------------------------------------------------
    @property
    def variant(self) -> str:
        v = self.spec.config.get("variant")
        if v:
            return str(v)
        if self.spec.model_id in VARIANTS:
            return self.spec.model_id
        w = self._weights_file(required=False)
        if w is not None and w.stem in VARIANTS:
            return w.stem
        raise ExtractError(
            f"model {self.spec.model_id!r}: cannot tell the DNA-GPT variant; set config.variant to one of {VARIANTS}"
        )

    @property
    def prefix(self) -> str:
        return f"<{self.spec.config.get('prefix', 'R')}>"

    def _weights_file(self, required: bool = True) -> Path | None:
        lw = local_weights(self.spec)
        if lw is not None and lw.is_dir():
            stem = self.spec.config.get("variant") or self.spec.model_id
            cand = lw / f"{stem}.pth"
            lw = cand if cand.exists() else None
        if lw is None and required:
            raise ExtractError(weights_hint(self.spec, WHAT))
        return lw

    def identity_path(self, required: bool = True) -> Path | None:
        return self._weights_file(required)

    def describe(self) -> dict[str, Any]:
        return {
            **self.local_identity(),
            "tokenizer": f"DNAGPT KmerTokenizer k={KMER}",
            "variant": self.variant, "prefix": self.prefix,
        }

    # -- work ---------------------------------------------------------------------------
    def _load(self) -> None:
        if self.model_ is not None:
            return
        import torch

        w = self._weights_file()
        src = code_dir(self.spec)
        if src is None:
            raise ExtractError(code_hint(self.spec, REPO, "dna_gpt"))
        model_mod = import_from_checkout(src, "dna_gpt.model", self.spec)
        tok_mod = import_from_checkout(src, "dna_gpt.tokenizer", self.spec)
        state = _load_checkpoint(w, self.spec.model_id)
        state = state.get("model", state) if isinstance(state, dict) else state
        wte = state.get("transformer.wte.weight") if isinstance(state, dict) else None
        if wte is None:
            raise ExtractError(f"model {self.spec.model_id!r}: {w} has no transformer.wte.weight; not a DNAGPT checkpoint")
        tokenizer = None
        for dynamic in (True, False):
            cand = tok_mod.KmerTokenizer(KMER, SPECIAL_TOKENS, dynamic_kmer=dynamic)
            if len(cand) == wte.shape[0]:
                tokenizer = cand
                break
        if tokenizer is None:
            raise ExtractError(
                f"model {self.spec.model_id!r}: checkpoint vocabulary ({wte.shape[0]}) matches no DNAGPT 6-mer tokenizer"
            )
        model = model_mod.DNAGPT.from_name(self.variant, len(tokenizer))
        missing, _unexpected = model.load_state_dict(state, strict=False)
        core = [k for k in missing if k.startswith("transformer.")]
        if core:
            raise ExtractError(f"model {self.spec.model_id!r}: checkpoint lacks {len(core)} backbone tensors, e.g. {core[:3]}")
        model.eval()
        self.model_ = model.to(torch.device(self.device))
        self.tokenizer_ = tokenizer
        self.dim_ = int(model.transformer.wte.weight.shape[1])

    def _limit(self) -> int | None:
        return int(self.max_length) if self.max_length and self.spec.length_unit == "tokens" else None

    def validate(self, sequences, where: str) -> None:
        for i, s in enumerate(sequences):
            bad = set(s.upper()) - set(BASES)
            if bad:
                raise UnsupportedSequenceError(
                    f"{where}: row {i}: character {sorted(bad)[0]!r} is not a base DNAGPT k-mers contain (ACGTN)"
                )

    def prepare(self, seq: str) -> np.ndarray:
        if self.spec.length_unit == "bases" and self.max_length:
            seq = seq[: self.max_length]
        text = seq.upper()
        if set(text) - set(BASES):
            raise UnsupportedSequenceError(f"model {self.spec.model_id!r}: sequence has characters other than ACGTN")
        if self.spec.special_tokens != "none":
            text = self.prefix + text
        lim = self._limit()
        # a trailing partial k-mer maps to the tokenizer's unknown id, exactly as in DNAGPT
        ids = self.tokenizer_.encode(text, max_len=lim or -1, to_tensor=False)
        return np.asarray(ids, dtype=np.int64)

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        import torch

        if self.model_ is None:
            self.load()
        ids, mask = pad_right(batch, self.tokenizer_.pad_id)
        dev = torch.device(self.device)
        t_ids, t_mask = torch.from_numpy(ids).to(dev), torch.from_numpy(mask).to(dev)
        with torch.inference_mode():
            hidden = self._hidden(t_ids)
            return pool(self.pooling, hidden, t_mask).float().cpu().numpy()

    def _hidden(self, ids: Any) -> Any:
        return self.model_._transformer_impl(self.model_._embedding_impl(ids))


def _load_checkpoint(path: Path, model_id: str) -> Any:
    """Tensors only when possible; the authors' files may also pickle training objects, in
    which case the user's own local file is unpickled in full (logged)."""
    import logging
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        logging.getLogger(__name__).warning("%s: %s holds non-tensor objects; loading it in full", model_id, path)
    except Exception as exc:  # noqa: BLE001 - unreadable or not a checkpoint
        raise ExtractError(f"model {model_id!r}: cannot read checkpoint {path}: {exc}") from exc
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # noqa: BLE001
        raise ExtractError(f"model {model_id!r}: cannot read checkpoint {path}: {exc}") from exc


ADAPTER = DNAGPTAdapter
