"""DNABERT-2 and DNABERT-S (zhihan1996/*): MosaicBERT remote code (`bert_layers.py`).

Loading quirks handled here, each one a known way this model fails on current stacks:

* The remote `BertModel` declares transformers' own `BertConfig` as its config class while
  `auto_map` builds the remote one, so the Auto classes refuse the pair. We resolve the
  class from `auto_map` (pinned revision, trust_remote_code) and call its `from_pretrained`.
* Its `flash_attn_triton.py` imports `triton` at top level; transformers refuses remote
  code whose imports are missing even though `bert_layers.py` guards that import. When
  triton is absent we hide it from that check for the duration of the load only.
* The triton kernel needs CUDA and breaks on newer triton (`tl.dot(trans_b=...)`).
  `bert_layers.py` has a plain-attention path taken when `flash_attn_qkvpacked_func is
  None`: on CPU we take it from the start; on CUDA we try triton and fall back to plain
  attention (with a warning) the first time it fails.
* transformers 5 builds models under a meta-device context; the non-persistent ALiBi
  buffer (not in the checkpoint) then comes back as uninitialised memory or still on
  meta, silently corrupting every sequence shorter than `alibi_starting_size`. We always
  rebuild it on the real device after loading.

DNABERT-S needs the same remote code: the reference extractor omitted trust_remote_code
(so it loaded a plain BERT without ALiBi); we refuse to load this family without it.
Intermediate layers come from forward hooks on the encoder blocks, whose outputs are
unpadded (tokens, dim) rows and are scattered back into (batch, time, dim).
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from typing import Any

from ._families_common import resolve_layer
from .base import ExtractError, missing_modules
from .hf_common import HFAdapter

log = logging.getLogger(__name__)

FLASH_GLOBAL = "flash_attn_qkvpacked_func"


@contextlib.contextmanager
def without_triton_import_check() -> Iterator[None]:
    """Let transformers load remote code that imports triton in a guarded module when
    triton is not installed (bert_layers.py falls back to plain attention itself)."""
    if not missing_modules(("triton",)):
        yield
        return
    from transformers import dynamic_module_utils as dmu

    orig = dmu.get_imports

    def filtered(filename: Any) -> list[str]:
        return [m for m in orig(filename) if m != "triton"]

    dmu.get_imports = filtered
    try:
        yield
    finally:
        dmu.get_imports = orig


def repad(states: Any, mask: Any) -> Any:
    """(nnz, D) rows of the real tokens, in row-major mask order -> (B, T, D) zero-padded;
    already padded (B, T, D) states pass through."""
    import torch

    if states.dim() == 3:
        return states
    b, t = mask.shape
    flat = mask.reshape(-1).bool()
    if int(flat.sum()) != states.shape[0]:
        raise RuntimeError(f"unpadded states have {states.shape[0]} rows for {int(flat.sum())} real tokens")
    out = torch.zeros(b * t, states.shape[-1], dtype=states.dtype, device=states.device)
    out[flat] = states
    return out.reshape(b, t, -1)


class DNABERT2Adapter(HFAdapter):
    family = "dnabert2"

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        self._remote: Any = None  # the imported bert_layers module

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "attention": "plain (MosaicBERT fallback) on CPU, triton when it works on CUDA"}

    # -- loading ------------------------------------------------------------------------
    def _load_tokenizer(self) -> Any:
        with without_triton_import_check():
            return super()._load_tokenizer()

    def _load_model(self) -> Any:
        from transformers import AutoConfig
        from transformers.dynamic_module_utils import get_class_from_dynamic_module

        sid = self.spec.model_id
        if not self.spec.trust_remote_code:
            raise ExtractError(
                f"model {sid!r}: family 'dnabert2' runs MosaicBERT remote code; set trust_remote_code = true "
                "(without it transformers builds a plain BERT that ignores ALiBi and gives wrong vectors)"
            )
        kw = self._hub_kwargs()
        with without_triton_import_check():
            config = AutoConfig.from_pretrained(self.spec.weights, **kw)
            ref = (getattr(config, "auto_map", None) or {}).get("AutoModel")
            if not ref:
                raise ExtractError(f"model {sid!r}: config.json of {self.spec.weights!r} has no auto_map.AutoModel entry")
            cls = get_class_from_dynamic_module(ref, self.spec.weights, revision=kw.get("revision"))
            self._remote = sys.modules[cls.__module__]
            if getattr(config, "pad_token_id", None) is None:
                config.pad_token_id = 0
            if not self.device.startswith("cuda"):
                self._disable_flash("triton kernels need CUDA")
            model = cls.from_pretrained(
                self.spec.weights, config=config, dtype=self._weight_dtype(),
                **({"revision": kw["revision"]} if "revision" in kw else {}),
            )
        return model

    def load(self) -> None:
        super().load()
        self._repair_meta_buffers()

    def _repair_meta_buffers(self) -> None:
        """Rebuild every ALiBi buffer (never trust its loaded contents); refuse other
        buffers left on the meta device."""
        import torch

        dev = torch.device(self.device)
        default = int(getattr(self.model.config, "alibi_starting_size", 512))
        for name, mod in self.model.named_modules():
            if hasattr(mod, "rebuild_alibi_tensor") and hasattr(mod, "alibi"):
                mod.rebuild_alibi_tensor(size=int(getattr(mod, "_current_alibi_size", 0) or default), device=dev)
            for bname, buf in mod.named_buffers(recurse=False):
                if buf.is_meta:
                    raise ExtractError(
                        f"model {self.spec.model_id!r}: buffer {name}.{bname} was left uninitialised (meta device) by loading"
                    )

    def _flash_active(self) -> bool:
        return self._remote is not None and getattr(self._remote, FLASH_GLOBAL, None) is not None

    def _disable_flash(self, why: str) -> None:
        if self._remote is not None and hasattr(self._remote, FLASH_GLOBAL):
            if getattr(self._remote, FLASH_GLOBAL) is not None:
                log.info("%s: using plain attention (%s)", self.spec.model_id, why)
            setattr(self._remote, FLASH_GLOBAL, None)

    # -- forward ------------------------------------------------------------------------
    def _blocks(self) -> Any:
        enc = getattr(self.model, "encoder", None)
        layers = getattr(enc, "layer", None)
        if layers is None:
            raise ExtractError(f"model {self.spec.model_id!r}: cannot find encoder.layer to tap layer {self.layer}")
        return layers

    def _forward_once(self, ids: Any, mask: Any) -> Any:
        if self.layer == -1:
            out = self.model(input_ids=ids, attention_mask=mask)
            return repad(out[0] if isinstance(out, tuple | list) else out.last_hidden_state, mask)
        blocks = self._blocks()
        block = blocks[resolve_layer(len(blocks), self.layer, self.spec)]
        captured: list[Any] = []
        handle = block.register_forward_hook(lambda _m, _i, o: captured.append(o[0] if isinstance(o, tuple) else o))
        try:
            self.model(input_ids=ids, attention_mask=mask)
        finally:
            handle.remove()
        return repad(captured[-1], mask)

    def _forward(self, ids: Any, mask: Any) -> Any:
        try:
            return self._forward_once(ids, mask)
        except Exception as exc:  # noqa: BLE001 - any failure of the triton path
            if not self._flash_active():
                raise
            log.warning("%s: triton flash-attention failed (%s); falling back to plain attention",
                        self.spec.model_id, exc)
            self._disable_flash("triton failed")
            return self._forward_once(ids, mask)


ADAPTER = DNABERT2Adapter
