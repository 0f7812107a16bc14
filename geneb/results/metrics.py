"""What the results' ``mcc`` means, computed once for both halves: the probe scores each
fit with it, the analysis bootstraps it over resampled test rows."""

from __future__ import annotations

import numpy as np


def mcc_from_confusion(C: np.ndarray) -> np.ndarray:
    """Multiclass MCC from confusion matrices (..., K, K), rows true and columns predicted:
    scikit-learn's ``matthews_corrcoef`` formula with its operations, so integer counts give
    its value bit for bit (every sum is an exact integer in float64; then one division by
    one square root). A zero denominator gives 0, as scikit-learn does."""
    C = C.astype(np.float64)
    t = C.sum(axis=-1)  # true counts per class
    p = C.sum(axis=-2)  # predicted counts per class
    c = np.trace(C, axis1=-2, axis2=-1)
    s = C.sum(axis=(-2, -1))
    cov_ytyp = c * s - (t * p).sum(-1)
    cov_ypyp = s * s - (p * p).sum(-1)
    cov_ytyt = s * s - (t * t).sum(-1)
    den = cov_ytyt * cov_ypyp
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, cov_ytyp / np.sqrt(np.where(den > 0, den, 1)), 0.0)
