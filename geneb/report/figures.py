"""The five standard figures (matplotlib, Agg backend): category x model heatmap, Pareto
frontier, scale scatter annotated with rho, few-shot drop and rerank chart. Untrained
baselines are marked with a dagger in labels and hollow markers in scatters."""

from __future__ import annotations

import io
from collections.abc import Callable

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from geneb.analysis.pipeline import Analysis  # noqa: E402
from geneb.analysis.scores import category_order_for  # noqa: E402

UNTRAINED_MARK = "\u2020"


def _labels(a: Analysis) -> dict[str, str]:
    ms = a.tables["model_scores"].unique("model")
    out = {}
    for row in ms.iter_rows(named=True):
        name = row.get("display") or row["model"]
        out[row["model"]] = name + (UNTRAINED_MARK if row.get("untrained") else "")
    return out


def _untrained(a: Analysis) -> set[str]:
    ms = a.tables["model_scores"]
    return set(ms.filter(pl.col("untrained").fill_null(False))["model"].to_list()) if "untrained" in ms.columns else set()


def heatmap(a: Analysis) -> Figure:
    """Category score of every model (rows by base-regime rank) in the base regime."""
    base = a.options.base_regime
    lb = a.tables[f"leaderboard_{base}"].filter(pl.col("rank").is_not_null())
    cats = category_order_for(a.tables["category_scores"]["category"].to_list())
    cats = [c for c in cats if c in lb.columns]
    M = lb.select(cats).to_numpy().astype(float)
    lab = _labels(a)
    h = max(3.0, 0.26 * lb.height + 1.8)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * len(cats) + 2.5, h), layout="constrained")
    im = ax.imshow(M, aspect="auto", cmap="viridis", vmin=np.nanmin(M) if M.size else 0, vmax=np.nanmax(M) if M.size else 1)
    ax.set_xticks(range(len(cats)), cats, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(lb.height), [lab[m] for m in lb["model"].to_list()], fontsize=7)
    if lb.height <= 20 and len(cats) <= 13:
        for i in range(M.shape[0]):
            for j in range(M.shape[1]):
                if np.isfinite(M[i, j]):
                    ax.text(j, i, f"{M[i, j]:.2f}", ha="center", va="center", fontsize=6, color="w" if M[i, j] < np.nanmean(M) else "k")
    fig.colorbar(im, ax=ax, label=f"{a.options.metric.upper()} ({base})")
    ax.set_title(f"Category scores, {base} regime (rows by macro rank)")
    return fig


def _spread(ys: list[float], gap: float) -> list[float]:
    """Label heights for points at `ys` (ascending order kept): each at least `gap` above
    the previous, then the block centred back on the points so labels stay near them."""
    out: list[float] = []
    for y in ys:
        out.append(y if not out else max(y, out[-1] + gap))
    shift = (sum(out) - sum(ys)) / len(out) if out else 0.0
    return [v - shift for v in out]


def pareto(a: Analysis) -> Figure:
    """Params (log) vs macro, one panel per regime: every counted model as a grey point, the
    frontier as a coloured staircase with its models labelled (labels spread apart)."""
    p = a.tables["pareto"]
    regimes = p["regime"].unique(maintain_order=True).to_list() or [a.options.base_regime]
    fig, axes = plt.subplots(1, len(regimes), figsize=(5.2 * len(regimes), 5.2), layout="constrained", squeeze=False)
    lab = _labels(a)
    status = a.summary.get("pareto_status", "ok")
    for i, (ax, regime) in enumerate(zip(axes[0], regimes, strict=True)):
        r = p.filter(pl.col("regime") == regime)
        ax.set_xscale("log")
        ax.set_title(regime)
        ax.set_xlabel(f"parameters ({a.options.param}, log)")
        if status != "ok" or r.is_empty():
            ax.text(0.5, 0.5, "too few models with parameter counts", transform=ax.transAxes, ha="center", va="center", color="0.4")
            continue
        off = r.filter(~pl.col("on_frontier"))
        ax.scatter(off["params"].to_numpy().astype(float), off["macro"], s=16, color="0.65", zorder=2, label="dominated")
        f = r.filter(pl.col("on_frontier")).sort("params", "macro")
        fx, fy = f["params"].to_numpy().astype(float), f["macro"].to_numpy()
        color = f"C{i}"
        # the staircase: from each frontier point right to the next one's params, then up
        sx = np.repeat(fx, 2)[1:]
        sy = np.repeat(fy, 2)[:-1]
        ax.plot(np.append(sx, fx[-1] * 1.6), np.append(sy, fy[-1]), color=color, lw=1.6, zorder=3, label="frontier")
        ax.scatter(fx, fy, s=30, color=color, edgecolors="k", linewidths=0.4, zorder=4)
        y0, y1 = float(r["macro"].min()), float(r["macro"].max())
        span = max(y1 - y0, 1e-3)
        ax.set_ylim(y0 - 0.08 * span, y1 + 0.12 * span + 0.045 * span * len(f))
        ly = _spread(list(fy), 0.055 * span)
        for m, xx, yy, ty in zip(f["model"].to_list(), fx, fy, ly, strict=True):
            ax.annotate(lab[m], (xx, yy), xytext=(xx / 1.25, ty + 0.03 * span), fontsize=7, ha="right", va="bottom",
                        arrowprops={"arrowstyle": "-", "color": "0.5", "lw": 0.5}, zorder=5)
        ax.set_xlim(fx.min() / 12 if fx.size else None, max(r["params"].max() * 2.5, 10))
        if i == 0:
            ax.set_ylabel(f"macro {a.options.metric.upper()}")
            ax.legend(fontsize=8, loc="lower right")
    fig.suptitle("Pareto frontier over (parameters, macro): no model has fewer parameters and a higher macro", fontsize=10)
    return fig


