"""Helpers that transformers removed but the models' remote code still imports.

Restored only while a remote module is imported (`restored_helpers()`): the remote module
binds the names it imports, and transformers itself is left as it was afterwards. Methods
that remote code calls on the model at run time (`get_head_mask`) are added to the remote
class only, never to `PreTrainedModel`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from . import Difference, register

RESTORE_HELPERS = register(Difference(
    name="restore-removed-helpers",
    stage="import",
    upstream=(
        "AIRI-Institute/GENA_LM src/gena_lm/modeling_bert.py; ai4nucleome/mutBERT "
        "2-pretrain-code/modeling_mutbert.py; InstaDeepAI/nucleotide-transformer-v2-* modeling_esm.py"
    ),
    construct=(
        "`from transformers.pytorch_utils import find_pruneable_heads_and_indices` (removed in "
        "transformers 5); older GENA-LM: `from transformers.modeling_utils import "
        "apply_chunking_to_forward, find_pruneable_heads_and_indices, prune_linear_layer` "
        "(moved to pytorch_utils in 4.2x)"
    ),
    transformers="",  # which names are missing depends on the version; restoring is a no-op where present
    why="the remote module fails to import; the helpers are only used for head pruning and feed-forward chunking",
))

ADD_HEAD_MASK = register(Difference(
    name="add-get-head-mask",
    stage="load",
    upstream="InstaDeepAI/nucleotide-transformer-v2-* modeling_esm.py; AIRI-Institute/GENA_LM modeling_bert.py",
    construct="`self.get_head_mask(head_mask, n_layers)` in the remote forward (removed from PreTrainedModel in transformers 5)",
    transformers=">=5.0.0.dev0",
    why="the forward raises AttributeError; with head_mask=None the method returns [None] * n_layers",
))


def find_pruneable_heads_and_indices(heads: Any, n_heads: int, head_size: int, already_pruned_heads: Any) -> tuple[set, Any]:
    """The heads still to prune and the flat indices of the kept weights (transformers 4.x
    semantics: heads are renumbered to skip those already pruned)."""
    import torch

    mask = torch.ones(n_heads, head_size)
    heads = set(heads) - set(already_pruned_heads)
    for head in heads:
        head = head - sum(1 if h < head else 0 for h in already_pruned_heads)
        mask[head] = 0
    mask = mask.view(-1).contiguous().eq(1)
    index = torch.arange(len(mask))[mask].long()
    return heads, index


def _removed_names() -> dict[str, dict[str, Any]]:
    """module -> {name: object} for every helper the remote code may import from it."""
    from transformers import pytorch_utils as pu

    helpers = {"find_pruneable_heads_and_indices": getattr(pu, "find_pruneable_heads_and_indices",
                                                           find_pruneable_heads_and_indices)}
    for name in ("apply_chunking_to_forward", "prune_linear_layer"):
        if hasattr(pu, name):
            helpers[name] = getattr(pu, name)
    return {"transformers.pytorch_utils": helpers, "transformers.modeling_utils": dict(helpers)}


@contextlib.contextmanager
def restored_helpers() -> Iterator[list[str]]:
    """Make the removed helpers importable for the duration; yields the `module.name`s that
    were added (empty when this transformers still has them all)."""
    import importlib

    added: list[tuple[Any, str]] = []
    try:
        for modname, names in _removed_names().items():
            mod = importlib.import_module(modname)
            for name, obj in names.items():
                if not hasattr(mod, name):
                    setattr(mod, name, obj)
                    added.append((mod, name))
        yield [f"{m.__name__}.{n}" for m, n in added]
    finally:
        for mod, name in added:
            with contextlib.suppress(AttributeError):
                delattr(mod, name)


def _get_head_mask(self: Any, head_mask: Any, num_hidden_layers: int, is_attention_chunked: bool = False) -> Any:
    """transformers 4.x `PreTrainedModel.get_head_mask`: None -> [None] * layers, else a
    (layers, batch, heads, seq, seq)-broadcastable mask in the model's dtype."""
    if head_mask is None:
        return [None] * num_hidden_layers
    if head_mask.dim() == 1:
        head_mask = head_mask[None, None, :, None, None].expand(num_hidden_layers, -1, -1, -1, -1)
    elif head_mask.dim() == 2:
        head_mask = head_mask[:, None, :, None, None]
    head_mask = head_mask.to(dtype=self.dtype)
    if is_attention_chunked:
        head_mask = head_mask.unsqueeze(-1)
    return head_mask


def add_missing_methods(cls: type) -> list[str]:
    """Give a remote model class the 4.x methods its forward calls; returns what was added."""
    added = []
    if not hasattr(cls, "get_head_mask"):
        cls.get_head_mask = _get_head_mask  # type: ignore[attr-defined]
        added.append("get_head_mask")
    return added
