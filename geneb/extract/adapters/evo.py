"""Evo (togethercomputer/evo-1-131k-base): StripedHyena, byte tokens, loaded without transformers.

Loaded as the Evo authors load it today (`evo-model` 0.5 `evo.models.load_checkpoint`): the
checkpoint's safetensors at the pinned revision (`1.1_fix`), keys without their `backbone.`
prefix, the tied unembedding restored, `stripedhyena.model.StripedHyena` built from the
config and loaded strictly, then `to_bfloat16_except_poles_residues()`. The authors moved
off `AutoModelForCausalLM` because transformers 5 breaks Evo-1's tied-weight handling; the
hub remote code (`modeling_hyena.py`) builds the same `StripedHyena(dotdict(config.to_dict()))`
and forces the same dtypes, so the vectors are those of the GENEB reference's loading path,
on any transformers. The config is the checkpoint's `config.json` (the one the hub remote
code reads).

Requirements follow the architecture: attention blocks use flash-attention (a CUDA GPU and
`geneb[evo]`); a checkpoint with Hyena blocks only (`attn_layer_idxs = []`, e.g. a shrunk
test model) runs on the CPU with `stripedhyena` alone. Tokens are the UTF-8 bytes of the
sequence (Evo's CharLevelTokenizer: no special tokens, vocab 512). The final hidden state is
the output of `norm` (the input of the unembedding), captured with a forward hook;
intermediate layers hook `blocks[k-1]`. States are bfloat16 (as the authors run) and are
pooled in float32.

Evo is causal, so right padding with the pad positions zeroed (`padding_mask`) leaves real
positions untouched and the masked mean is exact for every record. The reference kept only
the first record of each batch (`mean-first-record-only`); we embed all.
`length_policy = reject` (catalog): a sequence longer than the context is an error naming
its row, never silently truncated.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ...catalog import ModelSpec
from ._families_common import resolve_layer
from .base import ExtractError, MissingExtraError, UnsupportedSequenceError
from .hf_common import HFAdapter

PAD_ID = 1  # CharLevelTokenizer: eos 0, pad 1
#: Files the loader reads: never anything else is downloaded.
HUB_FILES = ("*.safetensors", "*.safetensors.index.json", "config.json")


class ByteTokenizer:
    """Evo's CharLevelTokenizer: one token per UTF-8 byte."""

    pad_token_id = PAD_ID
    unk_token_id = None
    model_max_length = None

    def encode(self, seq: str) -> list[int]:
        return list(seq.encode("utf-8"))


def _local_config(spec: ModelSpec) -> dict[str, Any] | None:
    path = Path(spec.weights) / "config.json" if spec.weights else None
    if path is None or not path.is_file():
        return None
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ExtractError(f"model {spec.model_id!r}: cannot read {path}: {exc}") from exc


def has_attention(config: dict[str, Any] | None) -> bool:
    """True unless the config says it has no attention blocks (hub models are assumed to)."""
    return config is None or bool(config.get("attn_layer_idxs", [0]))


def read_checkpoint(directory: Path) -> dict[str, Any]:
    """The checkpoint's tensors (one or several safetensors shards), as the authors read them."""
    from safetensors.torch import load_file

    index = directory / "model.safetensors.index.json"
    single = directory / "model.safetensors"
    if index.is_file():
        shards = sorted(set(json.loads(index.read_text())["weight_map"].values()))
        state: dict[str, Any] = {}
        for name in shards:
            state.update(load_file(str(directory / name)))
        return state
    if single.is_file():
        return load_file(str(single))
    raise ExtractError(f"{directory}: no model.safetensors or model.safetensors.index.json (Evo ships safetensors)")


def stripedhyena_state(raw: dict[str, Any]) -> dict[str, Any]:
    """HF checkpoint keys to `StripedHyena` keys: drop the wrapper's `backbone.` prefix and
    restore the unembedding Evo-1 stores only once (tied to the embedding)."""
    state = {k[len("backbone."):] if k.startswith("backbone.") else k: v for k, v in raw.items()}
    if "unembed.weight" not in state and "embedding_layer.weight" in state:
        state["unembed.weight"] = state["embedding_layer.weight"]
    return state


