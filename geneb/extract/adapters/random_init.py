"""Untrained networks of real architectures (BERT, ESM, GPT-2, Mamba) built in code.

These are BASELINES: randomly initialised, never trained. They need no download, so the
default pipeline exercises the neural path anywhere, and their sizes give the scale
analyses something to compare. Weights come from the architecture's own initialiser under
a fixed seed (deterministic for a given torch version, which enters the cache key); the
tokenizer is single-nucleotide and built in code.
"""

from __future__ import annotations

from typing import Any, ClassVar

from .base import ExtractError
from .hf_common import HFAdapter

#: Single-nucleotide vocabulary shared by every built-in network.
VOCAB: dict[str, int] = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3, "[MASK]": 4,
                         "A": 5, "C": 6, "G": 7, "T": 8, "N": 9}
ARCHS = ("bert", "esm", "gpt2", "mamba")
ENCODERS = ("bert", "esm")


def char_tokenizer(with_cls_sep: bool, model_max_length: int = 10**6) -> Any:
    """A fast single-nucleotide tokenizer; encoders wrap sequences as [CLS] ... [SEP]."""
    from tokenizers import Tokenizer, models, processors
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE(vocab=dict(VOCAB), merges=[], unk_token="[UNK]"))
    if with_cls_sep:
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
        )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, pad_token="[PAD]", unk_token="[UNK]", cls_token="[CLS]",
        sep_token="[SEP]", mask_token="[MASK]", model_max_length=model_max_length,
    )


def build_config(arch: str, cfg: dict[str, Any]) -> Any:
    """The transformers config of a built-in network from its catalog `config` table."""
    h = int(cfg["hidden_size"])
    n = int(cfg["num_layers"])
    heads = int(cfg.get("num_heads", max(1, h // 64)))
    inter = int(cfg.get("intermediate_size", 4 * h))
    max_pos = int(cfg.get("max_position_embeddings", 1026))
    v = len(VOCAB)
    if arch == "bert":
        from transformers import BertConfig

        return BertConfig(vocab_size=v, hidden_size=h, num_hidden_layers=n, num_attention_heads=heads,
                          intermediate_size=inter, max_position_embeddings=max_pos, pad_token_id=0)
    if arch == "esm":
        from transformers import EsmConfig

        return EsmConfig(vocab_size=v, hidden_size=h, num_hidden_layers=n, num_attention_heads=heads,
                         intermediate_size=inter, max_position_embeddings=max_pos, pad_token_id=0,
                         mask_token_id=4, position_embedding_type="rotary", emb_layer_norm_before=False,
                         token_dropout=False)
    if arch == "gpt2":
        from transformers import GPT2Config

        return GPT2Config(vocab_size=v, n_embd=h, n_layer=n, n_head=heads, n_inner=inter,
                          n_positions=max_pos, bos_token_id=2, eos_token_id=3, pad_token_id=0)
    if arch == "mamba":
        from transformers import MambaConfig

        return MambaConfig(vocab_size=v, hidden_size=h, num_hidden_layers=n,
                           state_size=int(cfg.get("state_size", 16)), pad_token_id=0,
                           bos_token_id=2, eos_token_id=3, use_mambapy=False)
    raise ExtractError(f"unknown built-in architecture {arch!r}; known: {', '.join(ARCHS)}")


class RandomInitAdapter(HFAdapter):
    family = "random-init"
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers", "tokenizers")

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        arch = spec.config.get("arch")
        if arch not in ARCHS:
            raise ExtractError(f"model {spec.model_id!r}: config.arch must be one of {ARCHS}, got {arch!r}")
        for key in ("hidden_size", "num_layers"):
            if not isinstance(spec.config.get(key), int):
                raise ExtractError(f"model {spec.model_id!r}: config.{key} must be an integer")
        self.arch = arch
        self.seed = int(spec.config.get("seed", 0))

    @classmethod
    def weights_available(cls, spec) -> tuple[bool, str]:
        return True, "built in code (untrained)"  # there are no weights to find

    @property
    def add_special_tokens(self) -> bool:
        return self.arch in ENCODERS

    def describe(self) -> dict[str, Any]:
        try:
            import torch

            tv = ".".join(torch.__version__.split("+")[0].split(".")[:2])
        except ImportError:
            tv = "?"
        cfg = {k: self.spec.config[k] for k in sorted(self.spec.config)}
        return {
            "weights": f"random-init:{self.arch}",
            "revision": f"seed{self.seed}-torch{tv}",
            "tokenizer": "geneb-char-v1" + ("+cls-sep" if self.add_special_tokens else ""),
            "config": cfg,
            "untrained": True,
        }

    def _load_tokenizer(self) -> Any:
        return char_tokenizer(self.add_special_tokens)

    def build_model(self) -> Any:
        """The seeded, untrained network (float32, eval mode), without touching global RNG."""
        import torch
        import transformers

        config = build_config(self.arch, self.spec.config)
        cls = getattr(transformers, {"bert": "BertModel", "esm": "EsmModel", "gpt2": "GPT2Model",
                                     "mamba": "MambaModel"}[self.arch])  # import only this one
        kwargs = {"add_pooling_layer": False} if self.arch in ENCODERS else {}  # unused pooler
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            model = cls(config, **kwargs)
        return model.eval()

    def _load_model(self) -> Any:
        model = self.build_model()
        dt = self._weight_dtype()
        return model.to(dtype=dt)

    def _token_limit(self) -> int | None:
        if self.max_length:
            return int(self.max_length)
        return int(self.spec.config.get("max_position_embeddings", 1026)) if self.arch != "mamba" else None


ADAPTER = RandomInitAdapter
