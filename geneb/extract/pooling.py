"""Pooling rules: token states (B, T, D) + attention mask (B, T) -> one vector per sequence.

All rules accept either padding side (they locate valid tokens through the mask), and
compute in float32 whatever the model's dtype, so bf16/fp16 forward passes pool stably.
`mean` is the geneb-v1 rule: mean over non-pad tokens with special tokens included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import InvalidArgument

if TYPE_CHECKING:  # torch is imported lazily by the callers
    import torch


def _mask(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    import torch

    if mask is None:
        return torch.ones(hidden.shape[:2], dtype=torch.float32, device=hidden.device)
    if mask.shape != hidden.shape[:2]:
        raise ValueError(f"mask shape {tuple(mask.shape)} does not match states {tuple(hidden.shape[:2])}")
    return mask.to(torch.float32)


def masked_mean(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean over positions where mask is 1 (special tokens included when they are unmasked)."""
    m = _mask(hidden, mask)
    total = (hidden.float() * m.unsqueeze(-1)).sum(dim=1)
    count = m.sum(dim=1, keepdim=True)
    if bool((count == 0).any()):
        raise ValueError("a sequence has no valid token to pool over (all positions masked)")
    return total / count


def first_valid(hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """The first unmasked position (the CLS token for encoders, whatever the padding side)."""
    import torch

    m = _mask(hidden, mask)
    idx = torch.argmax((m > 0).to(torch.int8), dim=1)
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), idx].float()


def last_valid(hidden: torch.Tensor, mask: torch.Tensor | None, offset: int = 0) -> torch.Tensor:
    """The last unmasked position minus `offset` (offset 1 = penultimate), either padding side."""
    import torch

    m = _mask(hidden, mask) > 0
    t = m.shape[1]
    last = (t - 1) - torch.argmax(torch.flip(m, dims=[1]).to(torch.int8), dim=1)
    idx = last - offset
    first = torch.argmax(m.to(torch.int8), dim=1)
    if bool((idx < first).any()):
        raise ValueError(f"a sequence is too short for {'last' if offset == 0 else 'penultimate'}-token pooling")
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), idx].float()


def spatial_mean(hidden: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over output bins (Enformer, SPACE); bins may be masked when inputs were padded."""
    return masked_mean(hidden, mask)


def pool(rule: str, hidden: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Apply the named pooling rule (see `geneb.catalog.POOLINGS`); returns (B, D) float32."""
    if rule == "mean":
        return masked_mean(hidden, mask)
    if rule == "cls":
        return first_valid(hidden, mask)
    if rule == "last-token":
        return last_valid(hidden, mask, 0)
    if rule == "penultimate-token":
        return last_valid(hidden, mask, 1)
    if rule == "spatial-mean":
        return spatial_mean(hidden, mask)
    raise InvalidArgument(f"unknown pooling rule {rule!r}; known: mean, cls, last-token, penultimate-token, spatial-mean")
