"""The `geneb-mlp` probe: one hidden ReLU layer with fixed settings (Adam, L2 alpha,
fixed epochs), the same seeds and regimes as geneb-v1, so the paper's claim that
rankings are stable under non-linear probes can be checked. Features are standardised
by the protocol (``scale_features = true``)."""

from __future__ import annotations

from typing import Any

from ..errors import InvalidArgument

_KEYS = {"hidden", "alpha", "max_iter", "learning_rate_init", "batch_size"}


def mlp_estimator(params: dict[str, Any], seed: int):
    """The fixed MLPClassifier for the protocol's ``probe_params``."""
    from sklearn.neural_network import MLPClassifier

    unknown = set(params) - _KEYS
    if unknown:
        raise InvalidArgument(f"mlp probe: unknown probe_params {sorted(unknown)}")
    hidden = params.get("hidden", 256)
    return MLPClassifier(
        hidden_layer_sizes=tuple(hidden) if isinstance(hidden, list) else (int(hidden),),
        alpha=float(params.get("alpha", 1e-4)),
        max_iter=int(params.get("max_iter", 200)),
        learning_rate_init=float(params.get("learning_rate_init", 1e-3)),
        batch_size=params.get("batch_size", "auto"),
        random_state=seed,
    )
