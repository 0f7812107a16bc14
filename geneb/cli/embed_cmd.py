"""`geneb embed`: embed (model, task) pairs into a store, resumably."""

from __future__ import annotations

import argparse
import os
from typing import Any

from ..errors import InvalidArgument, MissingFile

DEFAULT_STORE = os.environ.get("GENEB_STORE", "stores/default.zarr")
#: Exit code when every other pair finished but some were being written by another process
#: (their lock was held): rerun later, or wait, before probing.
EXIT_LOCKED = 3


def register(sub) -> None:
    p = sub.add_parser(
        "embed",
        help="embed tasks with models into a Zarr store (resumable; skips finished pairs)",
        description="Embed every (model, task) pair into STORE. Finished pairs with the same "
        "cache key are skipped, interrupted ones resume at the first unfinished block. Exit codes: "
        f"0 all pairs complete, 2 error, {EXIT_LOCKED} some pairs were locked by another writer "
        "(not finished by this run).",
    )
    g = p.add_argument_group("what to embed")
    g.add_argument("--models", action="append", default=[], metavar="IDS",
                   help="comma-separated model ids (repeatable): catalog ids, 'default' (the built-in "
                   "default set), 'builtin' (every built-in model), 'geneb' (the 40 published models), or path:DIR for a local HF model "
                   "directory (family detected from config.json), or harness:PATH.py:CLASS[:NAME_MODEL] for a GENEB "
                   "harness extractor class. Default: default")
    g.add_argument("--model-file", action="append", default=[], metavar="FILE",
                   help="declare user models from this TOML/YAML file (repeatable)")
    g.add_argument("--trust-remote-code", action="store_true",
                   help="allow path:DIR models that ship their own Python code (auto_map)")
    t = g.add_mutually_exclusive_group()
    t.add_argument("--tasks", action="append", default=[], metavar="IDS",
                   help="comma-separated task ids (repeatable); with --data, a task id is its file name")
    t.add_argument("--benchmark", help="every task of this benchmark (geneb, geneb-mini, ...)")
    g.add_argument("--data", metavar="DIR",
                   help="read task files from DIR (flat <id>.csv or HF tasks/<id>/{train,test}.csv); "
                   "without --tasks/--benchmark, every task found there")
    g.add_argument("--store", default=DEFAULT_STORE, help=f"store path or URL (default {DEFAULT_STORE})")
    g.add_argument("--strict-tokens", action="store_true",
                   help="refuse a task when the model's tokenizer cannot represent some of its bases "
                   "(default: embed them as the authors' tokenizer does, N -> its unknown token, and "
                   "record the count in the provenance)")
    g.add_argument("--repair", action="store_true",
                   help="verify each stored pair first (reads every stored vector once) and re-embed any that "
                        "`geneb store verify` would flag, instead of skipping it (with --dask too: each worker verifies its pair)")
    g.add_argument("--overwrite", action="store_true",
                   help="replace pairs stored under a different cache key (default: refuse)")

    r = p.add_argument_group("how to run")
    r.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default auto)")
    r.add_argument("--dask", metavar="ADDR", default=None,
                   help="run the (model, task) units on a Dask cluster: local, local:N, tcp://host:8786 "
                   "or a scheduler file (see docs/cluster.md; needs 'geneb[dist]')")
    r.add_argument("--compute-dtype", default="auto", choices=["auto", "float32", "bfloat16", "float16"],
                   help="forward-pass precision; auto = bf16 on CUDA, float32 on CPU")
    r.add_argument("--token-budget", type=int, default=None, metavar="N",
                   help="padded tokens per batch (default 2048 on CPU, 65536 on CUDA); "
                   "halved automatically on CUDA out-of-memory")
    r.add_argument("--block-rows", type=int, default=None, metavar="N",
                   help="rows per store block, the unit of resume, for new pairs (default 2048)")
    r.add_argument("--threads", type=int, default=None, metavar="N", help="torch CPU threads")
    r.add_argument("--no-progress", action="store_true", help="no progress bars")

    v = p.add_argument_group("vector options (each part of the cache key)")
    v.add_argument("--dtype", default="float32", choices=["float16", "float32"],
                   help="storage dtype (default float32: the probe reads exactly what the model computed, as the "
                   "published harness does). float16 halves the store but moves MCC against the harness by up to "
                   "0.008 (8 of 15 task-regime cells of a k-mer check differed)")
    v.add_argument("--layer", type=int, default=None,
                   help="hidden-state index to tap (0 = embeddings, -1 = final; default: the catalog's)")
    v.add_argument("--pooling", default=None,
                   choices=["mean", "cls", "last-token", "penultimate-token", "spatial-mean"],
                   help="pooling rule (default: the catalog's; mean = masked mean incl. special tokens)")
    v.add_argument("--max-length", type=int, default=None,
                   help="truncate to this length in the model's unit (default: the catalog's)")
    v.add_argument("--window", type=int, default=None, metavar="BASES",
                   help="embed long sequences as windows of this many bases, averaged (default: truncate)")
    v.add_argument("--stride", type=int, default=None, metavar="BASES", help="window step (default: --window)")
    v.add_argument("--reverse-complement", action="store_true",
                   help="average each vector with that of the reverse complement")
    p.set_defaults(func=_run)


