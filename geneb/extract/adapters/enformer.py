"""Enformer through `enformer-pytorch` (EleutherAI/enformer-official-rough).

Enformer is a sequence-to-profile model with a fixed input window (196,608 bp) and an
output crop (896 bins of 128 bp). The official-rough port only reproduces the TensorFlow
model with `use_tf_gamma`, whose precomputed positional features exist for exactly that
window, so a GENEB sequence is embedded the way the model preset prescribes: the sequence
(truncated to the window) is centred in an N-padded window (N = an all-zero one-hot
column), the trunk's output embeddings (3072 = 2 x dim) are cropped to `target_length`
bins, and the vector is their spatial mean. Every input has the window's length, so
batches need no padding and each row equals its solo forward pass.

Weights: the hub id (pinned revision) or a local directory saved by enformer-pytorch.
`config.use_tf_gamma` in a user spec overrides the TF-gamma choice (default: on for the
official-rough weights, as `enformer_pytorch.from_pretrained` does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from ._families_common import local_weights, run_grouped
from .base import Adapter, ExtractError, Problem, UnsupportedSequenceError
from .hf_common import resolve_revision

BASE_INDEX = {"A": 0, "C": 1, "G": 2, "T": 3, "N": 4}  # enformer-pytorch's order; N -> zero column
TF_GAMMA_WINDOW = 196_608
OFFICIAL = "enformer-official-rough"


class EnformerAdapter(Adapter):
    family = "enformer"
    requires = ("torch", "transformers", "einops", "enformer_pytorch")
    extra = "enformer"

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        if options.pooling not in (None, "spatial-mean", "mean"):
            raise ExtractError(f"model {spec.model_id!r}: Enformer outputs bins; only spatial-mean pooling applies")
        if options.layer not in (None, -1):
            raise ExtractError(f"model {spec.model_id!r}: Enformer exposes only its output embeddings (layer -1)")

    # -- identity / availability ----------------------------------------------------------
    @property
    def window(self) -> int:
        if self.spec.length_unit != "bases" or not self.max_length:
            raise ExtractError(f"model {self.spec.model_id!r}: Enformer needs max_length in bases (its input window)")
        return int(self.max_length)

    @property
    def use_tf_gamma(self) -> bool:
        cfg = self.spec.config.get("use_tf_gamma")
        if cfg is not None:
            return bool(cfg)
        return OFFICIAL in self.spec.weights or OFFICIAL in self.spec.model_id

    def _weights(self) -> str:
        lw = local_weights(self.spec)
        return str(lw) if lw is not None else self.spec.weights

    @classmethod
    def check(cls, spec) -> list[Problem]:
        problems = super().check(spec)
        if problems or local_weights(spec) is not None or "/" in spec.weights:
            return problems
        return [Problem("weights", "no weights: set weights to a hub id or a local enformer-pytorch directory")]

    @classmethod
    def source(cls, spec) -> str:
        lw = local_weights(spec)
        return f"local weights at {lw}" if lw is not None else f"downloads {spec.weights} from the Hugging Face hub on first use"

    def describe(self) -> dict[str, Any]:
        w = self._weights()
        rev = resolve_revision(w, self.spec.revision)
        return {
            "weights": w, "revision": rev, "tokenizer": "one-hot ACGT (N = zeros)",
            "window_bases": self.window, "centred_n_padding": True, "use_tf_gamma": self.use_tf_gamma,
        }

    # -- work ---------------------------------------------------------------------------
    def _load(self) -> None:
        if self.model_ is not None:
            return
        import torch

        w = self._weights()
        try:
            model = self._build(w)
        except OSError as exc:
            raise ExtractError(f"model {self.spec.model_id!r}: cannot load {self.family} weights from {w!r}: {exc}") from exc
        self._configure(model)
        model.eval()
        self.model_ = model.to(torch.device(self.device))
        self.dim_ = int(model.config.dim) * 2
        bins = self.window // (2 ** int(model.config.num_downsamples))
        target = int(getattr(model.config, "target_length", -1) or -1)
        self._target = target if 0 < target <= bins else -1

    def _configure(self, model: Any) -> None:
        from enformer_pytorch.modeling_enformer import Attention

        if self.use_tf_gamma and self.window != TF_GAMMA_WINDOW:
            raise ExtractError(
                f"model {self.spec.model_id!r}: TF-gamma positional features exist only for a "
                f"{TF_GAMMA_WINDOW}-bp window, not {self.window}; set config.use_tf_gamma = false to change the window"
            )
        for m in model.modules():
            if isinstance(m, Attention):
                m.use_tf_gamma = self.use_tf_gamma

    def _build(self, w: str) -> Any:
        """Config -> Enformer -> state dict, without `Enformer.from_pretrained`: enformer-pytorch
        never calls `post_init`, which transformers 5's loader requires."""
        from enformer_pytorch import Enformer, EnformerConfig

        self._require_config(w)
        rev = self._revision_kw(w)
        model = Enformer(EnformerConfig.from_pretrained(w, **rev))
        load_aliased_state(model, _read_state_dict(w, rev.get("revision")), self.spec)
        return model

    @staticmethod
    def _require_config(w: str) -> None:
        """A local directory must hold config.json (the config class would otherwise fall back
        to its defaults, or to a hub lookup, without a word)."""
        if Path(w).is_dir() and not (Path(w) / "config.json").is_file():
            raise OSError(f"{w} has no config.json")
        if not Path(w).is_dir() and "/" not in w:
            raise OSError(f"{w!r} is neither a local directory nor a hub id")

    def _revision_kw(self, w: str) -> dict[str, str]:
        return {"revision": self.spec.revision} if self.spec.revision and not Path(w).is_dir() else {}

    def validate(self, sequences, where: str) -> None:
        for i, s in enumerate(sequences):
            bad = set(s.upper()) - BASE_INDEX.keys()
            if bad:
                c = sorted(bad)[0]
                raise UnsupportedSequenceError(
                    f"{where}: row {i}: character {c!r} is not a base Enformer can encode (A, C, G, T, N)"
                )

    def prepare(self, seq: str) -> np.ndarray:
        w = self.window
        s = seq.upper()[:w]
        try:
            idx = np.fromiter((BASE_INDEX[c] for c in s), dtype=np.int64, count=len(s))
        except KeyError as exc:
            raise UnsupportedSequenceError(f"model {self.spec.model_id!r}: cannot encode base {exc.args[0]!r}") from None
        out = np.full(w, BASE_INDEX["N"], dtype=np.int64)
        left = (w - len(s)) // 2
        out[left : left + len(s)] = idx
        return out

    def _forward_group(self, ids: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(ids).to(torch.device(self.device))
        ctx = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if self.device.startswith("cuda") and self.options.compute_dtype != "float32"
            else torch.autocast("cpu", enabled=False)
        )
        with torch.inference_mode(), ctx:
            emb = self._bins(x)
        return emb.float().mean(dim=1).cpu().numpy()

    def _bins(self, x: Any) -> Any:
        """(B, window) base indices -> (B, bins, dim) output embeddings, cropped."""
        return self.model_(x, return_only_embeddings=True, target_length=self._target)

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        if self.model_ is None:
            self.load()
        return run_grouped(batch, self._forward_group)


