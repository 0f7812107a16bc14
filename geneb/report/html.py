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

_META = ("display", "params", "architecture", "tokenization", "pretraining_data", "untrained", "source", "task_data", "published")
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
            "protocol": a.summary["protocol"], "ci": a.options.ci if boot is not None else None,
            "mixed": _mixed_published(a), **task_table(a)}


def _mixed_published(a: Analysis) -> bool:
    """True when a user's models are ranked among the published ones (rows get marked)."""
    ms = a.tables["model_scores"]
    return "published" in ms.columns and bool(ms["published"].fill_null(False).any()) and not bool(ms["published"].fill_null(False).all())


def task_table(a: Analysis) -> dict[str, Any]:
    """Per-task scores for the model page and the two-model comparison: task ids in
    category order, and per regime and model a list aligned with them (null = no score);
    `task_std` holds the seed std where models have more than one seed."""
    ts = a.tables["task_scores"]
    cats = category_order_for(ts["category"].to_list())
    order = {c: i for i, c in enumerate(cats)}
    tasks = ts.select("task", "category").unique().sort(
        pl.col("category").replace_strict(order, return_dtype=pl.Int64), "task")
    ids = tasks["task"].to_list()
    from geneb.catalog import all_tasks

    known = all_tasks()
    out: dict[str, Any] = {"tasks": {"ids": ids, "category": tasks["category"].to_list(),
                                     "label": [known[t].label if t in known else t for t in ids]},
                           "task_scores": {}, "task_std": {}}
    multi_seed = bool((ts["n_seeds"] > 1).any())
    for (regime,), g in ts.group_by("regime", maintain_order=True):
        wide = g.pivot(on="model", index="task", values="score")
        wide = pl.DataFrame({"task": ids}).join(wide, on="task", how="left")
        out["task_scores"][regime] = {m: [None if v is None else round(v, 5) for v in wide[m].to_list()] for m in wide.columns if m != "task"}
        if multi_seed:
            sd = pl.DataFrame({"task": ids}).join(g.pivot(on="model", index="task", values="seed_std"), on="task", how="left")
            out["task_std"][regime] = {m: [None if v is None else round(v, 5) for v in sd[m].to_list()] for m in sd.columns if m != "task"}
    return out


def winners_table(a: Analysis) -> dict[str, Any]:
    """Category winners per regime as rows (the HTML table): winner display name, score and
    whether it differs from the base regime's winner."""
    w = a.tables["category_winners"]
    names = display_names(a)
    regimes = w["regime"].unique(maintain_order=True).to_list()
    base = a.options.base_regime
    win = {(r, c): (m, sc, ws) for r, c, m, sc, ws in w.select("regime", "category", "winner", "score", "winners").iter_rows()}
    rows = []
    for c in category_order_for(w["category"].to_list()):
        base_w = set(win.get((base, c), (None, None, []))[2] or [])
        cells = []
        for r in regimes:
            if (r, c) not in win:
                cells.append(None)
                continue
            m, sc, ws = win[(r, c)]
            cells.append({"model": m, "name": names.get(m, m), "score": sc,
                          "reranked": r != base and not (set(ws or [m]) & base_w)})
        rows.append({"category": c, "cells": cells})
    counts = {row["regime"]: (row["n_reranked"], row["n_categories"]) for row in a.tables["rerank_counts"].iter_rows(named=True)}
    return {"regimes": regimes, "rows": rows, "base": base, "counts": counts}


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
    sc, pc = s["scale"], s["pairs"]
    headline = [
        ("Models", str(s["n_models"])),
        ("Protocol", s["protocol"]),
        *[(f"Mean macro, {r}", f"{v:.3f}") for r, v in s["mean_macro"].items() if v is not None],
        ("Scale \u03c1 (" + sc["param"] + ")", sc.get("status", "n/a") if sc["rho"] is None
         else f"{sc['rho']:.3f} (p={sc['p']:.2g}, n={sc['n']})"),
        (f"Smaller beats {pc['factor']:g}\u00d7 larger", pc.get("status", "n/a") if pc["count"] is None
         else f"{pc['count']} pairs over {pc['n_models']} models"),
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
        models_line=s.get("models", ""), param_note=(s.get("param_counts") or {}).get("note", ""),
        winners=winners_table(a), paper=_paper_rows(s.get("paper")), placement=_placement(a, names),
    )


def _placement(a: Analysis, names: dict[str, str]) -> dict | None:
    """The user's models' ranks among the published ones and their nearest neighbours."""
    pub = a.summary.get("published")
    if not pub:
        return None
    models = [{"model": m, "name": names.get(m, m), "ranks": {r: rec.get(r) for r in a.summary["regimes"]},
               "neighbours": [{**n, "name": names.get(n["neighbour"], n["neighbour"])} for n in rec.get("neighbours", [])]}
              for m, rec in pub["models"].items()]
    return {"regimes": a.summary["regimes"], "regime": pub["regime"], "models": models}


def _paper_rows(paper: dict | None) -> dict | None:
    """The paper table with each paper value written at the precision the paper gives it."""
    if not paper:
        return None
    from geneb.analysis.published import paper_text

    return {**paper, "rows": [{**r, "paper_text": paper_text(r["paper"], r["tolerance"])} for r in paper["rows"]]}


def build_report(a: Analysis, out: str | Path, title: str = "GENEB leaderboard", figures: bool = True) -> Path:
    """Write the page to `out` (an .html path); returns the path."""
    out = Path(out)
    html = render_report(a, title, figures)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out
