"""`geneb store ls | show | verify | export | rm`: inspect and maintain an embedding store."""

from __future__ import annotations

import argparse
import os
import sys

from ._table import print_json, print_table

DEFAULT_STORE = os.environ.get("GENEB_STORE", "stores/default.zarr")


def register(sub) -> None:
    p = sub.add_parser("store", help="inspect and maintain an embedding store (ls, show, verify, export, rm)")
    acts = p.add_subparsers(dest="action", metavar="ACTION")
    acts.required = True

    def common(a: argparse.ArgumentParser) -> None:
        a.add_argument("--store", "-s", default=DEFAULT_STORE,
                       help=f"store path or fsspec URL (default: $GENEB_STORE or {DEFAULT_STORE})")

    a = acts.add_parser("ls", help="summary table: one row per model x task x split")
    common(a)
    a.add_argument("--model", help="only this model")
    a.add_argument("--status", choices=["complete", "partial"], help="only pairs with this status")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.set_defaults(func=_ls)

    a = acts.add_parser("show", help="one (model, task) pair: splits, cache key and provenance")
    common(a)
    a.add_argument("model")
    a.add_argument("task")
    a.add_argument("--json", action="store_true", help="machine-readable output")
    a.set_defaults(func=_show)

    a = acts.add_parser("verify", help="read every chunk; check checksums, NaN/inf, shapes, done flags")
    common(a)
    a.add_argument("--model", help="only this model")
    a.add_argument("--task", help="only this task (with --model)")
    a.set_defaults(func=_verify)

    a = acts.add_parser("export", help="write a pair's matrices and labels as .npy or parquet")
    common(a)
    a.add_argument("model")
    a.add_argument("task")
    a.add_argument("--split", action="append", help="only this split (repeatable; default: all)")
    a.add_argument("--format", choices=["npy", "parquet"], default="npy")
    a.add_argument("--out", "-o", default=".", help="output directory (default: .)")
    a.add_argument("--allow-partial", action="store_true", help="export only the finished rows of an incomplete pair")
    a.set_defaults(func=_export)

    a = acts.add_parser("rm", help="remove a model, or one (model, task) pair")
    common(a)
    a.add_argument("model")
    a.add_argument("task", nargs="?")
    a.add_argument("--lock-timeout", type=float, default=0.0, help="seconds to wait for a running writer")
    a.set_defaults(func=_rm)


def _open(args, mode: str = "r"):
    from ..store import open_store

    return open_store(args.store, mode=mode)


def _ls(args: argparse.Namespace) -> int:
    st = _open(args)
    df = st.summary()
    if args.model:
        df = df.filter(df["model"] == args.model)
    if args.status:
        df = df.filter(df["status"] == args.status)
    rows = df.to_dicts()
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["model", "task", "split", "n", "dim", "dtype", "bytes", "status", "blocks_done", "n_blocks", "created"])
    return 0


def _show(args: argparse.Namespace) -> int:
    st = _open(args)
    prov = st.provenance(args.model, args.task)
    if args.json:
        print_json(prov)
        return 0
    print(f"{args.model}/{args.task}  status={prov['status']}  cache_key={prov['cache_key_hash']}")
    print(f"created {prov.get('created')}  finished {prov.get('finished')}  compressor {prov.get('compressor')}")
    rows = [{"split": s, **lay, "blocks_done": sum(st.done_blocks(args.model, args.task, s))}
            for s, lay in (prov.get("layouts") or {}).items()]
    print_table(rows, ["split", "n_rows", "dim", "dtype", "block_rows", "chunk_rows", "n_blocks", "blocks_done"])
    print("\ncache key:")
    for k, v in sorted((prov.get("cache_key") or {}).items()):
        print(f"  {k}: {v}")
    skip = {"model", "task", "status", "cache_key", "cache_key_hash", "created", "finished", "compressor", "layouts"}
    extra = {k: v for k, v in prov.items() if k not in skip}
    if extra:
        print("\nprovenance:")
        for k, v in sorted(extra.items()):
            print(f"  {k}: {v}")
    return 0


def _verify(args: argparse.Namespace) -> int:
    st = _open(args)
    if args.task and not args.model:
        from . import CLIError

        raise CLIError("--task needs --model")
    problems = st.verify(model=args.model, task=args.task, progress=sys.stderr.isatty())
    n = len(st.pairs()) if not args.model else (1 if args.task else len(st.tasks(args.model)))
    if not problems:
        print(f"ok: {n} pair(s) verified, no problems")
        return 0
    for p in problems:
        print(str(p))
    print(f"{len(problems)} problem(s) found in {st.url}", file=sys.stderr)
    return 1


def _export(args: argparse.Namespace) -> int:
    from ..store.export import export_pair

    st = _open(args)
    for path in export_pair(st, args.model, args.task, args.out, fmt=args.format, splits=args.split,
                            allow_partial=args.allow_partial):
        print(path)
    return 0


def _rm(args: argparse.Namespace) -> int:
    st = _open(args, mode="a")
    removed = st.remove(args.model, args.task, lock_timeout=args.lock_timeout)
    for m, t in removed:
        print(f"removed {m}/{t}")
    if args.task is None:
        print(f"removed model {args.model}")
    return 0
