"""eccDNAMamba (eccDNAMamba/eccDNAMamba-1M): a bidirectional Mamba-2 masked LM over BPE.

The model class is `BiMambaForMaskedLM`: taken from the checkpoint's `auto_map` when the
hub repository ships it as remote code, else imported from a checkout of
github.com/zzq1zh/eccDNAMamba (`GENEB_CODE_ECCDNAMAMBA` or `config.code_dir`). Its output
dict carries the final token states under "hidden_states". Mamba kernels need the `mamba`
extra and CUDA. Like Caduceus it cannot mask padding (the reference passed a mask the
model does not use), so batches run as unpadded equal-length groups.
"""

from __future__ import annotations

from typing import Any

from ._families_common import (
    code_dir,
    code_hint,
    import_from_checkout,
    remote_class,
)
from .base import ExtractError
from .hf_common import HFAdapter

REPO = "https://github.com/zzq1zh/eccDNAMamba"
MODULE = "BiMambaForMaskedLM"


class EccDNAMambaAdapter(HFAdapter):
    family = "eccdnamamba"
    requires = ("torch", "transformers", "mamba_ssm")
    extra = "mamba"
    needs_cuda = True
    final_layer_only = "eccDNAMamba exposes its final hidden states"
    takes_attention_mask = False  # Mamba: the mask is not applied; equal-length groups run unpadded
    measure_width = True  # the config's width is not the output width for every variant

    def _model_class(self, config: Any) -> Any:
        cls = remote_class(self.spec, config, ("AutoModelForMaskedLM", "AutoModel"), self._hub_kwargs().get("revision"))
        if cls is not None:
            return cls
        src = code_dir(self.spec)
        if src is None:
            raise ExtractError(code_hint(self.spec, REPO, MODULE))
        return getattr(import_from_checkout(src, MODULE, self.spec), MODULE)

    def _load_model(self) -> Any:
        from transformers import AutoConfig

        kw = self._hub_kwargs()
        config = AutoConfig.from_pretrained(self.spec.weights, **kw)
        cls = self._model_class(config)
        extra = {"revision": kw["revision"]} if "revision" in kw else {}
        return cls.from_pretrained(self.spec.weights, config=config, dtype=self._weight_dtype(), **extra)

    def _forward(self, ids: Any, mask: Any) -> Any:
        out = self.model_(input_ids=ids, attention_mask=mask)
        hidden = out["hidden_states"] if isinstance(out, dict) or hasattr(out, "keys") else getattr(out, "hidden_states", None)
        if hidden is None or getattr(hidden, "dim", lambda: 0)() != 3:
            raise ExtractError(f"model {self.spec.model_id!r}: the model returned no (batch, time, dim) 'hidden_states'")
        return hidden


ADAPTER = EccDNAMambaAdapter
