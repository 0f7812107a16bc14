"""Helpers shared by the long-tail family adapters.

Three recurring needs: (1) models whose weights are not on the hub (or whose code is a
git checkout rather than hub remote code) must be pointed at local files, and must say
exactly how when they are not; (2) some families only run on CUDA (Mamba kernels,
flash-attention); (3) models without an attention mask (bidirectional SSMs, Enformer)
cannot be batched with padding, so batches are split into equal-length groups.
Nothing here imports torch at module level.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...catalog import ModelSpec
from .base import Adapter, ExtractError, MissingExtraError, Problem

# -- pointing at local weights and upstream code ------------------------------------------

WEIGHTS_ENV_PREFIX = "GENEB_WEIGHTS_"
CODE_ENV_PREFIX = "GENEB_CODE_"


def _env_suffix(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9]", "_", name).upper()


def weights_env_var(model_id: str) -> str:
    """`GENEB_WEIGHTS_<MODEL_ID>`: model id upper-cased, every other character -> `_`."""
    return WEIGHTS_ENV_PREFIX + _env_suffix(model_id)


def code_env_var(family: str) -> str:
    """`GENEB_CODE_<FAMILY>`: where a family's upstream source checkout lives."""
    return CODE_ENV_PREFIX + _env_suffix(family)


def local_weights(spec: ModelSpec) -> Path | None:
    """Local weights for `spec`: the `GENEB_WEIGHTS_<ID>` variable wins over `spec.weights`;
    None when neither names an existing file or directory."""
    env = os.environ.get(weights_env_var(spec.model_id), "").strip()
    for cand in (env, spec.weights):
        if cand and Path(cand).expanduser().exists():
            return Path(cand).expanduser().resolve()
    return None


def weights_hint(spec: ModelSpec, what: str) -> str:
    """The sentence telling a user how to point geneb at local weights."""
    src = f" (the catalog says they come from {spec.weights!r})" if spec.weights else ""
    return (
        f"model {spec.model_id!r} needs local weights{src}: download {what}, then set "
        f"{weights_env_var(spec.model_id)}=/path, or declare a model with weights = \"/path\" "
        f"and family = \"{spec.family}\" in a model file (geneb embed --model-file my.toml)"
    )


def code_dir(spec: ModelSpec) -> Path | None:
    """The upstream source checkout for a family whose model code is not pip-installable:
    `config.code_dir` in the model spec, else `GENEB_CODE_<FAMILY>`."""
    cand = str(spec.config.get("code_dir", "") or os.environ.get(code_env_var(spec.family), "")).strip()
    if cand and Path(cand).expanduser().is_dir():
        return Path(cand).expanduser().resolve()
    return None


def code_hint(spec: ModelSpec, repo_url: str, package: str) -> str:
    return (
        f"model {spec.model_id!r} needs the upstream source of family {spec.family!r} "
        f"(package {package!r}): git clone {repo_url}, then set {code_env_var(spec.family)}=/path/to/checkout "
        f"or add config = {{ code_dir = \"/path\" }} to a user model entry"
    )


@contextlib.contextmanager
def on_sys_path(directory: Path) -> Iterator[None]:
    """Import from an upstream checkout without leaving it on sys.path afterwards."""
    d = str(directory)
    sys.path.insert(0, d)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            sys.path.remove(d)


def import_from_checkout(directory: Path, module: str, spec: ModelSpec) -> Any:
    """Import `module` from an upstream checkout, naming the checkout when it fails. The
    checkout leaves sys.path afterwards; the imported modules stay in sys.modules (a
    second checkout of the same package in one process is not picked up)."""
    with on_sys_path(directory):
        try:
            return importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name and module.startswith(exc.name):
                raise ExtractError(
                    f"model {spec.model_id!r}: {directory} does not contain the module {module!r}; "
                    f"is it a checkout of the {spec.family} repository?"
                ) from exc
            raise MissingExtraError(
                f"model {spec.model_id!r}: the {spec.family} source at {directory} needs the package "
                f"{exc.name!r}; install it (pip install {exc.name})"
            ) from exc


def fingerprint(files: Sequence[tuple[str, Path]], by_content: Callable[[Path], bool],
                by_size: Callable[[Path], bool] = lambda p: True) -> str:
    """Identity of local weights without hashing gigabytes: each (name, file) in order,
    by content where `by_content` says (small config, tokenizer and code files), else by
    name and size where `by_size` says (weights); other files do not count. The two
    callers' rules (below) are part of stored cache keys: changing one re-embeds."""
    h = hashlib.sha256()
    for rel, p in files:
        if by_content(p):
            h.update(rel.encode() + b"\0" + p.read_bytes() + b"\0")
        elif by_size(p):
            h.update(f"{rel}\0{p.stat().st_size}\0".encode())
    return h.hexdigest()[:16]


def file_fingerprint(path: Path) -> str:
    """`fingerprint` of a local checkpoint file or directory tree (DNA-GPT, JanusDNA, ...):
    small text/code files by content, every other file by size."""
    files = [(path.name, path)] if path.is_file() else [
        (str(p.relative_to(path)), p) for p in sorted(p for p in path.rglob("*") if p.is_file())]
    return fingerprint(files, lambda p: p.suffix in (".json", ".txt", ".yaml", ".yml", ".model", ".py")
                       and p.stat().st_size < 2**20)


# -- models without an attention mask ------------------------------------------------------


