"""`geneb store ls | show | verify | export | rm`: inspect and maintain an embedding store."""

from __future__ import annotations

import argparse
import os
import sys

from ._table import print_json, print_table

DEFAULT_STORE = os.environ.get("GENEB_STORE", "stores/default.zarr")


def register(sub) -> None:
    p = sub.add_parser("store", help="inspect and maintain an embedding store (ls, show, verify, export, import, rm)")
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
    # positional like show/export/rm; --model/--task kept for scripts written against them
    a.add_argument("model_pos", nargs="?", metavar="MODEL", help="only this model")
    a.add_argument("task_pos", nargs="?", metavar="TASK", help="only this task of MODEL")
    a.add_argument("--model", help=argparse.SUPPRESS)
    a.add_argument("--task", help=argparse.SUPPRESS)
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

    a = acts.add_parser(
        "import", help="add a pair's vectors computed elsewhere (.npy or parquet per split) under a stated cache key",
        description="Write one (model, task) pair from per-split files: .npy matrices, or parquet with an "
        "'embedding' column (what `store export` writes) or one float column per dimension; rows in the task "
        "file's order. Labels and the task's content hash come from the task file (--data), so the pair is "
        "fingerprinted like an embedded one. The cache key (--key) states what produced the vectors: at least "
        "revision and pooling, any of " + ", ".join(("layer", "special_tokens", "max_length", "window",
        "reverse_complement", "tokenizer", "extractor_version", "extra")) + "; model_id, dtype and "
        "task_content_hash are filled in. Everything is checked before the store is touched.")
    common(a)
    a.add_argument("model")
    a.add_argument("task")
    src = a.add_mutually_exclusive_group(required=True)
    src.add_argument("--from", dest="from_dir", metavar="DIR",
                     help="a folder in the `store export` layout: MODEL__TASK__{train,test}.X.npy (+ .y.npy) or .parquet")
    src.add_argument("--train", metavar="FILE", help="train matrix (.npy or .parquet); needs --test")
    a.add_argument("--test", metavar="FILE", help="test matrix (.npy or .parquet)")
    a.add_argument("--key", required=True, metavar="JSON",
                   help="the cache key: a JSON file, or inline JSON such as '{\"revision\": \"abc\", \"pooling\": \"mean\"}'")
    a.add_argument("--data", metavar="DIR", default=None, help="task data folder (default: $GENEB_DATA / the fetched GENEB data)")
    a.add_argument("--dtype", default="float32", choices=["float32", "float16"],
                   help="storage dtype (default float32: bit-equal to the files' float32 values, as geneb-v1 stores)")
    a.add_argument("--overwrite", action="store_true", help="replace the pair if it exists under another cache key")
    a.set_defaults(func=_import)

    a = acts.add_parser("rm", help="remove a model, or one (model, task) pair")
    common(a)
    a.add_argument("model")
    a.add_argument("task", nargs="?")
    a.add_argument("--lock-timeout", type=float, default=0.0, help="seconds to wait for a running writer")
    a.set_defaults(func=_rm)


def _open(args, mode: str = "r"):
    from pathlib import Path

    from ..store import open_store
    from . import CLIError

    for name in ("model_pos", "model"):  # `geneb store verify PATH`: a store where a model id goes
        v = getattr(args, name, None)
        if v and (Path(v) / "zarr.json").is_file():
            raise CLIError(f"{v!r} is a store, not a model id: pass it as --store {v} "
                           f"(geneb store {args.action} --store PATH [MODEL [TASK]])")
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
    from . import CLIError

    st = _open(args)
    model, task = args.model_pos or args.model, args.task_pos or args.task
    if task and not model:
        raise CLIError("a task needs its model: geneb store verify MODEL TASK")
    if model and model not in st.models() and not st._kv.list_dir(model):  # (an orphan folder: verify names it)
        raise CLIError(f"no model {model!r} in {st.url} (models: {', '.join(st.models()) or 'none'})")
    problems = st.verify(model=model, task=task, progress=sys.stderr.isatty())
    pairs = [(m, t) for m, t in st.pairs() if (not model or m == model) and (not task or t == task)]
    partial = [f"{m}/{t}" for m, t in pairs if st.status(m, t) == "partial"]
    if not problems:
        note = (f"; {len(partial)} partial (being written or interrupted: only their finished blocks were checked): "
                + ", ".join(partial[:10]) + (" ..." if len(partial) > 10 else "")) if partial else ""
        print(f"ok: {len(pairs)} pair(s) verified, no problems{note}")
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


def _import(args: argparse.Namespace) -> int:
    import json
    from pathlib import Path

    from ..data import load_task
    from ..store.importer import StoreImportError, import_pair

    if args.from_dir:
        d, stem = Path(args.from_dir), f"{args.model}__{args.task}"
        files = {}
        for split in ("train", "test"):
            cands = [d / f"{stem}__{split}.X.npy", d / f"{stem}__{split}.parquet"]
            found = [c for c in cands if c.is_file()]
            if not found:
                raise StoreImportError(f"{d}: no {cands[0].name} or {cands[1].name}")
            files[split] = found[0]
    else:
        if not args.test:
            raise StoreImportError("--train needs --test")
        files = {"train": args.train, "test": args.test}
    text = args.key
    if not text.lstrip().startswith("{"):
        text = Path(args.key).read_text(encoding="utf-8")
    try:
        key = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreImportError(f"--key: not valid JSON ({exc})") from None
    if not isinstance(key, dict):
        raise StoreImportError("--key: expected a JSON object of cache-key fields")
    task = load_task(args.task, args.data)
    res = import_pair(_open(args, mode="a"), args.model, task, files, key, dtype=args.dtype, overwrite=args.overwrite)
    print(f"{res.status} {res.model}/{res.task}: " + ", ".join(f"{s} {n} x {res.dim}" for s, n in res.rows.items()))
    return 0


def _rm(args: argparse.Namespace) -> int:
    st = _open(args, mode="a")
    removed = st.remove(args.model, args.task, lock_timeout=args.lock_timeout)
    for m, t in removed:
        print(f"removed {m}/{t}")
    if args.task is None:
        print(f"removed model {args.model}")
    return 0
