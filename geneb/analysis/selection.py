"""Which models and scores an analysis looks at: one `Selection` value shared by every
analysis (metric, protocol and model filters), and the shared first step of the
model-level analyses (one regime's macro scores for the selected models)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import polars as pl

from .errors import AnalysisError
from .metadata import Where, select_models
from .scores import model_scores

#: Below this many models a scale correlation, a pair count or a Pareto frontier is
#: reported as "too few models", not as a number.
MIN_MODELS = 5
TOO_FEW = "too few models"
NO_PARAMS, UNTRAINED = "no parameter count", "untrained baseline"


@dataclass(frozen=True)
class Selection:
    """The metric and protocol scored, and the models kept: those passing `where`, minus the
    ids in `exclude` and the models matching `exclude_where` (filters as in
    `select_models`: an expression, a {column: values} mapping, "col!=x" strings or a list).

    The default selects every model on MCC of the results' one protocol, as the paper does.
    """

    metric: str = "mcc"
    protocol: str | None = None
    where: Where = None
    exclude: tuple[str, ...] = ()
    exclude_where: Where = None

    def __post_init__(self) -> None:
        ex = self.exclude
        object.__setattr__(self, "exclude", (ex,) if isinstance(ex, str) else tuple(ex or ()))
        for name in ("where", "exclude_where"):
            w = getattr(self, name)
            if isinstance(w, list):  # hashable and immutable, like the rest of the value
                object.__setattr__(self, name, tuple(w))

    def scores_only(self) -> Selection:
        """The same metric and protocol with every model kept."""
        return replace(self, where=None, exclude=(), exclude_where=None)

    def model_scores(self, results: pl.DataFrame) -> pl.DataFrame:
        return model_scores(results, self.metric, self.protocol)

    def rows(self, meta: pl.DataFrame) -> pl.DataFrame:
        """The rows of a metadata table (one per model) whose model is selected."""
        return select_models(meta, self.where, self.exclude, self.exclude_where)

    def model_ids(self, meta: pl.DataFrame) -> pl.Series:
        """Ids of the selected models among `meta`'s rows (one or more rows per model)."""
        return self.rows(meta.unique("model", maintain_order=True))["model"]

    def keep(self, df: pl.DataFrame, meta: pl.DataFrame | None = None) -> pl.DataFrame:
        """The rows of `df` whose model is selected (judged on `meta`, default `df` itself)."""
        return df.filter(pl.col("model").is_in(self.model_ids(df if meta is None else meta).implode()))


def selection_of(select: Selection | None) -> Selection:
    if select is None:
        return Selection()
    if not isinstance(select, Selection):
        raise TypeError(f"select must be a geneb.analysis.Selection, got {type(select).__name__}")
    return select


def regime_models(
    results: pl.DataFrame, regime: str = "full", select: Selection | None = None,
    scores: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """model_scores rows of `regime` with a macro, restricted to the selected models."""
    sel = selection_of(select)
    ms = scores if scores is not None else sel.model_scores(results)
    ms = ms.filter(pl.col("regime") == regime)
    if ms.is_empty():
        raise AnalysisError(f"no scores for regime {regime!r}")
    return sel.keep(ms).filter(pl.col("macro").is_not_null())


def require_column(df: pl.DataFrame, column: str, what: str) -> None:
    if column not in df.columns:
        raise AnalysisError(f"{what}: no metadata column {column!r}; available: {sorted(df.columns)}")


def with_param_counts(ms: pl.DataFrame, param: str) -> tuple[pl.DataFrame, dict[str, list[str]]]:
    """The rows whose model has a meaningful parameter count, and who was left out why.

    Scale statistics ask how pretrained capacity relates to quality: a model with no count
    or 0 parameters (a k-mer baseline) has no capacity to place, and an untrained network's
    count says nothing about pretraining; both are left out and named."""
    require_column(ms, param, "parameter-count analyses")
    no_count = pl.col(param).is_null() | (pl.col(param) <= 0)
    untrained = pl.col("untrained").fill_null(False) if "untrained" in ms.columns else pl.lit(False)
    models = ms.unique("model", maintain_order=True)
    left = {
        NO_PARAMS: sorted(models.filter(no_count)["model"].to_list()),
        UNTRAINED: sorted(models.filter(~no_count & untrained)["model"].to_list()),
    }
    return ms.filter(~no_count & ~untrained), {k: v for k, v in left.items() if v}