def equal_length_groups(lengths: Sequence[int]) -> list[list[int]]:
    """Indices grouped by exact length, in first-seen order. Models that take no attention
    mask are run one group at a time, unpadded, so every row equals its solo forward pass."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(int(n), []).append(i)
    return list(groups.values())


def run_grouped(
    batch: Sequence[np.ndarray], forward: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Apply `forward` (stacked equal-length inputs -> (g, dim) float32) per length group and
    reassemble rows in batch order."""
    out: list[np.ndarray | None] = [None] * len(batch)
    for idx in equal_length_groups([b.shape[0] for b in batch]):
        vecs = forward(np.stack([batch[i] for i in idx]))
        for j, i in enumerate(idx):
            out[i] = vecs[j]
    return np.stack(out).astype(np.float32, copy=False)  # type: ignore[arg-type]


# -- loading helpers ------------------------------------------------------------------------


def pad_right(batch: Sequence[np.ndarray], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Token-id rows padded on the right to the longest one: (ids, attention mask), int64."""
    width = max(int(b.shape[0]) for b in batch)
    ids = np.full((len(batch), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(batch), width), dtype=np.int64)
    for i, b in enumerate(batch):
        ids[i, : b.shape[0]] = b
        mask[i, : b.shape[0]] = 1
    return ids, mask


def resolve_layer(n_blocks: int, layer: int, spec: ModelSpec) -> int:
    """Index into a list of `n_blocks` per-block outputs (no embedding entry) for a geneb
    layer (hidden-states convention: 0 = embeddings, k = block k, -1 = last block)."""
    k = layer - 1 if layer > 0 else layer
    if layer == 0 or not -n_blocks <= k < n_blocks:
        raise ExtractError(
            f"model {spec.model_id!r}: layer {layer} is not available (blocks 1..{n_blocks} or "
            f"-1..-{n_blocks}; this family exposes no embedding-layer output)"
        )
    return k % n_blocks


def remote_class(spec: ModelSpec, config: Any, keys: Sequence[str], revision: str | None) -> Any:
    """The remote-code class named by the first of `keys` found in `config.auto_map`."""
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    auto_map = getattr(config, "auto_map", None) or {}
    for k in keys:
        ref = auto_map.get(k)
        if isinstance(ref, list | tuple):
            ref = ref[0]
        if ref:
            return get_class_from_dynamic_module(ref, spec.weights, revision=revision)
    return None


def grouped_hf_embed(adapter: Any, batch: Sequence[np.ndarray]) -> np.ndarray:
    """`embed` for HF-style adapters whose model takes no attention mask (a loaded
    adapter): equal-length groups run unpadded with an all-ones mask, so each row equals
    its solo forward pass."""
    import torch

    from ..pooling import pool

    dev = torch.device(adapter.device)

    def forward(ids_np: np.ndarray) -> np.ndarray:
        ids = torch.from_numpy(ids_np).to(dev)
        mask = torch.ones_like(ids)
        with torch.inference_mode(), adapter._autocast():
            hidden = adapter._forward(ids, mask)
            return pool(adapter.pooling, hidden, mask).float().cpu().numpy()

    return run_grouped(batch, forward)


def localise(spec: ModelSpec) -> ModelSpec:
    """`spec` with `weights` replaced by its resolved local path (env var or spec path), so
    the HF loading code reads the local directory; unchanged when none is found."""
    import dataclasses

    lw = local_weights(spec)
    if lw is None:
        return spec
    return dataclasses.replace(spec, weights=str(lw), revision="")


def local_problems(spec: ModelSpec, *, weights: str | None = None, code: tuple[str, str] | None = None,
                   weights_found: bool = True) -> list[Problem]:
    """What a non-hub model still lacks: its local weights (`weights` = what to download)
    and/or the upstream checkout (`code` = (repo URL, package))."""
    out = []
    if weights is not None and not weights_found:
        out.append(Problem("weights", weights_hint(spec, weights)))
    if code is not None and code_dir(spec) is None:
        hint = code_hint(spec, *code)
        out.append(Problem("code", hint.removeprefix(f"model {spec.model_id!r} ") if out else hint))
    return out


class LocalCheckout:
    """Mixin (before `Adapter`) for a family whose weights are local files and whose code is
    an upstream source checkout (DNA-GPT, JanusDNA). It declares `weights_what` (what to
    download, for the hint) and `code` = (repository URL, package) and implements
    `identity_path(required)`: the file or directory the vectors come from, whose
    fingerprint identifies them. Availability and identity then follow from those."""

    weights_what: ClassVar[str]
    code: ClassVar[tuple[str, str]]

    def identity_path(self, required: bool = True) -> Path | None:
        raise NotImplementedError

    blocking: ClassVar[frozenset[str]] = Adapter.blocking | {"weights", "code"}

    @classmethod
    def check(cls, spec: ModelSpec) -> list[Problem]:
        problems = super().check(spec)  # type: ignore[misc]  # the Adapter after this mixin
        if problems:
            return problems
        return local_problems(spec, weights=cls.weights_what, weights_found=cls._identity(spec) is not None,
                              code=cls.code)

    @classmethod
    def source(cls, spec: ModelSpec) -> str:
        return f"local weights at {cls._identity(spec)}"

    @classmethod
    def _identity(cls, spec: ModelSpec) -> Path | None:
        from .base import ExtractOptions

        return cls(spec, ExtractOptions(), "cpu").identity_path(required=False)

    def local_identity(self) -> dict[str, str]:
        """`weights` and `revision` of `describe()`: the local path and its fingerprint."""
        w = self.identity_path(required=False)
        return {"weights": str(w) if w else self.spec.weights, "revision": ("local:" + file_fingerprint(w)) if w else ""}