def scale_scatter(a: Analysis) -> Figure:
    """Params vs base-regime macro, annotated with Spearman rho, p and n."""
    from geneb.analysis.selection import with_param_counts

    s = a.summary["scale"]
    ms = a.tables["model_scores"].filter((pl.col("regime") == s["regime"]) & pl.col("macro").is_not_null())
    ms, _ = with_param_counts(ms, s["param"])
    excluded = set(s["excluded"])
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    lab, un = _labels(a), _untrained(a)
    x = np.maximum(ms[s["param"]].to_numpy().astype(float), 1.0)
    models = ms["model"].to_list()
    colors = ["tab:gray" if m in excluded else "tab:blue" for m in models]
    ax.scatter(x, ms["macro"], c=colors, s=22, edgecolors="k", linewidths=0.3)
    for m, xx, yy in zip(models, x, ms["macro"].to_list(), strict=True):
        if m in un or m in excluded:
            ax.annotate(lab[m], (xx, yy), fontsize=6, xytext=(3, -8), textcoords="offset points")
    ax.set_xscale("log")
    text = (f"Spearman \u03c1 = {s['rho']:.3f} (p = {s['p']:.2g}, n = {s['n']})" if s["rho"] is not None
            else f"\u03c1: {s.get('status', 'n/a')} (n = {s['n']} with parameter counts)")
    ax.text(0.02, 0.97, text, transform=ax.transAxes, va="top",
            bbox={"boxstyle": "round", "fc": "w", "alpha": 0.8})
    ax.set_xlabel(f"{s['param']} (log; 0 shown at 1)")
    ax.set_ylabel(f"macro {a.options.metric.upper()} ({s['regime']})")
    ax.set_title("Scale vs quality" + (" (grey = excluded from \u03c1)" if excluded else ""))
    return fig


def few_shot_drop(a: Analysis) -> Figure:
    """Full-data macro vs drop to each k-shot regime."""
    d = a.tables["few_shot_drops"]
    fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
    corr = {row["regime"]: row["spearman"] for row in a.tables["drop_vs_ceiling"].iter_rows(named=True)}
    for regime in d["regime"].unique(maintain_order=True).to_list():
        r = d.filter(pl.col("regime") == regime)
        rho = corr.get(regime)
        ax.scatter(r["macro_base"], r["drop"], s=18,
                   label=regime + ("" if rho is None or not np.isfinite(rho) else f" (\u03c1 = {rho:.2f})"))
    ax.set_xlabel(f"macro ({a.options.base_regime}), the ceiling")
    ax.set_ylabel("drop = macro_full - macro_k")
    ax.set_title("Few-shot drop vs full-data ceiling")
    if d.height:
        ax.legend(title="regime", fontsize=8)
    return fig


def rerank_chart(a: Analysis) -> Figure:
    """Per category: base-regime winner vs each k-shot winner; red = reranked."""
    w = a.tables["category_winners"]
    regimes = w["regime"].unique(maintain_order=True).to_list()
    cats = category_order_for(w["category"].to_list())
    lab = _labels(a)
    base = a.options.base_regime
    fig, ax = plt.subplots(figsize=(2.4 + 3.2 * len(regimes), 0.62 * len(cats) + 1.4), layout="constrained")
    ax.set_xlim(-0.5, len(regimes) - 0.5)
    ax.set_ylim(len(cats) - 0.5, -0.5)
    ax.set_xticks(range(len(regimes)), regimes)
    ax.set_yticks(range(len(cats)), cats, fontsize=9.5)
    win = {(r, c): (m, s) for r, c, m, s in w.select("regime", "category", "winner", "score").iter_rows()}
    for i, c in enumerate(cats):
        bw = win.get((base, c), (None, None))[0]
        for j, r in enumerate(regimes):
            if (r, c) not in win:
                continue
            m, s = win[(r, c)]
            color = "#f4cccc" if (r != base and m != bw) else ("#d9ead3" if r != base else "#e8e8e8")
            ax.add_patch(plt.Rectangle((j - 0.48, i - 0.45), 0.96, 0.9, color=color))
            ax.text(j, i, f"{lab.get(m, m)}\n{s:.3f}", ha="center", va="center", fontsize=8.5)
    rc = a.tables["rerank_counts"]
    sub = ", ".join(f"{r}: {n}/{k} rerank" for r, n, k in rc.select("regime", "n_reranked", "n_categories").iter_rows())
    ax.set_title(f"Category winners per regime ({sub})", fontsize=9)
    ax.tick_params(length=0)
    for sp in ax.spines.values():
        sp.set_visible(False)
    return fig


#: Figure name -> builder; each saved as <name>.png and <name>.svg.
FIGURES: dict[str, Callable[[Analysis], Figure]] = {
    "heatmap": heatmap,
    "pareto": pareto,
    "scale": scale_scatter,
    "few_shot_drop": few_shot_drop,
    "rerank": rerank_chart,
}


def make_figures(a: Analysis) -> dict[str, Figure]:
    """Build every figure (call `plt.close(fig)` when done, or use `figure_bytes`)."""
    return {name: fn(a) for name, fn in FIGURES.items()}


def figure_bytes(fig: Figure, fmt: str) -> bytes:
    """Render a figure to PNG/SVG bytes (SVG with a fixed hash salt and no date, so reruns match)."""
    buf = io.BytesIO()
    meta = {"Date": None} if fmt == "svg" else {}
    with plt.rc_context({"svg.hashsalt": "geneb", "svg.fonttype": "none"}):
        fig.savefig(buf, format=fmt, dpi=130, metadata=meta)
    return buf.getvalue()
