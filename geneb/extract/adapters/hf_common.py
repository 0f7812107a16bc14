"""Shared machinery for adapters built on Hugging Face `transformers`.

Loading with a pinned revision and `trust_remote_code`, per-sequence tokenisation with
truncation in the model's unit, per-batch right padding, the hidden-layer tap, pooling,
autocast on CUDA and SDPA attention. Families override small hooks (`_load_tokenizer`,
`_load_model`, `_tokenize`, `_forward`) instead of the whole flow.
"""

from __future__ import annotations

import logging
import re
from contextlib import nullcontext
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..pooling import pool
from ._families_common import fingerprint, grouped_hf_embed, pad_right
from .base import (
    Adapter,
    ExtractError,
    Problem,
    TokenAudit,
    UnsupportedSequenceError,
    count_characters,
)

log = logging.getLogger(__name__)

_SHA = re.compile(r"^[0-9a-f]{40}$")
_FINGERPRINT_FILES = (
    "config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "vocab.json",
    "merges.txt", "special_tokens_map.json", "generation_config.json",
)


def local_fingerprint(directory: str | Path) -> str:
    """Content hash of a local model directory: small config/tokenizer files by content,
    weight files by name and size (hashing GBs of weights on every run would be too slow)."""
    files = [(p.name, p) for p in sorted(Path(directory).iterdir()) if p.is_file()]
    return fingerprint(files, lambda p: p.name in _FINGERPRINT_FILES or p.suffix in (".py", ".model"),
                       lambda p: p.suffix in (".safetensors", ".bin", ".pt", ".ckpt", ".pth", ".h5"))


def resolve_revision(weights: str, revision: str) -> str:
    """The concrete revision of a weights reference, without network access: a local
    directory's content fingerprint, a pinned commit as given, or the commit a branch
    name points to in the local HF cache (the name itself when nothing is cached yet)."""
    if weights and Path(weights).is_dir():
        return "local:" + local_fingerprint(weights)
    rev = revision or "main"
    if _SHA.match(rev):
        return rev
    try:
        from huggingface_hub import constants

        ref = Path(constants.HF_HUB_CACHE) / f"models--{weights.replace('/', '--')}" / "refs" / rev
        if ref.is_file():
            return ref.read_text().strip()
    except Exception:  # noqa: BLE001 - an unreadable cache just means "unresolved"
        pass
    return rev


def torch_device(device: str) -> Any:
    import torch

    return torch.device(device)