def _split(values: list[str]) -> list[str]:
    return [x.strip() for v in values for x in v.split(",") if x.strip()]


def resolve_models(ids: list[str], trust_remote_code: bool = False) -> list[Any]:
    """Model ids -> specs, expanding 'default', 'builtin' and 'geneb' (the 40 published
    models); unknown ids raise at once."""
    import dataclasses

    from ..catalog import builtin_models, default_models, geneb_models, get_model

    out: dict[str, Any] = {}
    for mid in ids or ["default"]:
        if mid == "default":
            specs = default_models()
        elif mid == "builtin":
            specs = list(builtin_models())
        elif mid == "geneb":
            specs = list(geneb_models())
        else:
            spec = get_model(mid)
            if mid.startswith("path:") and trust_remote_code:
                spec = dataclasses.replace(spec, trust_remote_code=True)
            specs = [spec]
        for s in specs:
            out.setdefault(s.model_id, s)
    return list(out.values())


def resolve_tasks(args: argparse.Namespace) -> list[str]:
    from ..catalog import get_benchmark

    if args.benchmark:
        return list(get_benchmark(args.benchmark).task_ids)
    ids = _split(args.tasks)
    if ids:
        return ids
    if args.data:
        from ..data import discover_tasks

        found = list(discover_tasks(args.data))
        if not found:
            raise MissingFile(f"{args.data}: no task files found (expected <id>.csv or tasks/<id>/)")
        return found
    raise InvalidArgument("say what to embed: --tasks IDS, --benchmark NAME, or --data DIR")


def _run(args: argparse.Namespace) -> int:
    # Before torch loads OpenMP: sleeping (not spinning) idle threads keep small CPU forward
    # passes from stalling on a machine shared with other jobs (docs/extraction.md, Speed).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    from ..catalog import load_model_file
    from ..extract import ExtractOptions, embed

    for f in args.model_file:
        load_model_file(f)
    models = resolve_models(_split(args.models), args.trust_remote_code)
    tasks = resolve_tasks(args)
    options = ExtractOptions(
        layer=args.layer, pooling=args.pooling, max_length=args.max_length, window=args.window,
        stride=args.stride, reverse_complement=args.reverse_complement, dtype=args.dtype,
        compute_dtype=args.compute_dtype,
    )
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.dask:
        return _run_dask(args, models, tasks, options)
    summary = embed(models, tasks, args.store, data_dir=args.data, device=args.device, options=options,
                    token_budget=args.token_budget, overwrite=args.overwrite, progress=not args.no_progress,
                    block_rows=args.block_rows, strict_tokens=args.strict_tokens, repair=args.repair)
    from ._table import print_table

    rows = [{"model": p.model, "task": p.task, "status": p.status, "rows": p.rows,
             "seconds": round(p.seconds, 2), "seq/s": round(p.seq_per_s, 1), "tok/s": round(p.tokens_per_s)}
            for p in summary.pairs]
    print_table(rows, ["model", "task", "status", "rows", "seconds", "seq/s", "tok/s"])
    print(summary)
    locked = [f"{p.model} x {p.task}" for p in summary.pairs if p.status == "locked"]
    if locked:
        import sys

        print(f"geneb embed: {len(locked)} pair(s) locked by another writer, not finished by this run: "
              + ", ".join(locked), file=sys.stderr)
        return EXIT_LOCKED
    return 0


def _run_dask(args: argparse.Namespace, models: list[Any], tasks: list[str], options: Any) -> int:
    """The same pairs as units on a Dask cluster (geneb.dist); failures listed at the end."""
    from ..dist import embed_all
    from ._table import print_table

    report = embed_all(args.store, models, tasks, dask=args.dask, data_dir=args.data, device=args.device,
                       options=options, token_budget=args.token_budget, overwrite=args.overwrite,
                       block_rows=args.block_rows, progress=not args.no_progress,
                       strict_tokens=args.strict_tokens, repair=args.repair)
    rows = []
    for r in report.results:
        v = r.value
        rows.append({"model": r.unit.model, "task": r.unit.task,
                     "status": getattr(v, "status", "failed" if not r.ok else "done"),
                     "rows": getattr(v, "rows", 0), "seconds": round(getattr(v, "seconds", 0.0), 2),
                     "host": r.host})
    print_table(rows, ["model", "task", "status", "rows", "seconds", "host"])
    print(report)
    report.raise_for_failures()
    return 0
