"""`geneb models` and `geneb tasks`: browse the catalog."""

from __future__ import annotations

import argparse

from ._table import print_json, print_table


def register(sub) -> None:
    p = sub.add_parser("models", help="list the catalog's models (GENEB 40, built-in, user)")
    p.add_argument("--family", help="only this adapter family")
    p.add_argument("--architecture", help="only this architecture label (e.g. T-enc, Mamba)")
    p.add_argument("--source", choices=["geneb", "builtin", "user"], help="only models of this origin")
    p.add_argument("--models", action="append", default=[], metavar="IDS",
                   help="only these comma-separated model ids (repeatable): catalog ids, 'default', 'builtin', "
                   "'geneb' (the 40 published models), path:DIR")
    p.add_argument("--model-file", action="append", default=[], help="also declare user models from this TOML/YAML file")
    p.add_argument("--check", action="store_true", help="add a column saying whether each model can run here")
    p.add_argument("--deep", action="store_true",
                   help="with --check: fetch each model's config, tokenizer and code files from the hub at its pinned "
                   "revision (never the weights), build a 2-layer random-weight copy of the real class and embed a few "
                   "sequences (with N and lower case) through geneb's adapter; exit 1 when any model is broken, "
                   "unavailable here or could not be fetched")
    p.add_argument("--device", default="cpu", help="device for --deep (default cpu; cuda to check GPU-only families)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_models)

    f = sub.add_parser("families", help="each adapter family's declaration: packages, extra, differences from upstream")
    f.add_argument("--family", help="only this family")
    f.add_argument("--json", action="store_true", help="machine-readable output (every field of each declaration)")
    f.set_defaults(func=_families)

    t = sub.add_parser("tasks", help="list tasks (the 100 GENEB tasks in official order, the mini suite)")
    t.add_argument("--benchmark", default=None, help="only the tasks of this benchmark (geneb, geneb-mini, ...)")
    t.add_argument("--category", help="only this category (e.g. 'Promoters')")
    t.add_argument("--json", action="store_true", help="machine-readable output")
    t.set_defaults(func=_tasks)


def _models(args: argparse.Namespace) -> int:
    from ..catalog import all_models, load_model_file

    declared = [m.model_id for f in args.model_file for m in load_model_file(f)]
    if args.models:
        from .embed_cmd import _split, resolve_models

        models = resolve_models(_split(args.models))
    elif args.deep and declared:
        models = [all_models()[i] for i in declared]  # --deep --model-file F: the models F declares
    else:
        models = list(all_models().values())
    if args.family:
        models = [m for m in models if m.family == args.family]
    if args.architecture:
        models = [m for m in models if m.architecture == args.architecture]
    if args.source:
        models = [m for m in models if m.source == args.source]
    if args.deep:
        return _deep(models, args)
    rows = [m.to_dict() for m in models]
    if args.check:
        from ..extract.availability import run_status

        for r, m in zip(rows, models, strict=True):
            r["runs_here"], r["why"] = run_status(m)
    if args.json:
        print_json(rows)
        return 0
    cols = ["model_id", "display", "family", "architecture", "tokenization", "params", "pooling", "source"]
    if args.check:
        cols += ["runs_here", "why"]
    print_table(rows, cols)
    return 0


def _deep(models: list, args: argparse.Namespace) -> int:
    """`models --check --deep`: one row per model, exit 1 when any failed."""
    import sys

    from ..extract.preflight import deep_check

    def progress(r) -> None:
        if not args.json:
            print(f"  {r.model_id}: {r.status}" + (f" ({r.error})" if r.error and r.status != "ok" else ""),
                  file=sys.stderr, flush=True)

    results = deep_check(models, device=args.device, progress=progress)
    rows = [r.to_dict() for r in results]
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["model_id", "family", "status", "loads", "embeds", "dim", "tokens", "seconds", "error"])
        counts: dict[str, int] = {}
        for r in results:
            counts[r.status] = counts.get(r.status, 0) + 1
        print("\n" + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return 1 if any(r.failed for r in results) else 0


def _families(args: argparse.Namespace) -> int:
    from collections import Counter

    from ..catalog import FAMILIES, all_models
    from ..extract.adapters import adapter_class
    from . import CLIError

    names = sorted(FAMILIES)
    if args.family:
        if args.family not in FAMILIES:
            raise CLIError(f"unknown family {args.family!r}; known: {', '.join(names)}")
        names = [args.family]
    counts = Counter(m.family for m in all_models().values())
    rows = [{**adapter_class(n).declaration(), "models": counts.get(n, 0)} for n in names]
    if args.json:
        print_json(rows)
        return 0
    for r in rows:
        d = r["differences"]
        r["requires"] = ", ".join(r["requires"])
        r["differences"] = ", ".join(x["name"] + ("" if x["active"] else " (inactive here)") for x in d) or "-"
    print_table(rows, ["family", "models", "requires", "extra", "neural", "differences"])
    return 0


def _tasks(args: argparse.Namespace) -> int:
    from ..catalog import all_tasks, get_benchmark

    tasks = list(all_tasks().values())
    if args.benchmark:
        ids = get_benchmark(args.benchmark).task_ids
        by_id = {t.task_id: t for t in tasks}
        tasks = [by_id[i] for i in ids]
    if args.category:
        tasks = [t for t in tasks if t.category == args.category]
    rows = [
        {"index": t.index, "task_id": t.task_id, "label": t.label, "category": t.category,
         "suite": t.suite, "source_collection": t.source_collection, "simulated": t.simulated}
        for t in tasks
    ]
    if args.json:
        print_json(rows)
        return 0
    print_table(rows, ["index", "task_id", "label", "category", "suite"])
    return 0
