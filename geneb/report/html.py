"""The static HTML leaderboard: one self-contained file (data as inline JSON, JS and CSS
inline, figures as data: URIs), so it works from file:// with no server or network.

The page reads its state from the URL hash (``#regime=10shot&sort=macro&dir=asc&view=Promoters``)
by clicking its own controls on load, so a view can be linked and a headless browser can
drive it without a DevTools client."""

from __future__ import annotations

import base64
import json
import math
from importlib import resources
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import polars as pl
from jinja2 import Environment, StrictUndefined

from geneb.analysis.pipeline import Analysis
from geneb.analysis.scores import category_order_for

from .figures import FIGURES, figure_bytes

_META = ("display", "params", "architecture", "tokenization", "pretraining_data", "untrained", "source", "task_data")
_FIG_TITLES = {
    "heatmap": "Category x model heatmap", "pareto": "Pareto frontier", "scale": "Scale vs quality",
    "few_shot_drop": "Few-shot drop", "rerank": "Category winners and reranking",
}


def _num(v: Any) -> Any:
    return None if isinstance(v, float) and not math.isfinite(v) else v


def report_data(a: Analysis) -> dict[str, Any]:
    """Everything the page's JS renders: rows per regime with CIs, categories, summary."""
    cs = a.tables["category_scores"]
    cats = category_order_for(cs["category"].to_list())
    boot = a.tables.get("bootstrap")
    regimes = a.summary["regimes"]
    rows: dict[str, list[dict]] = {}
    for r in regimes:
        lb = a.tables[f"leaderboard_{r}"]
        ci: dict[tuple[str, str], tuple] = {}
        if boot is not None:
            for m, scope, lo, hi, rlo, rhi in boot.filter(pl.col("regime") == r).select(
                "model", "scope", "lo", "hi", "rank_lo", "rank_hi"
            ).iter_rows():
                ci[(m, scope)] = (lo, hi, rlo, rhi)
        out = []
        for row in lb.iter_rows(named=True):
            m = row["model"]
            rec = {"model": m, "rank": row["rank"], "macro": _num(row["macro"]), "micro": _num(row["micro"]),
                   **{k: row.get(k) for k in _META}}
            c = ci.get((m, "macro"))
            rec["macro_ci"] = [c[0], c[1]] if c else None
            rec["rank_ci"] = [c[2], c[3]] if c else None
            rec["cats"] = {k: _num(row.get(k)) for k in cats}
            rec["cats_ci"] = {k: [ci[(m, k)][0], ci[(m, k)][1]] if (m, k) in ci else None for k in cats}
            out.append(rec)
        rows[r] = out
    return {"regimes": regimes, "categories": cats, "rows": rows, "metric": a.options.metric,
            "protocol": a.summary["protocol"], "ci": a.options.ci if boot is not None else None}


def display_names(a: Analysis) -> dict[str, str]:
    """Model id -> display name (the id when there is none)."""
    ms = a.tables["model_scores"].unique("model")
    if "display" not in ms.columns:
        return {}
    return {m: d for m, d in ms.select("model", "display").iter_rows() if d}


def ablation_grid(a: Analysis) -> dict[str, Any]:
    """Base-regime ablation effects as rows (one per ablation) of b - a per category and macro."""
    eff = a.tables["ablation_effects"].filter(pl.col("regime") == a.options.base_regime)
    names = display_names(a)
    cats = [c for c in category_order_for(eff["category"].to_list()) if c != "macro"]
    rows = []
    for (aid,), g in eff.group_by("ablation", maintain_order=True):
        d = dict(g.select("category", "diff").iter_rows())
        first = g.row(0, named=True)
        rows.append({"id": aid, "factor": first["factor"], "a": names.get(first["a"], first["a"]), "b": names.get(first["b"], first["b"]),
                     "cells": [_num(d.get(c)) for c in [*cats, "macro"]]})
    return {"columns": [*cats, "macro"], "rows": rows}


def _figures(a: Analysis) -> list[dict[str, str]]:
    out = []
    for name, fn in FIGURES.items():
        fig = fn(a)
        svg = figure_bytes(fig, "svg")
        plt.close(fig)
        out.append({"name": name, "title": _FIG_TITLES.get(name, name),
                    "src": "data:image/svg+xml;base64," + base64.b64encode(svg).decode("ascii")})
    return out


def render_report(a: Analysis, title: str = "GENEB leaderboard", figures: bool = True) -> str:
    """The page as one HTML string."""
    env = Environment(autoescape=True, undefined=StrictUndefined, keep_trailing_newline=True)
    tpl = env.from_string((resources.files("geneb.report") / "templates" / "leaderboard.html.j2").read_text(encoding="utf-8"))
    data = json.dumps(report_data(a), separators=(",", ":")).replace("</", "<\\/")
    s = a.summary
    names = display_names(a)
    headline = [
        ("Models", str(s["n_models"])),
        ("Protocol", s["protocol"]),
        *[(f"Mean macro, {r}", f"{v:.3f}") for r, v in s["mean_macro"].items() if v is not None],
        ("Scale \u03c1 (" + s["scale"]["param"] + ")", "n/a" if s["scale"]["rho"] is None else f"{s['scale']['rho']:.3f} (p={s['scale']['p']:.2g}, n={s['scale']['n']})"),
        (f"Smaller beats {s['pairs']['factor']:g}\u00d7 larger", f"{s['pairs']['count']} pairs"),
        *[(f"Reranked categories, {r}", f"{v['n_reranked']} of {v['n_categories']}") for r, v in s["reranks"].items() if isinstance(v, dict)],
    ]
    task_data = s.get("task_data") or {}
    headline.append(("Task data", {"not-geneb-data": "NOT the GENEB data", "pinned": "pinned hashes match"}.get(
        task_data.get("status"), "unverified (no pinned hashes)")))
    cats_note = "" if s["macro_over_all_categories"] else (
        "Macro is the mean over the categories present in these results, not all 13: "
        + "; ".join(f"{r}: {len(c)}" for r, c in s["macro_categories"].items())
    )
    return tpl.render(
        title=title, data_json=data, headline=headline, figures=_figures(a) if figures else [],
        recommendations=[{**r, "model": names.get(r["model"], r["model"]), "runner_up": names.get(r["runner_up"], r["runner_up"])}
                         for r in a.tables["recommendations"].to_dicts()],
        cats_note=cats_note,
        ablations=ablation_grid(a), base_regime=a.options.base_regime,
        stability=a.tables["stability"].to_dicts() if "stability" in a.tables else [],
        issues=s["issues"], untrained=s["untrained_models"], version=s["geneb_version"],
        data_warning=task_data.get("warning", ""),
    )


def build_report(a: Analysis, out: str | Path, title: str = "GENEB leaderboard", figures: bool = True) -> Path:
    """Write the page to `out` (an .html path); returns the path."""
    out = Path(out)
    html = render_report(a, title, figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
