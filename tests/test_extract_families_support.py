"""Tiny offline models for the family-adapter tests (random weights, built from configs).

Holds no tests itself; named test_extract_families_* to stay within this suite's files."""

from __future__ import annotations

import itertools
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

from geneb.catalog import ModelSpec

ANTICAPT_CACHE = Path.home() / ".cache" / "geneb-test" / "anticapt"
HYENA_SUBDIR = "anticapt/models/dataset1/finetuned_hyenadna"


def spec_for(family: str, weights: str, **kw) -> ModelSpec:
    base = dict(model_id=f"test-{family}", display=family, family=family, weights=weights, source="user")
    base.update(kw)
    return ModelSpec(**base)


def kmer_tokenizer_fast(k: int = 6, bos: str = "<s>"):
    """A 6-mer WordLevel tokenizer like GENERator's (whole k-mers only)."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<unk>", bos, "</s>", "<pad>"]
    kmers = ["".join(p) for p in itertools.product("ACGTN", repeat=k)]
    vocab = {t: i for i, t in enumerate(specials + kmers)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(f".{{1,{k}}}"), behavior="isolated")
    return PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token=bos, eos_token="</s>", pad_token="<pad>", unk_token="<unk>"
    )


def build_generator_dir(root: Path) -> Path:
    import torch
    from transformers import LlamaConfig, LlamaModel

    torch.manual_seed(0)
    tok = kmer_tokenizer_fast()
    cfg = LlamaConfig(
        vocab_size=len(tok), hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=64,
        bos_token_id=tok.bos_token_id, eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id,
    )
    d = root / "generator"
    LlamaModel(cfg).eval().save_pretrained(d)
    tok.save_pretrained(d)
    return d


def build_biofm_dir(root: Path) -> Path:
    import torch
    from transformers import MistralConfig, MistralModel

    torch.manual_seed(0)
    chars = "ACGTN"
    cfg = MistralConfig(
        vocab_size=32, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
        num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=128, pad_token_id=9,
    )
    cfg.tokenizer_config = {"char_ords": [ord(c) for c in chars], "model_max_length": 16}
    d = root / "biofm"
    MistralModel(cfg).eval().save_pretrained(d)
    return d


def anticapt_hyena_dir() -> tuple[Path | None, str]:
    """The real HyenaDNA checkpoint (hyenadna-tiny-1k fine-tuned) from the PyPI package
    `anticapt`, unpacked into a cache; (None, reason) when it cannot be obtained."""
    d = ANTICAPT_CACHE / HYENA_SUBDIR
    if (d / "modeling_hyena.py").exists():
        return d, ""
    wheels = ANTICAPT_CACHE.parent / "wheels"
    found = sorted(wheels.glob("anticapt-*.whl")) if wheels.exists() else []
    if not found:
        try:
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "anticapt", "-d", str(wheels)],
                check=True, capture_output=True, timeout=120,
            )
        except (subprocess.SubprocessError, OSError) as exc:
            return None, f"cannot download the anticapt wheel (real HyenaDNA checkpoint): {exc}"
        found = sorted(wheels.glob("anticapt-*.whl"))
        if not found:
            return None, "pip download anticapt produced no wheel"
    with zipfile.ZipFile(found[-1]) as zf:
        members = [m for m in zf.namelist() if m.startswith(HYENA_SUBDIR)]
        if not members:
            return None, f"{found[-1].name} has no {HYENA_SUBDIR}"
        zf.extractall(ANTICAPT_CACHE, members)
    return d, ""


def solo_mean(hidden: np.ndarray) -> np.ndarray:
    return hidden.mean(axis=0)
