"""JanusDNA (JanusDNA_72_w / _wo): bidirectional Mamba + attention MoE, weights on Harvard
Dataverse, code in github.com/Qihao-Duan/JanusDNA.

Point geneb at both:

* the weights: a directory holding the Lightning checkpoint (`*.ckpt`) and its config
  (`*.json` with a top-level "config" table), via `GENEB_WEIGHTS_<MODEL_ID>=/path/to/dir`
  (e.g. GENEB_WEIGHTS_JANUSDNA_72_W) or `weights = "/path"` in a user model file;
* the code checkout (packages `janusdna` and `caduceus`): `GENEB_CODE_JANUSDNA` or
  `config.code_dir`.

Character tokens (Caduceus tokenizer, no special tokens), truncated to max_length. The
checkpoint's keys lose their Lightning prefixes (`model.model.`, `model.`, `module.`,
metric states dropped). If the checkpoint has no trained `final_mlp` (the released 72-dim
models predate it), that block is replaced by identity as in the reference; a trained one
is kept. Mamba kernels are used only on CUDA with mamba_ssm installed (otherwise the
config's `use_mamba_kernels` is switched off). The model reads both directions and has no
usable padding mask (the reference padded to 1024 and pooled with the mask), so batches
run as unpadded equal-length groups: each vector equals the solo forward pass.
"""

from __future__ import annotations

import json
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
    run_grouped,
    weights_hint,
)
from .base import Adapter, ExtractError, UnsupportedSequenceError, cuda_available, missing_modules

REPO = "https://github.com/Qihao-Duan/JanusDNA"
WHAT = "the JanusDNA checkpoint directory (*.ckpt + *.json) from Harvard Dataverse"
PREFIXES = ("model.model.", "model.", "module.")
DROP = ("train_torchmetrics.", "val_torchmetrics.", "test_torchmetrics.")


def clean_state_dict(state: dict[str, Any]) -> dict[str, Any]:
    """Lightning checkpoint keys -> JanusDNAModel keys (metric states dropped)."""
    out = {}
    for k, v in state.items():
        if k.startswith(DROP):
            continue
        for p in PREFIXES:
            if k.startswith(p):
                k = k[len(p):]
                break
        if k.startswith("module."):
            k = k[len("module."):]
        out[k] = v
    return out


def read_config(path: Path) -> dict[str, Any]:
    raw = json.loads(path.read_text())
    cfg = dict(raw.get("config", raw))
    if "bidirectional" in cfg:  # stored as a string ("true," / "True") in released configs
        cfg["bidirectional"] = str(cfg["bidirectional"]).strip().strip(",").lower() == "true"
    return cfg


class JanusDNAAdapter(LocalCheckout, Adapter):
    family = "janusdna"
    weights_what = WHAT
    code = (REPO, "janusdna")
    final_layer_only = "JanusDNA exposes its final hidden state"
    requires = ("torch", "transformers")
    extra = "extract"

    def _files(self, required: bool = True) -> tuple[Path, Path] | None:
        d = local_weights(self.spec)
        if d is not None and d.is_file():
            d = d.parent
        ckpt = sorted(d.glob("*.ckpt")) if d is not None else []
        conf = sorted(d.glob("*.json")) if d is not None else []
        if not ckpt or not conf:
            if required:
                raise ExtractError(weights_hint(self.spec, WHAT))
            return None
        return ckpt[0], conf[0]

    def identity_path(self, required: bool = True) -> Path | None:
        files = self._files(required)
        return files[0].parent if files else None

    def describe(self) -> dict[str, Any]:
        return {
            **self.local_identity(),
            "tokenizer": "caduceus character tokenizer, no special tokens",
        }

    def _load(self) -> None:
        if self.model_ is not None:
            return
        import torch

        ckpt, conf = self._files()
        src = code_dir(self.spec)
        if src is None:
            raise ExtractError(code_hint(self.spec, REPO, "janusdna"))
        cfg_mod = import_from_checkout(src, "janusdna.configuration_janusdna", self.spec)
        model_mod = import_from_checkout(src, "janusdna.modeling_janusdna", self.spec)
        tok_mod = import_from_checkout(src, "caduceus.tokenization_caduceus", self.spec)
        cfg = read_config(conf)
        use_kernels = self.device.startswith("cuda") and cuda_available() and not missing_modules(("mamba_ssm",))
        if "use_mamba_kernels" in cfg or not use_kernels:
            cfg["use_mamba_kernels"] = use_kernels
        model = model_mod.JanusDNAModel(cfg_mod.JanusDNAConfig(**cfg))
        try:
            raw = torch.load(ckpt, map_location="cpu", weights_only=False)
        except Exception as exc:  # noqa: BLE001
            raise ExtractError(f"model {self.spec.model_id!r}: cannot read {ckpt}: {exc}") from exc
        state = clean_state_dict(raw.get("state_dict", raw))
        missing, _ = model.load_state_dict(state, strict=False)
        has_mlp = any(k.startswith("final_mlp.") for k in state)
        missing = [k for k in missing if not (k.startswith("final_mlp.") and not has_mlp)]
        if missing:
            raise ExtractError(f"model {self.spec.model_id!r}: checkpoint lacks {len(missing)} tensors, e.g. {missing[:3]}")
        if not has_mlp and hasattr(model, "final_mlp"):
            model.final_mlp = torch.nn.Identity()
        model.eval()
        self.model_ = model.to(torch.device(self.device))
        limit = int(self.max_length) if self.max_length else 1024
        self.tokenizer_ = tok_mod.CaduceusTokenizer(model_max_length=limit, padding_side="right")
        self.dim_ = int(getattr(model.config, "hidden_size", 0) or model.config.d_model)

    def prepare(self, seq: str) -> np.ndarray:
        ids = self.tokenizer_(seq, add_special_tokens=self.spec.special_tokens != "none", truncation=True,
                             max_length=self.tokenizer_.model_max_length)["input_ids"]
        unk = getattr(self.tokenizer_, "unk_token_id", None)
        if unk is not None and unk in ids:
            raise UnsupportedSequenceError(f"model {self.spec.model_id!r}: a character maps to the unknown token")
        return np.asarray(ids, dtype=np.int64)

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        import torch

        if self.model_ is None:
            self.load()
        dev = torch.device(self.device)

        def forward(ids_np: np.ndarray) -> np.ndarray:
            ids = torch.from_numpy(ids_np).to(dev)
            with torch.inference_mode():
                hidden = self.model_(input_ids=ids, return_dict=True).last_hidden_state
                return pool(self.pooling, hidden, torch.ones_like(ids)).float().cpu().numpy()

        return run_grouped(batch, forward)


ADAPTER = JanusDNAAdapter
