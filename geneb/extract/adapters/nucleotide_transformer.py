"""Nucleotide Transformers (v1, v2, Agro-NT): ESM encoders with a k-mer `EsmTokenizer`.

Tokenizer: `<cls>` then non-overlapping k-mers (6-mers; 3-mers for NT v2 50m-3mer) from the
left, falling back to single nucleotides where fewer than k bases remain or an `N`
interrupts; no end token (the hub `tokenizer_config.json` sets `eos_token` to null). A run of
characters the vocabulary lacks (lower case included) becomes one `<unk>`, as the authors'
tokenizer does. `max_length` counts tokens including `<cls>`.

Two kinds of checkpoint:

* **Native ESM** (NT v1, Agro-NT: `model_type: esm`, no `auto_map`): transformers' own
  `EsmModel`, loaded through `AutoModel` like any encoder.
* **Remote code** (NT v2 50m/50m-3mer/100m/250m/500m): `config.json`'s `auto_map` names only
  `esm_config.EsmConfig` and `modeling_esm.EsmForMaskedLM` (+ classification heads) and has
  no `model_type`. The remote config class is *named* `EsmConfig`, and the Auto classes
  resolve a native class by that name, so `AutoModel.from_pretrained(..., trust_remote_code=True)`
  silently builds transformers' native ESM (GELU feed-forward with bias) instead of NT v2's
  bias-free SwiGLU, and then fails on size mismatches or runs the wrong network. geneb builds
  the class the model card loads (`AutoModelForMaskedLM` -> `modeling_esm.EsmForMaskedLM`)
  from `auto_map`, on the CPU outside transformers' meta-device init, loads the checkpoint,
  and keeps its backbone `esm` (the remote `EsmModel`). The model card's embedding,
  `outputs["hidden_states"][-1]` of the masked-LM model, is the backbone's
  `last_hidden_state` (after the final layer norm); pooling is the attention-mask mean.

The remote code was written for transformers 4.3x; the differences it needs on newer
versions are named in `geneb.extract.compat` (`differences` below): removed helpers restored
while it is imported, 4.x config defaults, `get_head_mask` and `get_extended_attention_mask`
(removed from `PreTrainedModel` in transformers 5) added to the remote base class, and the
4.x `self.init_weights()` at the end of `EsmForMaskedLM.__init__` deferred to `post_init`.
Checkpoint weights the embedding path never reads (the contact head, the masked-LM head)
may be absent, as `from_pretrained` allows; any other missing weight is an error.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar

from .base import ExtractError
from .hf_common import HFAdapter

log = logging.getLogger(__name__)

#: Checkpoint weights that the embedding path never reads; `from_pretrained` leaves them
#: randomly initialised when a checkpoint lacks them, and so may geneb.
UNUSED_WEIGHTS: tuple[str, ...] = (r"^esm\.contact_head\.", r"^lm_head\.")


def remote_auto_class(config_dict: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    """The first of `keys` that config.json's `auto_map` names, or None (a native checkpoint)."""
    auto_map = config_dict.get("auto_map") or {}
    if not isinstance(auto_map, dict):
        return None
    return next((k for k in keys if auto_map.get(k)), None)


class NucleotideTransformerAdapter(HFAdapter):
    family = "nucleotide-transformer"
    #: The differences the remote-code checkpoints (NT v2) need; native ones (v1, Agro-NT)
    #: load through `AutoModel` and apply none of them.
    differences: ClassVar[tuple[str, ...]] = (
        "class-from-auto-map", "restore-removed-helpers", "config-4x-defaults", "add-get-head-mask",
        "add-get-extended-attention-mask", "defer-init-weights-to-post-init", "build-outside-meta",
    )
    #: The class the NT v2 model card loads.
    remote_auto_keys: ClassVar[tuple[str, ...]] = ("AutoModelForMaskedLM",)

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        self.remote_class: type | None = None  # the auto_map class built (NT v2), None for native ESM
        self._remote: bool | None = None  # known once loaded

    # -- identity: the differences enter the key only for remote-code checkpoints -------
    def _cached_config_dict(self) -> dict[str, Any] | None:
        """config.json when it is on this machine (local directory or HF cache), else None;
        never downloads."""
        import json
        from pathlib import Path

        w = self.spec.weights
        path: Any = Path(w) / "config.json" if Path(w).is_dir() else None
        if path is None and "/" in w:
            try:
                from huggingface_hub import try_to_load_from_cache

                got = try_to_load_from_cache(w, "config.json", revision=self.resolved_revision())
                path = Path(got) if isinstance(got, str) else None
            except Exception:  # noqa: BLE001 - no cache, no hint
                path = None
        try:
            return json.loads(path.read_text()) if path is not None and path.is_file() else None
        except (OSError, ValueError):
            return None

    def is_remote(self) -> bool | None:
        """True for an auto_map checkpoint (NT v2), False for native ESM, None while unknown
        (not loaded and config.json not on this machine)."""
        if self._remote is None:
            cfg = self._cached_config_dict()
            if cfg is not None:
                return remote_auto_class(cfg, self.remote_auto_keys) is not None
        return self._remote

    def describe(self) -> dict[str, Any]:
        # Native checkpoints apply none of the differences, so their key has no "compat"
        # entry (as before remote-code support); unknown (before a first download) lists them.
        self.differences = () if self.is_remote() is False else type(self).differences
        return super().describe()

    # -- loading ------------------------------------------------------------------------
    def _config_dict(self) -> dict[str, Any]:
        """config.json as a dict, without running any remote code."""
        from transformers import PretrainedConfig

        kw = {"revision": self.spec.revision} if "revision" in self._hub_kwargs() else {}
        cfg, _ = PretrainedConfig.get_config_dict(self.spec.weights, **kw)
        return cfg

    def _load_model(self) -> Any:
        key = remote_auto_class(self._config_dict(), self.remote_auto_keys)
        self._remote = key is not None
        if key is None:
            return super()._load_model()  # native ESM (NT v1, Agro-NT)
        if not self.spec.trust_remote_code:
            raise ExtractError(
                f"model {self.spec.model_id!r}: {self.spec.weights} ships its own ESM code (auto_map {key}); "
                "set trust_remote_code = true (without it transformers builds its native ESM, a different "
                "feed-forward, and fails or gives wrong vectors)"
            )
        return self._load_remote()

    def _load_remote(self) -> Any:
        from ..compat import remote

        built = remote.load_remote(self.spec.weights, revision=self._hub_kwargs().get("revision"),
                                   hub_kwargs=self._hub_kwargs(), keys=self.remote_auto_keys,
                                   differences=type(self).differences, dtype=self._weight_dtype(),
                                   optional_missing=UNUSED_WEIGHTS)
        self.remote_class = built.cls
        backbone = built.backbone()
        if backbone is built.model:
            raise ExtractError(f"model {self.spec.model_id!r}: {built.cls.__name__} has no backbone "
                               f"{getattr(built.cls, 'base_model_prefix', '')!r}")
        log.info("%s: embedding with the %s backbone of %s", self.spec.model_id, type(backbone).__name__,
                 built.cls.__name__)
        return backbone


ADAPTER = NucleotideTransformerAdapter
