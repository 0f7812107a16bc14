"""`geneb data fetch | check | mini`: get, validate and build task data."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub) -> None:
    p = sub.add_parser("data", help="task data: download, validate, build the mini suite")
    dsub = p.add_subparsers(dest="data_command", metavar="ACTION")
    dsub.required = True

    f = dsub.add_parser(
        "fetch", help="download GENEB task files (pinned HF revision) into a directory",
        description="Download the GENEB tasks at the pinned revision (DeepPavlov/geneb-tasks, alias "
                    "darlednik/geneb-tasks) and write them flat, with geneb-data-manifest.json beside them: the "
                    "hub's file hashes at that revision, the local ones, and each task's content hash checked "
                    "against the catalog's pinned hashes. Exits 1 when the data is not the pinned GENEB data.")
    f.add_argument("--tasks", help="comma-separated task ids (default: all 100)")
    f.add_argument("--out", required=True, help="directory to write <task_id>.csv files (flat layout)")
    f.add_argument("--cache-dir", help="Hugging Face cache directory")
    f.set_defaults(func=_fetch)

    c = dsub.add_parser("check", help="validate every task file in a directory (either layout)")
    c.add_argument("directory", help="directory with task files")
    c.set_defaults(func=_check)

    m = dsub.add_parser("mini", help="write the built-in geneb-mini suite to a directory")
    m.add_argument("--out", required=True, help="output directory (flat layout, <task_id>.csv)")
    m.set_defaults(func=_mini)


def _fetch(args: argparse.Namespace) -> int:
    from .. import data
    from ..catalog import geneb_tasks
    from ..data import fingerprint as fp
    from ..data.hub import fetch_geneb_snapshot

    ids = args.tasks.split(",") if args.tasks else [t.task_id for t in geneb_tasks()]
    root, repo, revision = fetch_geneb_snapshot(ids, cache_dir=args.cache_dir)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    hashes = {}
    for tid in ids:
        task = data.load_task_from(root, tid)
        _write_flat(task, out / f"{tid}.csv")
        hashes[tid] = task.content_hash
    hub, note = _hub_record(repo, revision)
    manifest = fp.build_manifest(root, hashes, repo, revision, hub, note)
    path = fp.write_manifest(manifest, out)
    for tid, t in manifest["tasks"].items():
        print(f"{tid}: ok  hash={t['content_hash'][:12]} ({t['status']})")
    problems = fp.manifest_problems(manifest)
    print(f"manifest: {path} ({repo}@{revision[:12]}; hub file hashes: {note}; "
          f"{manifest['n_pinned']} of {len(ids)} task(s) pinned in the catalog)")
    if problems:
        print(f"NOT THE GENEB DATA: {len(problems)} problem(s):")
        for p in problems:
            print(f"  {p}")
        return 1
    return 0


def _hub_record(repo: str, revision: str) -> tuple[dict | None, str]:
    """The hub's per-file hashes at the revision, or None and why not (offline)."""
    import os

    if os.environ.get("HF_HUB_OFFLINE", "0") not in ("0", "", "false"):
        return None, "not queried (HF_HUB_OFFLINE); cache blob etags recorded"
    from ..data.fingerprint import hub_file_info

    try:
        return hub_file_info(repo, revision), f"from the hub ({repo}@{revision[:12]})"
    except Exception as exc:  # huggingface_hub raises many network error types
        return None, f"unavailable ({type(exc).__name__}); cache blob etags recorded"


def _write_flat(task, path: Path) -> None:
    import csv

    tmp = path.with_suffix(path.suffix + ".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "split"])
        for split in ("train", "test"):
            sp = task.split(split)
            for s, y in zip(sp.sequences, sp.labels.tolist(), strict=True):
                w.writerow([s, y, split])
    tmp.replace(path)


def _check(args: argparse.Namespace) -> int:
    from ..data import TaskDataError, discover_tasks, load_task_from
    from ..data.fingerprint import pin_status

    found = discover_tasks(args.directory)
    if not found:
        print(f"{args.directory}: no task files found (expected <task_id>.csv or tasks/<task_id>/train.csv)")
        return 1
    bad = 0
    for tid in found:
        try:
            t = load_task_from(args.directory, tid)
        except TaskDataError as exc:
            bad += 1
            print(f"FAIL {tid}: {exc}")
            continue
        n_cls = len(set(t.train.labels.tolist()))
        status = pin_status(tid, t.content_hash)
        if status == "differs-from-pinned":
            bad += 1
            print(f"FAIL {tid}: content hash {t.content_hash[:12]} differs from the catalog's pinned hash: not the GENEB data")
            continue
        print(f"ok   {tid}: train={len(t.train)} test={len(t.test)} classes={n_cls} hash={t.content_hash[:12]} ({status})")
    print(f"{len(found) - bad} of {len(found)} tasks valid")
    return 1 if bad else 0


def _mini(args: argparse.Namespace) -> int:
    from ..catalog import mini_tasks
    from ..data import load_task

    tasks = mini_tasks()
    if not tasks:
        from . import CLIError

        raise CLIError("the mini suite is not shipped in this build (scripts/build_mini.py builds it)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for t in tasks:
        _write_flat(load_task(t.task_id), out / f"{t.task_id}.csv")
    print(f"wrote {len(tasks)} tasks to {out}")
    return 0