class HFAdapter(Adapter):
    """A transformers model whose tokenizer and weights load through the Auto classes."""

    auto_model: ClassVar[str] = "AutoModel"
    #: Catalog `special_tokens` values under which the tokenizer adds its special tokens.
    no_special_policies: ClassVar[frozenset[str]] = frozenset({"none"})
    #: False: the model takes no attention mask, so padding would change its vectors; each
    #: batch then runs as equal-length groups without padding (every row its solo forward).
    takes_attention_mask: ClassVar[bool] = True

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        self._resolved: str | None = None

    # -- identity -----------------------------------------------------------------------
    @property
    def add_special_tokens(self) -> bool:
        return self.spec.special_tokens not in self.no_special_policies

    def resolved_revision(self) -> str:
        if self._resolved is None:
            self._resolved = resolve_revision(self.spec.weights, self.spec.revision)
        return self._resolved

    def describe(self) -> dict[str, Any]:
        rev = self.resolved_revision()
        out = {
            "weights": self.spec.weights,
            "revision": rev,
            "tokenizer": f"{self.spec.weights}@{rev}",
            "add_special_tokens": self.add_special_tokens,
            "length_unit": self.spec.length_unit,
        }
        if self.differences:
            from .. import compat

            out.update(compat.describe(self.differences))
        return out

    @classmethod
    def check(cls, spec) -> list[Problem]:
        problems = super().check(spec)
        if problems:
            return problems
        ok, why = cls.weights_available(spec)
        return [] if ok else [Problem("weights", why)]

    @classmethod
    def source(cls, spec) -> str:
        return cls.weights_available(spec)[1]

    @classmethod
    def weights_available(cls, spec) -> tuple[bool, str]:
        """Whether the weights can be reached: a local directory, the HF cache or the hub."""
        w = spec.weights
        if not w:
            return False, "no weights location in the catalog entry"
        if Path(w).is_dir():
            return True, f"local weights at {w}"
        if "/" not in w:
            return False, f"weights {w!r} are not on the Hugging Face hub; point `weights` at a local directory"
        rev = resolve_revision(w, spec.revision)
        import os

        if _SHA.match(rev) and not _SHA.match(spec.revision or ""):
            return True, f"cached locally ({rev[:8]})"
        if os.environ.get("HF_HUB_OFFLINE", "") in ("1", "true", "True"):
            return False, f"{w} is not in the local HF cache and HF_HUB_OFFLINE is set"
        return True, f"not cached here; downloads {w} from the Hugging Face hub on first use (needs hub access)"

    # -- loading ------------------------------------------------------------------------
    def _hub_kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"trust_remote_code": self.spec.trust_remote_code}
        if self.spec.revision and not Path(self.spec.weights).is_dir():
            kw["revision"] = self.spec.revision
        return kw

    def _weight_dtype(self) -> Any:
        import torch

        cd = self.options.compute_dtype
        if self.device.startswith("cuda"):
            return {"auto": torch.bfloat16, "bfloat16": torch.bfloat16, "float16": torch.float16}.get(cd, torch.float32)
        return {"bfloat16": torch.bfloat16, "float16": torch.float16}.get(cd, torch.float32)

    def _load_tokenizer(self) -> Any:
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.spec.weights, **self._hub_kwargs())

    def _load_model(self) -> Any:
        import transformers

        auto = getattr(transformers, self.auto_model)
        kw = {**self._hub_kwargs(), "dtype": self._weight_dtype()}
        try:
            return auto.from_pretrained(self.spec.weights, attn_implementation="sdpa", **kw)
        except (ValueError, ImportError, TypeError) as exc:  # model without SDPA support
            log.info("%s: SDPA unavailable (%s); using the default attention", self.spec.model_id, exc)
            return auto.from_pretrained(self.spec.weights, **kw)

    def _load(self) -> None:
        if self.model_ is not None:
            return
        try:
            self.tokenizer_ = self._load_tokenizer()
            model = self._load_model()
        except OSError as exc:
            raise ExtractError(f"model {self.spec.model_id!r}: cannot load weights from {self.spec.weights!r}: {exc}") from exc
        model.eval()
        self.model_ = model.to(torch_device(self.device))
        self.dim_ = self._hidden_size()
        self._pad_id = self._pad_token_id()
        self._unk_id = getattr(self.tokenizer_, "unk_token_id", None)
        self._limit = self._token_limit()

    def _hidden_size(self) -> int:
        cfg = self.model_.config
        for name in ("hidden_size", "d_model", "n_embd", "dim"):
            v = getattr(cfg, name, None)
            if isinstance(v, int):
                return v
        raise ExtractError(f"model {self.spec.model_id!r}: cannot tell the hidden size from its config")

    def _pad_token_id(self) -> int:
        tok = self.tokenizer_
        for v in (getattr(tok, "pad_token_id", None), getattr(tok, "eos_token_id", None)):
            if v is not None:
                return int(v)
        return 0  # padded positions are masked out, so any id is correct

    def _token_limit(self) -> int | None:
        """Maximum tokens per sequence (special tokens included), or None for no limit."""
        if self.spec.length_unit == "tokens" and self.max_length:
            return int(self.max_length)
        if self.spec.length_unit == "bases":
            return None
        tl = getattr(self.tokenizer_, "model_max_length", None)
        if isinstance(tl, int) and 0 < tl < 10**7:
            return tl
        mp = getattr(self.model_.config, "max_position_embeddings", None)
        return int(mp) if isinstance(mp, int) and mp > 0 else None

    # -- tokenisation -------------------------------------------------------------------
    def _tokenize(self, seq: str) -> list[int]:
        limit = self._limit
        enc = self.tokenizer_(
            seq,
            add_special_tokens=self.add_special_tokens,
            truncation=limit is not None,
            max_length=limit,
        )
        return list(enc["input_ids"])

    def prepare(self, seq: str) -> np.ndarray:
        """Token ids of one sequence. Bases the vocabulary lacks become the tokenizer's unknown
        token (or are dropped by tokenizers without one), as in the authors' recipes and the
        GENEB reference extractors; `audit` counts them per pair."""
        if self.spec.length_unit == "bases" and self.max_length:
            seq = seq[: self.max_length]
        ids = self._tokenize(seq)
        if not ids:
            raise UnsupportedSequenceError(f"model {self.spec.model_id!r}: the tokenizer produced no tokens")
        return np.asarray(ids, dtype=np.int64)

    PROBE_REPEAT: ClassVar[int] = 12  # a multiple of every k-mer size in the catalog (1, 2, 3, 4, 6)

    def _special_ids(self) -> set[int]:
        tok = self.tokenizer_
        ids = {int(i) for i in (getattr(tok, "all_special_ids", None) or [])}
        for name in ("bos", "eos", "cls", "sep", "pad", "mask"):
            v = getattr(tok, f"{name}_token_id", None)
            if isinstance(v, int):
                ids.add(v)
        return ids - ({self._unk_id} if self._unk_id is not None else set())

    def character_verdict(self, c: str) -> str:
        """"ok", "unknown" (becomes the unknown token) or "dropped" (no token covers it),
        from tokenising a run of the character alone the way `prepare` tokenises."""
        ids = [int(i) for i in self._tokenize(c * self.PROBE_REPEAT)]
        unk = self._unk_id
        if unk is not None and unk in ids:
            return "unknown"
        if not [i for i in ids if i not in self._special_ids()]:
            return "dropped"
        return "ok"

    def validate(self, sequences, where: str) -> None:
        """Refuse (naming the row) only characters the tokenizer raises on."""
        for c in sorted({ch for s in sequences for ch in s}):
            try:
                self._tokenize(c * self.PROBE_REPEAT)
            except Exception as exc:  # noqa: BLE001
                row = next(i for i, s in enumerate(sequences) if c in s)
                raise UnsupportedSequenceError(
                    f"{where}: row {row}: model {self.spec.model_id!r} cannot tokenise {c!r}: {exc}"
                ) from exc

    def audit(self, sequences, where: str) -> TokenAudit:
        chars = sorted({ch for s in sequences for ch in s})
        bad = {c: v for c in chars if (v := self.character_verdict(c)) != "ok"}
        return count_characters(sequences, bad, where)

    # -- forward ------------------------------------------------------------------------
    def _pad(self, batch: list[np.ndarray]) -> tuple[Any, Any]:
        import torch

        ids, mask = pad_right(batch, self._pad_id)
        dev = torch_device(self.device)
        return torch.from_numpy(ids).to(dev), torch.from_numpy(mask).to(dev)

    def _autocast(self) -> Any:
        import torch

        if not self.device.startswith("cuda"):
            return nullcontext()
        cd = self.options.compute_dtype
        if cd == "float32":
            return nullcontext()
        dt = torch.float16 if cd == "float16" else torch.bfloat16
        return torch.autocast("cuda", dtype=dt)

    def _forward(self, ids: Any, mask: Any) -> Any:
        """Token states (B, T, D) at the configured layer."""
        out = self.model_(input_ids=ids, attention_mask=mask, output_hidden_states=self.all_layers)
        return self.tapped(out, ", 0 = embeddings")

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        import torch

        if self.model_ is None:
            self.load()
        if not self.takes_attention_mask:
            return grouped_hf_embed(self, batch)
        ids, mask = self._pad(batch)
        with torch.inference_mode(), self._autocast():
            hidden = self._forward(ids, mask)
            pooled = pool(self.pooling, hidden, mask)
        return pooled.float().cpu().numpy()


