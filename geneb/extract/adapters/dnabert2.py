"""DNABERT-2 and DNABERT-S (zhihan1996/*): MosaicBERT remote code (`bert_layers.py`).

Checked against the real remote files (hub repository zhihan1996/DNABERT-2-117M, read in
its GitHub copy ashal-ali/CS224N_DNABERT2 @ d064dec) on transformers 4.57 and 5.x. The
compatibility differences (geneb/extract/compat) this family applies:

* `class-from-auto-map`: the remote `BertModel` declares transformers' own `BertConfig` as
  its config class while `auto_map` builds the remote one, so the Auto classes refuse the
  pair; the class comes from `auto_map["AutoModel"]` (pinned revision, trust_remote_code).
* `build-outside-meta`: `BertEncoder.__init__` calls `rebuild_alibi_tensor`, where
  `torch.Tensor(list)` stays on the CPU while `torch.arange` lands on transformers 5's meta
  device ("Tensor on device meta is not on the expected device cpu!"); `self.alibi` is a
  plain attribute, not a buffer. The model is built from its config on the CPU and its
  state dict loaded; the real forward moves or rebuilds `alibi` to the input's device and
  length itself.
* `config-4x-defaults`: `BertModel.__init__` / `BertForMaskedLM.__init__` read
  `config.is_decoder`, which transformers 5 configs no longer define.

Its `flash_attn_triton.py` imports `triton` at top level; transformers refuses remote code
whose imports are missing even though `bert_layers.py` guards that import, so triton is
hidden from that check while loading when it is absent. The triton kernel needs CUDA and
breaks on newer triton (`tl.dot(trans_b=...)`): on CPU the plain-attention path
(`flash_attn_qkvpacked_func = None`) is taken from the start; on CUDA triton is tried and
geneb falls back to plain attention (with a warning) the first time it fails.

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
    differences = ("class-from-auto-map", "build-outside-meta", "config-4x-defaults")

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
        from ..compat import remote

        sid = self.spec.model_id
        if not self.spec.trust_remote_code:
            raise ExtractError(
                f"model {sid!r}: family 'dnabert2' runs MosaicBERT remote code; set trust_remote_code = true "
                "(without it transformers builds a plain BERT that ignores ALiBi and gives wrong vectors)"
            )
        with without_triton_import_check():
            try:
                built = remote.load_remote(self.spec.weights, revision=self._hub_kwargs().get("revision"),
                                           hub_kwargs=self._hub_kwargs(), keys=("AutoModel",),
                                           differences=type(self).differences, dtype=self._weight_dtype())
            except LookupError as exc:
                raise ExtractError(f"model {sid!r}: {exc}") from None
        self._remote = sys.modules[built.cls.__module__]
        if not self.device.startswith("cuda"):
            self._disable_flash("triton kernels need CUDA")
        return built.model

    def _flash_active(self) -> bool:
        return self._remote is not None and getattr(self._remote, FLASH_GLOBAL, None) is not None

    def _disable_flash(self, why: str) -> None:
        if self._remote is not None and hasattr(self._remote, FLASH_GLOBAL):
            if getattr(self._remote, FLASH_GLOBAL) is not None:
                log.info("%s: using plain attention (%s)", self.spec.model_id, why)
            setattr(self._remote, FLASH_GLOBAL, None)

    # -- forward ------------------------------------------------------------------------
    def _blocks(self) -> Any:
        enc = getattr(self.model_, "encoder", None)
        layers = getattr(enc, "layer", None)
        if layers is None:
            raise ExtractError(f"model {self.spec.model_id!r}: cannot find encoder.layer to tap layer {self.layer}")
        return layers

    def _forward_once(self, ids: Any, mask: Any) -> Any:
        if self.layer == -1:
            out = self.model_(input_ids=ids, attention_mask=mask)
            return repad(out[0] if isinstance(out, tuple | list) else out.last_hidden_state, mask)
        blocks = self._blocks()
        block = blocks[resolve_layer(len(blocks), self.layer, self.spec)]
        captured: list[Any] = []
        handle = block.register_forward_hook(lambda _m, _i, o: captured.append(o[0] if isinstance(o, tuple) else o))
        try:
            self.model_(input_ids=ids, attention_mask=mask)
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
