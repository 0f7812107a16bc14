"""`path:DIR` and `family = "hf-auto"`: a local Hugging Face directory whose family is read
from its config.json (`model_type`, `auto_map`), then handled by that family's adapter.

Models whose code ships in the directory (`auto_map`) run only when the spec says
`trust_remote_code = true` (a model file, or `geneb embed --trust-remote-code`): geneb
never executes a directory's Python silently.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from ...catalog import ModelSpec
from .base import Adapter, ExtractError, Problem

#: transformers `model_type` -> geneb family for architectures transformers ships.
NATIVE_TYPES: dict[str, str] = {
    **{t: "hf-encoder" for t in ("bert", "roberta", "distilbert", "albert", "electra", "deberta",
                                 "deberta-v2", "modernbert", "nomic_bert", "xlm-roberta", "camembert",
                                 "big_bird", "megatron-bert", "nystromformer", "rembert", "ernie")},
    "esm": "nucleotide-transformer",
    **{t: "hf-causal-lm" for t in ("gpt2", "gpt_neox", "gptj", "gpt_neo", "llama", "mistral", "mixtral",
                                   "olmo", "olmo2", "olmoe", "qwen2", "qwen3", "phi", "phi3", "gemma",
                                   "gemma2", "falcon", "opt", "bloom", "starcoder2", "stablelm")},
    "mamba": "hf-causal-lm",
    "mamba2": "hf-causal-lm",
}
#: Hints (model_type or auto_map module names) of remote-code families geneb knows.
REMOTE_HINTS: tuple[tuple[str, str], ...] = (
    ("bert_layers", "dnabert2"), ("dnabert", "dnabert2"), ("hyena", "hyenadna"),
    ("caduceus", "caduceus"), ("mutbert", "mutbert"), ("lucaone", "lucaone"),
    ("stripedhyena", "evo"), ("biofm", "biofm"), ("eccdna", "eccdnamamba"),
    ("esm_config", "nucleotide-transformer"), ("modeling_esm", "nucleotide-transformer"),
    ("dnakmertokenizer", "generator"), ("generatorforcausallm", "generator"),
)


def read_config(directory: str | Path) -> dict[str, Any]:
    p = Path(directory) / "config.json"
    try:
        cfg = json.loads(p.read_text())
    except FileNotFoundError:
        raise ExtractError(f"{p}: missing; expected a Hugging Face model directory") from None
    except json.JSONDecodeError as exc:
        raise ExtractError(f"{p}: invalid JSON: {exc}") from None
    if not isinstance(cfg, dict):
        raise ExtractError(f"{p}: expected a JSON object")
    return cfg


def detect_family(directory: str | Path) -> tuple[str, bool]:
    """(family, needs remote code) for a model directory, from its config.json."""
    cfg = read_config(directory)
    mtype = str(cfg.get("model_type", "")).lower()
    auto_map = cfg.get("auto_map") or {}
    targets = " ".join(str(v) for v in auto_map.values()).lower() if isinstance(auto_map, dict) else ""
    if auto_map:
        for hint, family in REMOTE_HINTS:
            if hint in mtype or hint in targets:
                return family, True
        if mtype in NATIVE_TYPES:  # custom code over a native architecture: use the native one
            return NATIVE_TYPES[mtype], False
        arch = " ".join(cfg.get("architectures") or []).lower()
        return ("hf-causal-lm" if "causallm" in arch or "lmhead" in arch else "hf-encoder"), True
    if mtype in NATIVE_TYPES:
        return NATIVE_TYPES[mtype], False
    for hint, family in REMOTE_HINTS:
        if hint in mtype:
            return family, True
    raise ExtractError(
        f"{Path(directory) / 'config.json'}: model_type {mtype or '(none)'!r} is not one geneb knows "
        f"and there is no auto_map; declare the model in a model file with its family"
    )


class HFAutoAdapter(Adapter):
    """Delegates everything to the adapter of the detected family."""

    family = "hf-auto"

    def __init__(self, spec: ModelSpec, options, device: str) -> None:
        super().__init__(spec, options, device)
        from . import make_adapter

        family, remote = detect_family(spec.weights)
        if remote and not spec.trust_remote_code:
            raise ExtractError(
                f"model {spec.model_id!r}: {spec.weights} ships its own code (auto_map, family {family!r}); "
                "run it only if you trust it: declare trust_remote_code = true in a model file, "
                "or pass --trust-remote-code"
            )
        self.detected = family
        inner_spec = dataclasses.replace(spec, family=family)
        self.inner = make_adapter(inner_spec, options, device)

    @classmethod
    def check(cls, spec: ModelSpec) -> list[Problem]:
        if not Path(spec.weights).is_dir():
            return [Problem("weights", f"{spec.weights}: not a local directory")]
        try:
            inner, inner_spec = cls._detected(spec)
        except Exception as exc:  # noqa: BLE001 - an unreadable config.json is this model's problem
            return [Problem("config", str(exc))]
        return inner.check(inner_spec)

    @classmethod
    def source(cls, spec: ModelSpec) -> str:
        inner, inner_spec = cls._detected(spec)
        return f"detected family {inner_spec.family}: {inner.source(inner_spec)}"

    @classmethod
    def ensure_available(cls, spec: ModelSpec) -> None:
        inner, inner_spec = cls._detected(spec)
        inner.ensure_available(inner_spec)

    @classmethod
    def _detected(cls, spec: ModelSpec) -> tuple[type[Adapter], ModelSpec]:
        from . import adapter_class

        family, _ = detect_family(spec.weights)
        return adapter_class(family), dataclasses.replace(spec, family=family)

    def _load(self) -> None:
        self.inner.load()
        self.model_, self.tokenizer_, self.dim_ = self.inner.model_, self.inner.tokenizer_, self.inner.dim_

    def validate(self, sequences, where: str) -> None:
        self.inner.validate(sequences, where)

    def audit(self, sequences, where: str):
        return self.inner.audit(sequences, where)

    def prepare(self, seq: str) -> Any:
        return self.inner.prepare(seq)

    def n_tokens(self, prepared: Any) -> int:
        return self.inner.n_tokens(prepared)

    def embed(self, batch: list[Any]):
        return self.inner.embed(batch)

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "detected_family": self.detected}

    def close(self) -> None:
        self.inner.close()
        super().close()  # its references to the inner adapter's model and tokenizer


ADAPTER = HFAutoAdapter
