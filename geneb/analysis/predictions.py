"""Uncertainty over test examples, where a predictions side file exists: bootstrap CIs
for per-task MCC and paired comparisons of two models on the same resampled examples.
Resamples are multiplicity weights shared by every seed and model of a task (so
comparisons are paired), and the confusion matrices of all resamples come from one
matrix product: MCC for 1,000 resamples is a few array operations."""

from __future__ import annotations

import functools

import numpy as np
import polars as pl

from ..results.metrics import mcc_from_confusion  # the shared definition (re-exported)
from .errors import AnalysisError

_MAX_CELLS = 20_000_000  # resample chunk size (n_boot * n_test), bounds memory


def _encode(y_true: np.ndarray, y_preds: list[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray], int]:
    labels, inv = np.unique(np.concatenate([y_true, *y_preds]), return_inverse=True)
    n = len(y_true)
    parts = np.split(inv, np.cumsum([n] + [len(y) for y in y_preds])[:-1])
    return parts[0], parts[1:], len(labels)


def resample_weights(n: int, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Bootstrap resamples as multiplicity weights (n_boot x n, float32): row b counts how
    often each example was drawn. One set serves every seed and model of a task (paired)."""
    idx = rng.integers(0, n, size=(n_boot, n))
    flat = (idx + (np.arange(n_boot) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n).astype(np.float32)


def resampled_mcc(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray, k: int) -> np.ndarray:
    """MCC under each row of `weights` (labels encoded 0..k-1): the confusion matrices of all
    resamples are one product, weights @ one-hot(true * k + pred). The public functions run
    it with one BLAS thread: a skinny product gains nothing from threads on busy cores."""
    onehot = np.zeros((len(y_true), k * k), dtype=np.float32)
    onehot[np.arange(len(y_true)), y_true * k + y_pred] = 1.0
    out = np.empty(weights.shape[0])
    step = max(1, _MAX_CELLS // max(1, weights.shape[1]))
    for s in range(0, weights.shape[0], step):
        C = (weights[s : s + step] @ onehot).astype(np.float64).reshape(-1, k, k)
        out[s : s + step] = mcc_from_confusion(C)
    return out


def single_threaded_blas(fn):
    """Run `fn` with BLAS limited to one thread (threadpoolctl ships with scikit-learn)."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        from .._blas import blas_limit

        with blas_limit(1):
            return fn(*args, **kwargs)

    return wrapper


def _groups(preds: pl.DataFrame):
    for key, g in preds.group_by("model", "task", "regime", "protocol", maintain_order=True):
        yield key, g.sort("seed", nulls_last=True)


def _check_same_truth(g: pl.DataFrame, where: str) -> np.ndarray:
    truths = [np.asarray(y, dtype=np.int64) for y in g["y_true"].to_list()]
    for y in truths[1:]:
        if len(y) != len(truths[0]) or not np.array_equal(y, truths[0]):
            raise AnalysisError(f"{where}: seeds disagree on y_true (the test split must be the same)")
    return truths[0]


@single_threaded_blas
def bootstrap_predictions(
    preds: pl.DataFrame, n_boot: int = 1000, ci: float = 0.95, seed: int = 0, regimes: list[str] | None = None
) -> pl.DataFrame:
    """Per (model, task, regime, protocol): MCC (mean over seeds) and its bootstrap CI over
    test examples (the same resampled examples for every seed of a task).

    Cost grows with n_boot x test examples x seeds per pair; restrict `regimes` on big grids."""
    if regimes is not None:
        preds = preds.filter(pl.col("regime").is_in(list(regimes)))
    rng = np.random.default_rng(seed)
    q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
    rows = []
    for (model, task, regime, protocol), g in _groups(preds):
        where = f"predictions {model}/{task}/{regime}"
        yt = _check_same_truth(g, where)
        yps = [np.asarray(y, dtype=np.int64) for y in g["y_pred"].to_list()]
        if any(len(y) != len(yt) for y in yps):
            raise AnalysisError(f"{where}: y_pred and y_true lengths differ")
        yt_e, yps_e, k = _encode(yt, yps)
        W = resample_weights(len(yt), n_boot, rng)
        full = np.ones((1, len(yt)), dtype=np.float32)
        point = np.mean([resampled_mcc(yt_e, yp, full, k)[0] for yp in yps_e])
        boot = np.mean([resampled_mcc(yt_e, yp, W, k) for yp in yps_e], axis=0)
        lo, hi = np.percentile(boot, q)
        rows.append({"model": model, "task": task, "regime": regime, "protocol": protocol, "mcc": float(point),
                     "lo": float(lo), "hi": float(hi), "n_test": len(yt), "n_seeds": len(yps)})
    return pl.DataFrame(rows)


@single_threaded_blas
def paired_comparison(
    preds: pl.DataFrame,
    model_a: str,
    model_b: str,
    regime: str = "full",
    protocol: str | None = None,
    n_boot: int = 1000,
    ci: float = 0.95,
    seed: int = 0,
) -> pl.DataFrame:
    """a - b in MCC per shared task and `overall` (mean over tasks), with a paired bootstrap
    CI and a two-sided p-value (both models scored on the same resampled test examples)."""
    p = preds.filter(pl.col("regime") == regime)
    if protocol is not None:
        p = p.filter(pl.col("protocol") == protocol)
    elif p["protocol"].n_unique() > 1:
        raise AnalysisError("paired_comparison: predictions mix protocols; choose one with protocol=")
    for m in (model_a, model_b):
        if p.filter(pl.col("model") == m).is_empty():
            raise AnalysisError(f"paired_comparison: no predictions for model {m!r} in regime {regime!r}")
    ta = set(p.filter(pl.col("model") == model_a)["task"].to_list())
    tb = set(p.filter(pl.col("model") == model_b)["task"].to_list())
    tasks = sorted(ta & tb)
    if not tasks:
        raise AnalysisError(f"paired_comparison: {model_a!r} and {model_b!r} share no task")
    rng = np.random.default_rng(seed)
    q = [(1 - ci) / 2 * 100, (1 + ci) / 2 * 100]
    rows, boots = [], []
    for task in tasks:
        ga = p.filter((pl.col("model") == model_a) & (pl.col("task") == task)).sort("seed", nulls_last=True)
        gb = p.filter((pl.col("model") == model_b) & (pl.col("task") == task)).sort("seed", nulls_last=True)
        yt = _check_same_truth(pl.concat([ga, gb]), f"paired_comparison {task}")
        ya = [np.asarray(y, dtype=np.int64) for y in ga["y_pred"].to_list()]
        yb = [np.asarray(y, dtype=np.int64) for y in gb["y_pred"].to_list()]
        yt_e, ys, k = _encode(yt, ya + yb)
        ya_e, yb_e = ys[: len(ya)], ys[len(ya) :]
        W = resample_weights(len(yt), n_boot, rng)
        full = np.ones((1, len(yt)), dtype=np.float32)
        pa = np.mean([resampled_mcc(yt_e, y, full, k)[0] for y in ya_e])
        pb = np.mean([resampled_mcc(yt_e, y, full, k)[0] for y in yb_e])
        d = np.mean([resampled_mcc(yt_e, y, W, k) for y in ya_e], axis=0) - np.mean(
            [resampled_mcc(yt_e, y, W, k) for y in yb_e], axis=0
        )
        boots.append(d)
        rows.append(_row(task, pa, pb, d, q))
    overall = np.mean(boots, axis=0)
    rows.append(_row("overall", float(np.mean([r["mcc_a"] for r in rows])), float(np.mean([r["mcc_b"] for r in rows])), overall, q))
    return pl.DataFrame(rows).with_columns(pl.lit(model_a).alias("model_a"), pl.lit(model_b).alias("model_b"), pl.lit(regime).alias("regime"))


def _row(task: str, pa: float, pb: float, d: np.ndarray, q: list[float]) -> dict:
    lo, hi = np.percentile(d, q)
    b = len(d)  # add-one so a finite bootstrap never claims p = 0
    p = min(1.0, 2 * min((np.sum(d <= 0) + 1) / (b + 1), (np.sum(d >= 0) + 1) / (b + 1)))
    return {"task": task, "mcc_a": float(pa), "mcc_b": float(pb), "diff": float(pa - pb), "lo": float(lo), "hi": float(hi), "p": float(p)}
