"""Controlled ablations: per-category differences between models (or model groups) that
differ in one design factor. The pairs are data (`geneb/catalog/data/ablations.toml`),
and users add their own in a file of the same format."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import polars as pl

from .errors import AnalysisError
from .load import model_table
from .metadata import select_models
from .scores import category_order_for, category_scores


@dataclass(frozen=True)
class Ablation:
    """Two models (`a`, `b`) or two metadata-selected groups; effects are b - a."""

    ablation_id: str
    factor: str
    a: str = ""
    b: str = ""
    a_where: tuple[str, ...] = field(default=())
    b_where: tuple[str, ...] = field(default=())
    note: str = ""

    @property
    def is_group(self) -> bool:
        return bool(self.a_where or self.b_where)


_FIELDS = {"factor", "a", "b", "a_where", "b_where", "note"}


def _parse(where: str, raw: dict) -> list[Ablation]:
    out = []
    for aid, body in raw.items():
        if not isinstance(body, dict):
            raise AnalysisError(f"{where}: [{aid}] must be a table")
        unknown = set(body) - _FIELDS
        if unknown:
            raise AnalysisError(f"{where}: [{aid}]: unknown field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}")
        pair = bool(body.get("a") and body.get("b"))
        group = bool(body.get("a_where") and body.get("b_where"))
        if pair == group:
            raise AnalysisError(f"{where}: [{aid}]: give either `a` and `b` (model ids) or `a_where` and `b_where` (filters)")
        if pair and body["a"] == body["b"]:
            raise AnalysisError(f"{where}: [{aid}]: `a` and `b` are the same model")
        wa, wb = body.get("a_where", ()), body.get("b_where", ())
        out.append(
            Ablation(
                ablation_id=aid, factor=str(body.get("factor", "")), a=body.get("a", ""), b=body.get("b", ""),
                a_where=tuple([wa] if isinstance(wa, str) else wa), b_where=tuple([wb] if isinstance(wb, str) else wb),
                note=str(body.get("note", "")),
            )
        )
    return out


def load_ablations(paths: Iterable[str | Path] = (), builtin: bool = True) -> list[Ablation]:
    """The declared ablations: the built-in ones (unless `builtin=False`) plus user TOML files."""
    out: list[Ablation] = []
    if builtin:
        p = resources.files("geneb.catalog") / "data" / "ablations.toml"
        out += _parse("ablations.toml", tomllib.loads(p.read_text(encoding="utf-8")))
    for path in map(Path, paths):
        if not path.is_file():
            raise AnalysisError(f"{path}: ablations file not found")
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise AnalysisError(f"{path}: invalid TOML: {exc}") from exc
        out += _parse(str(path), raw)
    seen: set[str] = set()
    for a in out:
        if a.ablation_id in seen:
            raise AnalysisError(f"duplicate ablation id {a.ablation_id!r}")
        seen.add(a.ablation_id)
    return out


def _members(ab: Ablation, meta: pl.DataFrame) -> tuple[list[str], list[str]]:
    if ab.is_group:
        # Untrained baselines join a group only when its filters ask about `untrained`.
        def side(filters: tuple[str, ...]) -> list[str]:
            pool = meta
            if "untrained" in meta.columns and not any("untrained" in f for f in filters):
                pool = meta.filter(~pl.col("untrained").fill_null(False))
            return select_models(pool, list(filters))["model"].to_list()

        return side(ab.a_where), side(ab.b_where)
    present = set(meta["model"].to_list())
    return ([ab.a] if ab.a in present else [], [ab.b] if ab.b in present else [])


def ablation_effects(
    results: pl.DataFrame,
    ablations: Iterable[Ablation] | None = None,
    metric: str = "mcc",
    protocol: str | None = None,
) -> pl.DataFrame:
    """Per (ablation, regime, category) plus a `macro` row: mean score of side a and b
    (one model each for a pair), and diff = b - a. Ablations whose models are absent are skipped."""
    abls = list(ablations) if ablations is not None else load_ablations()
    cs = category_scores(results, metric, protocol).filter(pl.col("score").is_not_null())
    meta = model_table(results)
    # maintain_order: means sum in row order, so the same input gives the same bits every run
    macro = cs.group_by("model", "regime", maintain_order=True).agg(pl.col("score").mean(), pl.len().alias("k"))
    ncat = cs.group_by("regime").agg(pl.col("category").n_unique().alias("n"))
    macro = macro.join(ncat, on="regime").filter(pl.col("k") == pl.col("n")).select(
        "model", "regime", pl.lit("macro").alias("category"), "score"
    )
    allc = pl.concat([cs.select("model", "regime", "category", "score"), macro])
    parts = []
    for ab in abls:
        ma, mb = _members(ab, meta)
        if not ma or not mb:
            continue
        sa = allc.filter(pl.col("model").is_in(ma)).group_by("regime", "category", maintain_order=True).agg(
            pl.col("score").mean().alias("score_a"), pl.len().alias("n_a"))
        sb = allc.filter(pl.col("model").is_in(mb)).group_by("regime", "category", maintain_order=True).agg(
            pl.col("score").mean().alias("score_b"), pl.len().alias("n_b"))
        parts.append(
            sa.join(sb, on=["regime", "category"], how="inner").with_columns(
                pl.lit(ab.ablation_id).alias("ablation"), pl.lit(ab.factor).alias("factor"),
                pl.lit(", ".join(ma) if ab.is_group is False else " & ".join(ab.a_where)).alias("a"),
                pl.lit(", ".join(mb) if ab.is_group is False else " & ".join(ab.b_where)).alias("b"),
                (pl.col("score_b") - pl.col("score_a")).alias("diff"),
            )
        )
    schema = {"ablation": pl.String, "factor": pl.String, "a": pl.String, "b": pl.String, "regime": pl.String,
              "category": pl.String, "score_a": pl.Float64, "score_b": pl.Float64, "diff": pl.Float64,
              "n_a": pl.UInt32, "n_b": pl.UInt32}
    if not parts:
        return pl.DataFrame(schema=schema)
    out = pl.concat(parts).select(list(schema))
    corder = {c: i for i, c in enumerate([*category_order_for(cs["category"].to_list()), "macro"])}
    return out.sort("ablation", "regime", pl.col("category").replace_strict(corder, return_dtype=pl.Int64))


def ablation_summary(effects: pl.DataFrame) -> pl.DataFrame:
    """Per (ablation, regime): macro diff, how many categories b wins, best and worst category for b."""
    cats = effects.filter(pl.col("category") != "macro")
    mac = effects.filter(pl.col("category") == "macro").select("ablation", "regime", pl.col("diff").alias("macro_diff"))
    return (
        cats.sort("diff", descending=True)
        .group_by("ablation", "factor", "a", "b", "regime", maintain_order=True)
        .agg(
            (pl.col("diff") > 0).sum().alias("n_b_better"), pl.len().alias("n_categories"),
            pl.col("category").first().alias("best_category_for_b"), pl.col("diff").first().alias("best_diff"),
            pl.col("category").last().alias("worst_category_for_b"), pl.col("diff").last().alias("worst_diff"),
        )
        .join(mac, on=["ablation", "regime"], how="left")
        .sort("ablation", "regime")
    )