class RemoteCodeAdapter(HFAdapter):
    """An HF family that runs the authors' hub remote code as its model card does, built by
    `compat.load_remote` with the family's named `differences` (GENA-LM, MutBERT, Caduceus)."""

    #: The remote module the family runs, named in errors.
    remote_file: ClassVar[str] = ""
    #: The Auto class(es) of the model card, looked up in `auto_map`.
    remote_auto_keys: ClassVar[tuple[str, ...]] = ("AutoModel",)

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        self.remote_class: type | None = None

    def _load_tokenizer(self) -> Any:
        from .. import compat
        from ..compat import helpers

        # AutoTokenizer may import the remote config module; keep its imports resolvable
        restore = compat.applies("restore-removed-helpers")
        with helpers.restored_helpers() if restore else nullcontext():
            return super()._load_tokenizer()

    def _load(self) -> None:
        # before the tokenizer, which may be remote code too (Caduceus): one clear error
        if not self.spec.trust_remote_code:
            raise ExtractError(
                f"model {self.spec.model_id!r}: family {self.family!r} runs the authors' remote code "
                f"({self.remote_file}); set trust_remote_code = true"
            )
        super()._load()

    def _load_model(self) -> Any:
        from ..compat import remote

        try:
            built = remote.load_remote(self.spec.weights, revision=self._hub_kwargs().get("revision"),
                                       hub_kwargs=self._hub_kwargs(), keys=self.remote_auto_keys,
                                       differences=type(self).differences, dtype=self._weight_dtype())
        except LookupError as exc:
            raise ExtractError(f"model {self.spec.model_id!r}: {exc}") from None
        self.remote_class = built.cls
        backbone = built.backbone()
        log.info("%s: embedding with %s of %s", self.spec.model_id, type(backbone).__name__, built.cls.__name__)
        return backbone
