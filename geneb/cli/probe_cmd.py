"""`geneb probe` (probe stored embeddings into a results table) and
`geneb export-submission` (GENEB leaderboard JSON per model from a results table)."""

from __future__ import annotations

import argparse
import sys

from ..errors import InvalidArgument


def _csv(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def register(sub) -> None:
    p = sub.add_parser(
        "probe",
        help="probe stored embeddings (geneb-v1 by default) into a results table (incremental)",
        description="Fit the protocol's probe on every fully embedded (model, task) pair of a store, "
        "for each regime and seed, and write one results row per model x task x regime x seed "
        "(plus test predictions in <out stem>.preds.parquet). Cells already in --out with the "
        "same store cache key and protocol are not refitted unless --overwrite.",
    )
    p.add_argument("--store", required=True, help="embedding store: a directory or fsspec URL")
    p.add_argument("--out", required=True, help="results table (.parquet); created or updated in place")
    p.add_argument("--protocol", default="geneb-v1",
                   help="probe protocol: geneb-v1 (published, exact), geneb-robust, geneb-mlp, or the variants "
                   "geneb-v1+torch / geneb-v1+cuml (geneb-v1 settings, another solver) (default: %(default)s)")
    p.add_argument("--models", type=_csv, default=None, help="comma-separated model ids (default: every model in the store)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--tasks", type=_csv, default=None, help="comma-separated task ids (default: every task in the store)")
    g.add_argument("--benchmark", default=None, help="only the tasks of this named benchmark (geneb, geneb-mini, ...)")
    p.add_argument("--regimes", type=_csv, default=None,
                   help="comma-separated regimes among full,10shot,1shot (default: all of the protocol's)")
    p.add_argument("--backend", default="auto", choices=["auto", "sklearn", "cuml", "torch"],
                   help="solver: auto = the protocol's own (scikit-learn lbfgs for geneb-v1, as published, "
                   "on any hardware). torch or cuml with geneb-v1 writes protocol geneb-v1+torch / "
                   "geneb-v1+cuml rows: not the published numbers (torch: task-mean MCC up to 0.076 apart on "
                   "geneb-mini), never ranked with geneb-v1 and not exported without --allow-backend "
                   "(default: %(default)s)")
    p.add_argument("--jobs", type=int, default=1,
                   help="(model, task) units fitted in parallel processes, BLAS threads split between them (default: %(default)s)")
    p.add_argument("--blas-threads", type=int, default=1,
                   help="BLAS threads per fit (default: %(default)s, so numbers do not depend on the machine's "
                   "cores, --jobs or Dask; 0: leave the environment's count). OpenBLAS sums in a "
                   "thread-count-dependent order: numbers are bit-equal to a reference run only at the same count")
    p.add_argument("--overwrite", action="store_true", help="recompute cells that are already in --out")
    p.add_argument("--dask", metavar="ADDR", default=None,
                   help="fit the (model, task) units on a Dask cluster ('local', 'local:N', a scheduler "
                   "address or a scheduler file) instead of --jobs processes; rows are merged here into --out. "
                   "Needs pip install 'geneb[dist]'; see docs/cluster.md")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(func=_probe)

    e = sub.add_parser(
        "export-submission",
        help="write one GENEB leaderboard submission JSON per model from a results table",
        description="Mean over seeds of MCC, accuracy and macro-F1 per regime and GENEB task "
        "(geneb-v1 rows of the reference scikit-learn solver only), rounded to 4 decimals, in the official "
        "submission format. Refuses when a model's results do not cover the 100 GENEB tasks x 3 regimes, "
        "unless --allow-partial, and rows of another backend (geneb-v1+torch/cuml), unless --allow-backend.",
    )
    e.add_argument("--results", required=True, help="results table written by `geneb probe`")
    e.add_argument("--out-dir", required=True, help="folder for the <model id>.json files")
    e.add_argument("--models", type=_csv, default=None, help="comma-separated model ids (default: every model in the table)")
    e.add_argument("--allow-backend", choices=["torch", "cuml"], default=None,
                   help="export the model's geneb-v1+<backend> rows (geneb-v1 settings solved by torch/cuML, "
                   "not the published solver) instead of refusing; the submission's meta.backend and "
                   "meta.protocol say so")
    e.add_argument("--allow-partial", action="store_true",
                   help="write incomplete submissions anyway (warned about and marked meta.partial)")
    e.add_argument("--submitted-by", default="", help="meta.submitted_by: who submits (name or handle)")
    e.add_argument("--provenance", default="self-reported", choices=["self-reported", "reproduced", "verified"],
                   help="meta.provenance ('official' is reserved for the benchmark authors) (default: %(default)s)")
    e.add_argument("--zero-shot", action="store_true", help="set meta.zero_shot to true")
    e.add_argument("--display", default=None, help="meta.display (default: the catalog's display name)")
    e.add_argument("--params", type=int, default=None, help="meta.params (default: the catalog's parameter count)")
    e.add_argument("--url", default=None, help="meta.url (default: the model's Hugging Face page)")
    e.add_argument("--training-data", default=None, help="meta.training_data (default: the catalog's pretraining data)")
    e.add_argument("--model-file", action="append", default=[], metavar="FILE",
                   help="user models (as given to `geneb embed`): their display, params, weights (for the url) "
                   "and pretraining_data fill the meta (repeatable)")
    e.set_defaults(func=_export)


def _probe(args: argparse.Namespace) -> int:
    from ..catalog import get_benchmark
    from ..probe import GridReport, run_probes

    tasks = list(get_benchmark(args.benchmark).task_ids) if args.benchmark else args.tasks
    args.protocol = _protocol_for(args.protocol, args.backend)
    report = GridReport()
    try:
        if args.dask:
            if args.jobs != 1:
                raise InvalidArgument("--jobs and --dask exclude each other (use --dask local:N for N local workers)")
            from ..dist import probe_all

            table = probe_all(
                args.store, args.out, protocol=args.protocol, models=args.models, tasks=tasks,
                regimes=args.regimes, backend=args.backend, overwrite=args.overwrite, dask=args.dask,
                blas_threads=args.blas_threads or None, progress=not args.no_progress, report=report,
            )
        else:
            table = run_probes(
                args.store, args.out, protocol=args.protocol, models=args.models, tasks=tasks,
                regimes=args.regimes, backend=args.backend, jobs=args.jobs, overwrite=args.overwrite,
                blas_threads=args.blas_threads or None,
                progress=not args.no_progress, report=report,
            )
    finally:
        for (m, t), why in sorted(report.skipped.items()):
            print(f"skipped {m}/{t}: {why}", file=sys.stderr)
    print(
        f"probed {len(report.probed)} (model, task) unit(s) ({report.cells_fitted} cell(s) fitted), "
        f"{report.cells_done} cell(s) already done, {len(report.skipped)} unit(s) skipped in {report.seconds:.1f}s; "
        f"{args.out}: {table.height} rows"
    )
    return 0


def _protocol_for(protocol: str, backend: str) -> str:
    """``--backend torch`` with geneb-v1 means the variant geneb-v1+torch: say so."""
    from ..catalog import get_protocol
    from ..catalog.protocols import protocol_for_backend

    if backend == "auto":
        return protocol
    try:
        spec = get_protocol(protocol)
        name = protocol_for_backend(protocol, backend)
    except (KeyError, ValueError):
        return protocol  # run_probes names the problem
    if name != spec.name:
        print(f"note: backend {backend!r} does not compute {protocol}: writing protocol {name!r} rows "
              f"(same settings, another solver; not the published numbers, never ranked with {protocol}). "
              f"For {protocol} use --backend sklearn (the default)", file=sys.stderr)
    return name


def _export(args: argparse.Namespace) -> int:
    from ..catalog import load_model_file
    from ..probe.submission import export_submission

    for f in args.model_file:
        load_model_file(f)
    meta = {"submitted_by": args.submitted_by, "provenance": args.provenance, "zero_shot": args.zero_shot,
            "display": args.display, "params": args.params, "url": args.url, "training_data": args.training_data}
    paths = export_submission(args.results, args.out_dir, args.models, allow_partial=args.allow_partial, meta=meta,
                              allow_backend=args.allow_backend)
    for p in paths:
        print(p)
    return 0
