"""Helpers that transformers removed but the models' remote code still imports.

Restored only while a remote module is imported (`restored_helpers()`): the remote module
binds the names it imports, and transformers itself is left as it was afterwards. Methods
that remote code calls on the model at run time (`get_head_mask`,
`get_extended_attention_mask`) are added to the remote class only, never to `PreTrainedModel`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from . import difference

RESTORE_HELPERS = difference("restore-removed-helpers")

ADD_HEAD_MASK = difference("add-get-head-mask")

ADD_EXTENDED_MASK = difference("add-get-extended-attention-mask")


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


def _get_extended_attention_mask(self: Any, attention_mask: Any, input_shape: Any, device: Any = None,
                                 dtype: Any = None) -> Any:
    """transformers 4.x `ModuleUtilsMixin.get_extended_attention_mask`, encoder case."""
    import torch

    if dtype is None:
        dtype = self.dtype
    if getattr(self.config, "is_decoder", False):
        raise NotImplementedError("get_extended_attention_mask: only the encoder case is restored (config.is_decoder is set)")
    if attention_mask.dim() == 3:
        extended = attention_mask[:, None, :, :]
    elif attention_mask.dim() == 2:
        extended = attention_mask[:, None, None, :]
    else:
        raise ValueError(f"Wrong shape for input_ids (shape {input_shape}) or attention_mask (shape {attention_mask.shape})")
    extended = extended.to(dtype=dtype)
    return (1.0 - extended) * torch.finfo(dtype).min


#: difference name -> (method name, 4.x implementation)
_METHODS = {
    ADD_HEAD_MASK.name: ("get_head_mask", _get_head_mask),
    ADD_EXTENDED_MASK.name: ("get_extended_attention_mask", _get_extended_attention_mask),
}


def add_missing_methods(cls: type, differences: tuple[str, ...] = (ADD_HEAD_MASK.name,)) -> list[str]:
    """Give a remote model class the 4.x methods its forward calls (those of `differences`
    it lacks); returns the method names added."""
    added = []
    for name in differences:
        if name not in _METHODS:
            continue
        method, impl = _METHODS[name]
        if not hasattr(cls, method):
            setattr(cls, method, impl)
            added.append(method)
    return added
