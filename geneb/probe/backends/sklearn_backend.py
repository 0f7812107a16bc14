"""scikit-learn backend: the reference. For geneb-v1 it builds exactly
``LogisticRegression(max_iter=1000, random_state=seed)`` (every other argument at
scikit-learn's default) and feeds it the float32 arrays as the reference harness does."""

from __future__ import annotations

import contextlib
from functools import cache
from typing import Any

from ...catalog import ProtocolSpec
from ...errors import InvalidArgument
from .base import Backend, Estimator

#: probe_params keys that map one-to-one onto LogisticRegression arguments.
_LOGREG_KEYS = ("C", "max_iter", "tol", "fit_intercept", "solver")


def logreg_kwargs(params: dict[str, Any], seed: int) -> dict[str, Any]:
    """LogisticRegression arguments for protocol params, leaving defaults unset so that
    geneb-v1 builds literally ``LogisticRegression(max_iter=1000, random_state=seed)``."""
    unknown = set(params) - set(_LOGREG_KEYS) - {"penalty"}
    if unknown:
        raise InvalidArgument(f"logreg probe: unknown probe_params {sorted(unknown)}")
    if params.get("penalty", "l2") != "l2":
        raise InvalidArgument(f"logreg probe: only penalty='l2' is supported, got {params['penalty']!r}")
    defaults = _logreg_defaults()
    kw = {k: params[k] for k in _LOGREG_KEYS if k in params and params[k] != defaults[k]}
    kw["random_state"] = seed
    return kw


@cache
def _logreg_defaults() -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().get_params()


class SklearnBackend(Backend):
    name = "sklearn"
    probes = frozenset({"logreg", "logreg-cv", "mlp"})

    def seed_matters(self, protocol: ProtocolSpec) -> bool:
        # lbfgs never reads random_state: the full-data fit is the same for every seed.
        solver = protocol.probe_params.get("solver", "lbfgs")
        return not (protocol.probe == "logreg" and solver in ("lbfgs", "newton-cg", "newton-cholesky"))

    def fit_context(self, first: bool) -> contextlib.AbstractContextManager[Any]:
        """Skip the checks scikit-learn repeats on every fit: finiteness always
        (`check_arrays` checked every value; on the full-data fit this check reads the whole
        float64 copy of X), the parameters after a unit's first fit (which validated the
        same ones; only ``random_state`` changes). Numbers are unchanged; a small k-shot
        fit takes about 10 % less (benchmarks/PROBE_RESULTS.md)."""
        import sklearn

        return sklearn.config_context(assume_finite=True, skip_parameter_validation=not first)

    def make_estimator(self, protocol: ProtocolSpec, seed: int) -> Estimator:
        from sklearn.linear_model import LogisticRegression

        if protocol.probe == "logreg":
            est: Any = LogisticRegression(**logreg_kwargs(protocol.probe_params, seed))
        elif protocol.probe == "logreg-cv":
            from ..robust import CVLogisticRegression

            est = CVLogisticRegression(random_state=seed, **protocol.probe_params)
        elif protocol.probe == "mlp":
            from ..mlp import mlp_estimator

            est = mlp_estimator(protocol.probe_params, seed)
        else:
            raise InvalidArgument(f"sklearn backend: protocol {protocol.name!r} has unknown probe {protocol.probe!r}")
        if protocol.scale_features and protocol.probe != "logreg-cv":
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler

            est = make_pipeline(StandardScaler(), est)
        return est