def load_aliased_state(model: Any, state: dict[str, Any], spec: Any) -> None:
    """Load `state` into `model`, where modules registered twice (Enformer's `_trunk`
    aliases stem/conv_tower/...) share storage: a key is missing only if no alias of its
    tensor was loaded; unknown keys mean a wrong checkpoint."""
    own = model.state_dict()
    unexpected = sorted(set(state) - set(own))
    if unexpected:
        raise ExtractError(f"model {spec.model_id!r}: checkpoint has keys the model does not: {unexpected[:5]}")
    model.load_state_dict(state, strict=False)
    loaded = {own[k].data_ptr() for k in state}
    missing = sorted(k for k in own if k not in state and own[k].data_ptr() not in loaded)
    if missing:
        raise ExtractError(f"model {spec.model_id!r}: checkpoint lacks {len(missing)} tensors, e.g. {missing[:5]}")


def _read_state_dict(w: str, revision: str | None) -> dict[str, Any]:
    """model.safetensors or pytorch_model.bin from a local directory or the hub."""
    import torch

    names = ("model.safetensors", "pytorch_model.bin")
    if Path(w).is_dir():
        found = [Path(w) / n for n in names if (Path(w) / n).exists()]
        if not found:
            raise OSError(f"{w} has neither {names[0]} nor {names[1]}")
        path = found[0]
    else:
        from huggingface_hub import hf_hub_download
        from huggingface_hub.utils import EntryNotFoundError

        path = None
        for n in names:
            try:
                path = Path(hf_hub_download(w, n, revision=revision))
                break
            except EntryNotFoundError:
                continue
        if path is None:
            raise OSError(f"{w} has neither {names[0]} nor {names[1]}")
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(str(path))
    return torch.load(path, map_location="cpu", weights_only=True)


ADAPTER = EnformerAdapter
