"""Tiny offline models for the family-adapter tests (random weights, built from configs).

Holds no tests itself; named test_extract_families_* to stay within this suite's files."""

from __future__ import annotations

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


def test_local_weight_fingerprints_are_pinned(tmp_path):
    """The two fingerprint rules (a Hugging Face directory: its top-level config/tokenizer
    files by content and weights by size; a checkpoint file or tree: small text files by
    content, the rest by size) enter stored cache keys as the revision of local weights, so
    a change would silently re-embed every local model: the values are pinned."""
    from geneb.extract.adapters._families_common import file_fingerprint
    from geneb.extract.adapters.hf_common import local_fingerprint

    d = tmp_path / "m"
    d.mkdir()
    (d / "config.json").write_text('{"hidden_size": 8}')
    (d / "model.safetensors").write_bytes(b"\0" * 1000)
    (d / "notes.log").write_text("ignored by the HF rule")
    (d / "sub").mkdir()
    (d / "sub" / "vocab.txt").write_text("A\nC\nG\nT\n")
    assert local_fingerprint(d) == "761dbcae5b47a6b1"
    assert file_fingerprint(d) == "b524b8ef8887f2f9"
    assert file_fingerprint(d / "model.safetensors") == "63d1f51ec3f2c5ed"
    (d / "notes.log").write_text("changed")  # not part of an HF directory's identity
    assert local_fingerprint(d) == "761dbcae5b47a6b1" and file_fingerprint(d) != "b524b8ef8887f2f9"
    (d / "model.safetensors").write_bytes(b"\0" * 1001)  # weights: by size
    assert local_fingerprint(d) != "761dbcae5b47a6b1"
