"""`geneb models` and `geneb tasks`: browse the catalog."""

from __future__ import annotations

import argparse

from ._table import print_json, print_table


def register(sub) -> None:
    p = sub.add_parser("models", help="list the catalog's models (GENEB 40, built-in, user)")
    p.add_argument("--family", help="only this adapter family")
    p.add_argument("--architecture", help="only this architecture label (e.g. T-enc, Mamba)")
    p.add_argument("--source", choices=["geneb", "builtin", "user"], help="only models of this origin")
    p.add_argument("--model-file", action="append", default=[], help="also declare user models from this TOML/YAML file")
    p.add_argument("--check", action="store_true", help="add a column saying whether each model can run here")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=_models)

    t = sub.add_parser("tasks", help="list tasks (the 100 GENEB tasks in official order, the mini suite)")
    t.add_argument("--benchmark", default=None, help="only the tasks of this benchmark (geneb, geneb-mini, ...)")
    t.add_argument("--category", help="only this category (e.g. 'Promoters')")
    t.add_argument("--json", action="store_true", help="machine-readable output")
    t.set_defaults(func=_tasks)


def _models(args: argparse.Namespace) -> int:
    from ..catalog import all_models, load_model_file

    for f in args.model_file:
        load_model_file(f)
    models = list(all_models().values())
    if args.family:
        models = [m for m in models if m.family == args.family]
    if args.architecture:
        models = [m for m in models if m.architecture == args.architecture]
    if args.source:
        models = [m for m in models if m.source == args.source]
    rows = [m.to_dict() for m in models]
    if args.check:
        from ..extract.availability import can_run

        for r, m in zip(rows, models, strict=True):
            ok, why = can_run(m)
            r["runs_here"] = ok
            r["why"] = why
    if args.json:
        print_json(rows)
        return 0
    cols = ["model_id", "display", "family", "architecture", "tokenization", "params", "pooling", "source"]
    if args.check:
        cols += ["runs_here", "why"]
    print_table(rows, cols)
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