class EvoAdapter(HFAdapter):
    family = "evo"
    requires = ("torch", "stripedhyena", "safetensors", "flash_attn")
    extra = "evo"

    @classmethod
    def requirements(cls, spec: ModelSpec) -> tuple[tuple[str, ...], bool]:
        """Flash-attention and a GPU only for checkpoints with attention blocks."""
        if has_attention(_local_config(spec)):
            return cls.requires, True
        return tuple(m for m in cls.requires if m != "flash_attn"), False

    @property
    def rejects_long(self) -> bool:
        return self.spec.length_policy == "reject"

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "tokenizer": "utf-8 bytes (CharLevelTokenizer 512)",
                "loader": "stripedhyena.model.StripedHyena from config.json + safetensors (as evo-model 0.5)",
                "weight_dtype": "bfloat16 except poles/residues", "length_policy": self.spec.length_policy}

    def _load_tokenizer(self) -> ByteTokenizer:
        return ByteTokenizer()

    def _checkpoint_dir(self) -> Path:
        if Path(self.spec.weights).is_dir():
            return Path(self.spec.weights)
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(self.spec.weights, revision=self.resolved_revision(),
                                      allow_patterns=list(HUB_FILES)))

    def _load_model(self) -> Any:
        import torch
        from stripedhyena.model import StripedHyena
        from stripedhyena.utils import dotdict

        directory = self._checkpoint_dir()
        config = json.loads((directory / "config.json").read_text())
        if has_attention(config) and self.device == "cpu":
            raise MissingExtraError(
                f"model {self.spec.model_id!r}: its attention blocks ({config.get('attn_layer_idxs')}) run on "
                "flash-attention, which needs a CUDA GPU")
        with torch.device("cpu"):
            model = StripedHyena(dotdict(config))
        state = stripedhyena_state(read_checkpoint(directory))
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            raise ExtractError(f"model {self.spec.model_id!r}: {directory} does not match its config: {exc}") from exc
        model.to_bfloat16_except_poles_residues()
        return model  # `model.config` is the dotdict StripedHyena keeps

    def _hidden_size(self) -> int:
        v = self.model_.config.get("hidden_size")
        if not isinstance(v, int):
            raise ExtractError(f"model {self.spec.model_id!r}: config has no hidden_size")
        return v

    def _tokenize(self, seq: str) -> list[int]:
        ids = self.tokenizer_.encode(seq)
        limit = self._limit
        if limit is not None and len(ids) > limit:
            if self.rejects_long:
                raise UnsupportedSequenceError(
                    f"model {self.spec.model_id!r}: sequence of {len(ids)} tokens exceeds its context of {limit} "
                    "(length_policy = reject)"
                )
            ids = ids[:limit]
        return ids

    def _special_ids(self) -> set[int]:
        return set()

    def validate(self, sequences, where: str) -> None:
        limit = self.max_length if self.spec.length_unit == "tokens" else None
        if self.rejects_long and limit:
            for i, s in enumerate(sequences):
                if len(s.encode("utf-8")) > limit:
                    raise UnsupportedSequenceError(
                        f"{where}: row {i}: {len(s)} bases exceed the {limit}-token context of model "
                        f"{self.spec.model_id!r} (length_policy = reject)"
                    )

    def _tap_module(self) -> Any:
        if self.layer == -1 and getattr(self.model_, "norm", None) is not None:
            return self.model_.norm
        blocks = self.model_.blocks
        return blocks[resolve_layer(len(blocks), self.layer, self.spec)]

    def _forward(self, ids: Any, mask: Any) -> Any:
        captured: list[Any] = []
        handle = self._tap_module().register_forward_hook(
            lambda _m, _i, o: captured.append(o[0] if isinstance(o, tuple) else o)
        )
        try:
            self.model_(ids, padding_mask=mask)
        finally:
            handle.remove()
        if not captured:
            raise ExtractError(f"model {self.spec.model_id!r}: the tapped module never ran")
        return captured[-1].float()

    def _autocast(self) -> Any:
        from contextlib import nullcontext

        return nullcontext()  # the model holds its own dtypes (bf16 except poles/residues)


ADAPTER = EvoAdapter
