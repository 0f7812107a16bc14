"""One (model, task) unit: plan every (regime, seed) fit, run each distinct fit once,
score the predictions. Identical fits are shared, never approximated: with lbfgs the
full-data fit does not depend on the seed, and identical k-shot index sequences (same
rows in the same order) give identical fits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..catalog import ProtocolSpec, get_protocol
from ..errors import InvalidArgument
from .backends import Backend, FitSpec, get_backend
from .errors import ProbeError, ProbeSkip
from .metrics import score
from .sampling import class_rows, few_shot_indices, short_classes

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Planned:
    regime: str
    seed: int
    fit: int  # index into the list of distinct fits


def _all_finite(X: np.ndarray) -> bool:
    """True only if every value of X is finite: a NaN or inf makes its column's sum
    non-finite. Reading X once without a same-sized boolean temporary takes about 40 %
    of ``np.isfinite(X).all()``; a False (also from a finite overflow) sends the caller
    to the exact per-row check."""
    if X.dtype.kind != "f":
        return X.dtype.kind in "iub"
    with np.errstate(over="ignore", invalid="ignore"):
        acc = np.float32 if X.dtype.itemsize < 4 else None  # float16 sums overflow at 65504
        return bool(np.isfinite(np.add.reduce(X, axis=0, dtype=acc)).all())


def check_arrays(
    X_train: np.ndarray, y_train: np.ndarray, X_test: np.ndarray, y_test: np.ndarray, where: str
) -> None:
    """Raise ProbeError (ProbeSkip for a single-class train split) naming ``where``."""
    for split, X, y in (("train", X_train, y_train), ("test", X_test, y_test)):
        if X.ndim != 2:
            raise ProbeError(f"{where}: {split} embeddings must be 2-D, got shape {X.shape}")
        if len(X) != len(y):
            raise ProbeError(f"{where}: {split} has {len(X)} embedding rows but {len(y)} labels")
        if len(X) == 0:
            raise ProbeError(f"{where}: {split} split is empty")
        if _all_finite(X):
            continue
        finite = np.isfinite(X).all(axis=1)
        if not finite.all():
            bad = np.flatnonzero(~finite)
            raise ProbeError(
                f"{where}: {split} embeddings have non-finite values (NaN/inf) in {len(bad)} "
                f"row(s), first rows {bad[:5].tolist()}; re-embed this pair (float16 overflow?)"
            )
    if X_train.shape[1] != X_test.shape[1]:
        raise ProbeError(f"{where}: train dim {X_train.shape[1]} != test dim {X_test.shape[1]}")
    n_cls = len(np.unique(y_train))
    if n_cls < 2:
        raise ProbeSkip(f"{where}: train split has {n_cls} class(es); a probe needs at least two")


def plan_fits(
    y_train: np.ndarray, protocol: ProtocolSpec, regimes: Sequence[str], seed_matters: bool, where: str
) -> tuple[list[FitSpec], list[_Planned]]:
    """The distinct fits for every (regime, seed), and which fit each row uses."""
    fits: list[FitSpec] = []
    index: dict[tuple, int] = {}
    planned: list[_Planned] = []
    by_class = class_rows(y_train)
    for regime in regimes:
        k = protocol.k_for(regime)
        if k is not None:
            short = short_classes(y_train, k)
            if short:
                shown = ", ".join(f"class {c}: {n}" for c, n in list(short.items())[:5])
                more = f", ... ({len(short)} classes)" if len(short) > 5 else ""
                log.warning(
                    "%s: %s: classes with fewer than %d train rows use all their rows (%s%s)",
                    where, regime, k, shown, more,
                )
        for seed in protocol.seeds:
            rows = None if k is None else few_shot_indices(y_train, k, seed, by_class)
            key = (seed if seed_matters else None, None if rows is None else rows.tobytes())
            if key not in index:
                index[key] = len(fits)
                fits.append(FitSpec(rows=rows, seed=seed))
            planned.append(_Planned(regime, seed, index[key]))
    return fits, planned


def probe_arrays(
    X_train: np.ndarray,
    y_train: np.ndarray,
    X_test: np.ndarray,
    y_test: np.ndarray,
    protocol: str | ProtocolSpec = "geneb-v1",
    regimes: Sequence[str] | None = None,
    backend: str | Backend = "sklearn",
    where: str = "arrays",
) -> list[dict[str, Any]]:
    """Probe one unit given in-memory arrays; one dict per (regime, seed) with the
    results-table fields that do not depend on the store, plus ``y_true``/``y_pred``.

    Arrays are used as given: pass float32 (what the store returns and what the
    reference harness feeds scikit-learn) for reference-equal numbers."""
    proto = get_protocol(protocol) if isinstance(protocol, str) else protocol
    regimes = tuple(regimes or proto.regimes)
    bad = [r for r in regimes if r not in proto.regimes]
    if bad:
        raise InvalidArgument(f"protocol {proto.name!r} has no regime(s) {bad} (has {list(proto.regimes)})")
    be = get_backend(backend, proto) if isinstance(backend, str) else backend
    y_train = np.asarray(y_train)
    y_test = np.asarray(y_test)
    check_arrays(X_train, y_train, X_test, y_test, where)
    fits, planned = plan_fits(y_train, proto, regimes, be.seed_matters(proto), where)
    outcomes = be.fit_predict(proto, X_train, y_train, X_test, fits)
    shares = np.bincount([p.fit for p in planned], minlength=len(fits))
    scores = [score(y_test, o.y_pred) for o in outcomes]
    n_classes = int(len(np.unique(y_train)))
    rows = []
    for p in planned:
        spec, out = fits[p.fit], outcomes[p.fit]
        rows.append(
            {
                "regime": p.regime,
                "seed": int(p.seed),
                "backend": be.name,
                **scores[p.fit],
                "n_train": int(len(y_train) if spec.rows is None else len(spec.rows)),
                "n_test": int(len(y_test)),
                "n_classes": n_classes,
                "converged": bool(out.converged),
                # a shared fit's cost is split over the rows that use it: sums stay true
                "fit_seconds": float(out.fit_seconds / shares[p.fit]),
                "y_true": y_test,
                "y_pred": np.asarray(out.y_pred),
            }
        )
    return rows
