"""`geneb analyze` (summary.json, tables, figures) and `geneb report` (static HTML page)."""

from __future__ import annotations

import argparse


def _inputs(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("inputs")
    g.add_argument("--results", nargs="+", default=[], metavar="PATH",
                   help="results tables (parquet from `geneb probe`) or directories of them")
    g.add_argument("--submissions", nargs="+", default=None, metavar="PATH",
                   help="GENEB submission JSON files or directories of them (converted to results rows)")
    g.add_argument("--metadata", default=None, metavar="CSV",
                   help="CSV of model metadata (column `model` plus params, architecture, ... or any extra) "
                        "that overrides and extends the catalog")
    g.add_argument("--protocol", default=None,
                   help="keep only rows of this protocol (required when the inputs mix protocols)")
    g.add_argument("--published", action="store_true",
                   help="the 40 published GENEB results, shipped with geneb (offline); alone, or with "
                        "--results/--submissions to rank your models among them")
    g.add_argument("--with-published", action="store_true", dest="published",
                   help="same as --published: add the 40 published results to yours (your models are marked; "
                        "only results on the 100 GENEB tasks are accepted)")


def _options(p: argparse.ArgumentParser) -> None:
    from geneb.catalog.presets import analysis_presets

    g = p.add_argument_group("analysis options")
    g.add_argument("--preset", choices=sorted(analysis_presets()), default=None,
                   help="a named set of the options below; 'paper' = the paper's (params_v1, F = 5 over the 36 "
                        "in-domain models, ...) and a 'paper vs computed' table of every headline number "
                        "(needs --published). Options given explicitly win.")
    g.add_argument("--metric", default="mcc", choices=("mcc", "acc", "f1"), help="score to aggregate (default mcc)")
    g.add_argument("--base-regime", default="full", metavar="REGIME", help="the reference regime for scale, pairs, drops, reranking (default full)")
    g.add_argument("--param", default="params", metavar="COLUMN", help="metadata column with parameter counts (params or params_v1)")
    g.add_argument("--scale-exclude", action="append", default=[], metavar="MODEL",
                   help="leave this model out of the scale correlation (repeatable)")
    g.add_argument("--scale-exclude-where", action="append", default=[], metavar="FILTER",
                   help="leave models matching a metadata filter out of the scale correlation, "
                        "e.g. pretraining_data=prokaryotic (repeatable)")
    g.add_argument("--pairs-factor", type=float, default=5.0, metavar="F", help="smaller-beats-larger size factor F (default 5)")
    g.add_argument("--pairs-where", action="append", default=[], metavar="FILTER",
                   help="model subset for the pair count, e.g. 'source=geneb' or 'pretraining_data!=prokaryotic' (repeatable, all must hold)")
    g.add_argument("--variance-threshold", type=float, default=0.12, metavar="STD", help="std across models above which a task is high-variance (default 0.12)")
    g.add_argument("--top-k", type=int, default=3, metavar="K", help="top-k models per high-variance task to tally (default 3)")
    g.add_argument("--tally-column", default="pretraining_data", metavar="COLUMN", help="metadata column tallied over the top-k (default pretraining_data)")
    g.add_argument("--group-by", action="append", default=None, metavar="COLUMN",
                   help="metadata column for group means (repeatable; default architecture, tokenization, pretraining_data)")
    g.add_argument("--ablations", action="append", default=[], metavar="TOML",
                   help="extra ablation declarations (same format as geneb/catalog/data/ablations.toml)")
    g.add_argument("--recommend-regime", default="full", metavar="REGIME", help="regime for per-category recommendations (default full)")
    g.add_argument("--max-params", type=float, default=None, metavar="N", help="parameter budget for recommendations (e.g. 5e8)")
    g.add_argument("--compare-by", default="regime", choices=("regime", "protocol"),
                   help="ranking stability between two regimes or two protocols (default regime)")
    g.add_argument("--compare", nargs=2, default=("full", "10shot"), metavar=("A", "B"),
                   help="the two regimes/protocols whose rankings are compared (default full 10shot)")
    g.add_argument("--n-boot", type=int, default=1000, metavar="N", help="bootstrap resamples for confidence intervals (0 = none; default 1000)")
    g.add_argument("--ci", type=float, default=0.95, metavar="LEVEL", help="confidence level (default 0.95)")
    g.add_argument("--seed", type=int, default=0, metavar="N", help="bootstrap random seed (default 0)")
    g.add_argument("--example-bootstrap", action="store_true",
                   help="per-task MCC confidence intervals by resampling test examples in the base regime "
                        "(needs .preds.parquet; cost grows with n-boot x test size)")
    g.add_argument("--paired", nargs=2, default=None, metavar=("MODEL_A", "MODEL_B"),
                   help="paired bootstrap comparison of two models over test predictions (needs .preds.parquet)")
    g.add_argument("--min-models", type=int, default=5, metavar="N",
                   help="fewest models with parameter counts for a scale correlation, pair count or Pareto "
                        "frontier; fewer are reported as 'too few models' (default 5)")


def register(sub) -> None:
    a = sub.add_parser("analyze", help="aggregate results: summary.json, tables (CSV, Markdown) and figures (PNG, SVG)",
                       description="Run every analysis over results tables and/or GENEB submissions and write "
                                   "summary.json, tables/ and figures/ into --out (keys: analysis/README.md).")
    _inputs(a)
    a.add_argument("--out", default="analysis", metavar="DIR", help="output directory (default analysis/)")
    a.add_argument("--no-figures", action="store_true", help="skip the figures (faster)")
    _options(a)
    a.set_defaults(func=_analyze, flags={x.dest: x.option_strings for x in a._actions})

    r = sub.add_parser("report", help="write the static, self-contained HTML leaderboard",
                       description="Build one HTML file (no server, works offline from file://): sortable table, "
                                   "regime switch, per-category view, model metadata, figures, confidence intervals.")
    _inputs(r)
    r.add_argument("--analysis", default=None, metavar="DIR",
                   help="build from a `geneb analyze` output directory (its saved rows and options) "
                        "instead of --results/--submissions")
    r.add_argument("--out", default="analysis/report.html", metavar="HTML", help="output file (default analysis/report.html)")
    r.add_argument("--title", default="GENEB leaderboard", help="page title")
    r.add_argument("--no-figures", action="store_true", help="leave the figures out of the page")
    _options(r)
    r.set_defaults(func=_report, flags={x.dest: x.option_strings for x in r._actions})


# AnalysisOptions field -> CLI dest, where the names differ
_DEST_FOR = {"variance_top_k": "top_k"}


def _given(args, parser_flags: dict[str, list[str]]) -> set[str]:
    """The dests whose flags appear on the command line (`--flag value` or `--flag=value`)."""
    typed = {tok.split("=", 1)[0] for tok in getattr(args, "argv", []) if tok.startswith("-")}
    return {dest for dest, flags in parser_flags.items() if typed & set(flags)}


def _apply_preset(args, opts):
    """Preset values for every option not given on the command line (explicit flags win)."""
    from dataclasses import replace

    from geneb.catalog.presets import analysis_presets

    if not args.preset:
        return opts
    typed = _given(args, args.flags)
    chosen = {k: v for k, v in analysis_presets()[args.preset].items() if _DEST_FOR.get(k, k) not in typed}
    return replace(opts, **chosen, preset=args.preset)


def _run(args):
    from geneb.analysis import AnalysisOptions, load_predictions, load_results, run_analysis

    from . import CLIError

    if not args.results and not args.submissions and not args.published:
        raise CLIError("give --results and/or --submissions, or --published for the published GENEB results")
    if args.preset == "paper" and not args.published:
        raise CLIError("--preset paper reproduces the paper from the published results: add --published")
    df = load_results(args.results or None, args.submissions, args.metadata,
                      None if args.compare_by == "protocol" else args.protocol, published=args.published)
    preds = None
    if args.results and (args.paired or args.example_bootstrap):
        # only what is asked for: prediction files are large
        preds = load_predictions(args.results, None if args.example_bootstrap else args.paired, [args.base_regime])
    opts = AnalysisOptions(
        metric=args.metric, protocol=args.protocol, base_regime=args.base_regime, param=args.param,
        scale_exclude=args.scale_exclude, scale_exclude_where=args.scale_exclude_where,
        pairs_factor=args.pairs_factor, pairs_where=args.pairs_where,
        variance_threshold=args.variance_threshold, variance_top_k=args.top_k, tally_column=args.tally_column,
        group_by=args.group_by or ["architecture", "tokenization", "pretraining_data"],
        ablation_files=args.ablations, recommend_regime=args.recommend_regime, max_params=args.max_params,
        compare_by=args.compare_by, compare_a=args.compare[0], compare_b=args.compare[1],
        n_boot=args.n_boot, ci=args.ci, seed=args.seed, paired=tuple(args.paired) if args.paired else None,
        example_bootstrap=args.example_bootstrap, min_models=args.min_models,
    )
    return run_analysis(df, _apply_preset(args, opts), preds)


def print_paper_table(paper: dict) -> None:
    """The 'paper vs computed' table on stdout."""
    from geneb.analysis.published import paper_text

    print("  paper vs computed (geneb --preset paper over the packaged published results):")
    for r in paper["rows"]:
        mark = {True: "ok", False: "DIFFERS", None: "  "}[r["match"]]
        paper_v = paper_text(r["paper"], r["tolerance"])
        comp = f"{r['computed']:.4f}" if isinstance(r["computed"], float) else str(r["computed"])
        print(f"    {mark:7s} {r['what'][:62]:62s} paper {paper_v:>6s}  computed {comp:>8s}")
    print(f"  in-domain models for the pair count: {len(paper['in_domain'])} (left out: {', '.join(paper['left_out'])})")


def _analyze(args) -> int:
    from geneb.report import write_analysis

    a = _run(args)
    written = write_analysis(a, args.out, figures=not args.no_figures)
    s = a.summary
    print(f"wrote {len(written)} files to {args.out}/ (summary.json, tables/, figures/)")
    for r, v in s["mean_macro"].items():
        print(f"  mean macro {r}: {v:.3f}" if v is not None else f"  mean macro {r}: n/a")
    print(f"  models: {s['models']}")
    sc = s["scale"]
    if sc["rho"] is not None:
        print(f"  scale: Spearman rho({sc['param']}, macro) = {sc['rho']:.3f} (p = {sc['p']:.2g}, n = {sc['n']})")
    else:
        print(f"  scale: {sc['status']} (n = {sc['n']} with parameter counts)")
    pc = s["pairs"]
    shown = pc["count"] if pc["count"] is not None else pc["status"]
    print(f"  smaller-beats-larger pairs at F={pc['factor']:g}: {shown} (over {pc['n_models']} models)")
    if s["param_counts"]["note"]:
        print(f"  {s['param_counts']['note']}")
    for m, rec in (s.get("published") or {}).get("models", {}).items():
        for r, v in rec.items():
            if isinstance(v, dict):
                ci = f" (95% interval {v['rank_ci'][0]}-{v['rank_ci'][1]})" if v.get("rank_ci") else ""
                print(f"  {m}: rank {v['rank']} of {v['of']} at {r}{ci}")
    if "paper" in s:
        print_paper_table(s["paper"])
    if s["issues"]:
        print(f"  {len(s['issues'])} data issue(s): see tables/issues.md")
    if s.get("task_data", {}).get("warning"):
        print(f"  WARNING: {s['task_data']['warning']}")
    return 0


def _report(args) -> int:
    from geneb.analysis import load_analysis
    from geneb.report import build_report

    from . import CLIError

    if args.analysis:
        if args.results or args.submissions or args.published:
            raise CLIError("give either --analysis or --results/--submissions/--published, not both")
        a = load_analysis(args.analysis)
    else:
        a = _run(args)
    out = build_report(a, args.out, args.title, figures=not args.no_figures)
    print(f"wrote {out}")
    return 0
