"""GENEB submission files (one JSON per model) from a results table, and
`validate_submission`, which mirrors the official leaderboard validator's rules.

Scores are the mean over the protocol's seeds, rounded to 4 decimals like the
reference harness. Only `geneb-v1` rows are exported: that is the leaderboard's
protocol, and rows of other protocols never mix with it. geneb-v1 numbers come from the
reference solver (scikit-learn lbfgs); rows of the torch/cuML backends are the variant
protocols `geneb-v1+torch` / `geneb-v1+cuml`, exported only when asked
(`allow_backend`), with `meta.backend` and `meta.protocol` naming them.

Metadata: for the models of the official `benchmark/model_meta.json` (a copy ships as
`geneb/catalog/data/official_model_meta.json`) `meta.display` and `meta.params` are the
official ones, so the leaderboard shows what it shows for the published submissions;
analyses keep the catalog's own counts. `meta.task_hashes` (task id -> content hash of the
task data the vectors were embedded from) and `meta.storage_dtype` say what the numbers
were computed on; a submission whose task hashes differ from the catalog's pinned ones is
refused (not the GENEB data)."""

from __future__ import annotations

import functools
import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import polars as pl

from ..catalog import REGIMES, get_benchmark, get_model, get_protocol
from ..errors import MissingFile, UserError
from ..results.submission import (
    LEADERBOARD_PROTOCOL,
    META_FIELDS,
    METRIC_NAMES,
    PROVENANCES,
    SUBMISSION_SCHEMA_VERSION,
    submission_filename,
)

log = logging.getLogger(__name__)

SCHEMA_VERSION = SUBMISSION_SCHEMA_VERSION
HARNESS_VERSION = "geneb-0.1.0"
_METRICS = METRIC_NAMES


class SubmissionError(UserError, ValueError):
    """Results cannot be exported as a valid submission; the message says what is missing."""


def geneb_task_ids() -> tuple[str, ...]:
    return tuple(get_benchmark("geneb").task_ids)


@functools.cache
def official_model_meta() -> dict[str, dict[str, Any]]:
    """The official ``benchmark/model_meta.json`` (model id -> display, params, url,
    zero_shot, training_data, provenance, submitted_by), from the catalog's copy."""
    from ..catalog._files import data_path

    return json.loads(data_path("official_model_meta.json").read_text(encoding="utf-8"))["models"]


def official_ids() -> frozenset[str]:
    """Model ids the official validator lets claim provenance ``official``: those with that
    provenance in model_meta.json (the benchmark authors' curated models)."""
    return frozenset(m for m, v in official_model_meta().items() if v.get("provenance") == "official")


def validate_submission(sub: Mapping[str, Any], filename: str | None = None,
                        task_ids: Sequence[str] | None = None) -> list[str]:
    """Every rule of the leaderboard validator (tools/validate_submission.py) that ``sub``
    breaks (empty = accepted). As there: a missing ``meta.provenance`` counts as
    ``self-reported`` and a missing ``meta.zero_shot`` as false; ``official`` is reserved
    for the ids model_meta.json marks official; metric ranges allow 1e-6; regimes other
    than the three are ignored. Stricter than it (it would accept these): booleans as
    ``params`` or metric values, and non-finite metrics are refused."""
    errs: list[str] = []
    task_ids = tuple(task_ids) if task_ids is not None else geneb_task_ids()
    model_id = sub.get("model_id")
    if not isinstance(model_id, str) or not model_id:
        errs.append("model_id is missing or not a string")
    elif filename is not None and Path(filename).name != submission_filename(model_id):
        errs.append(f"file name {Path(filename).name!r} should be {submission_filename(model_id)!r}")
    if not sub.get("harness_version"):
        errs.append("harness_version is missing")
    meta = sub.get("meta")
    if not isinstance(meta, Mapping):
        errs.append("meta is missing or not an object")
        meta = {}
    if not meta.get("display"):
        errs.append("meta.display is missing")
    params = meta.get("params")
    if isinstance(params, bool) or not isinstance(params, int) or params < 0:
        errs.append(f"meta.params must be a non-negative integer, got {params!r}")
    if not isinstance(meta.get("zero_shot", False), bool):
        errs.append(f"meta.zero_shot must be a boolean, got {meta.get('zero_shot')!r}")
    provenance = meta.get("provenance", "self-reported")
    if provenance not in PROVENANCES:
        errs.append(f"meta.provenance must be one of {PROVENANCES}, got {provenance!r}")
    elif provenance == "official" and model_id not in official_ids():
        errs.append("meta.provenance 'official' is reserved for the benchmark authors' curated models; "
                    "external submissions must use 'self-reported'")
    results = sub.get("results")
    if not isinstance(results, Mapping):
        return [*errs, "results is missing or not an object"]
    want = set(task_ids)
    for regime in REGIMES:
        block = results.get(regime)
        if not isinstance(block, Mapping):
            errs.append(f"results.{regime} is missing")
            continue
        missing, extra = want - set(block), set(block) - want
        if missing:
            errs.append(f"results.{regime}: {len(missing)} task(s) missing, e.g. {sorted(missing)[:3]}")
        if extra:
            errs.append(f"results.{regime}: {len(extra)} unknown task(s), e.g. {sorted(extra)[:3]}")
        for tid, m in block.items():
            if not isinstance(m, Mapping):
                errs.append(f"results.{regime}.{tid} is not an object")
                continue
            for _, name in _METRICS:
                v = m.get(name)
                lo = -1.0 if name == "MCC" else 0.0
                if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
                    errs.append(f"results.{regime}.{tid}.{name} must be a number, got {v!r}")
                elif not lo - 1e-6 <= v <= 1.0 + 1e-6:
                    errs.append(f"results.{regime}.{tid}.{name}={v} outside [{lo:g}, 1]")
    return errs


def _default_meta(model_id: str) -> dict[str, Any]:
    try:
        spec = get_model(model_id)
    except KeyError:
        return {}
    weights = spec.weights or ""
    url = f"https://huggingface.co/{weights}" if re.fullmatch(r"[\w.-]+/[\w.-]+", weights) else weights
    official = official_model_meta().get(model_id, {})
    return {"display": official.get("display") or spec.display,
            "params": int(official["params"]) if isinstance(official.get("params"), int) else int(spec.params),
            "url": url, "training_data": spec.pretraining_data}


def model_scores(table: pl.DataFrame, model: str, protocol: str = LEADERBOARD_PROTOCOL
                 ) -> tuple[dict[str, dict[str, dict[str, float]]], dict[str, list[str]]]:
    """Per regime and GENEB task, the seed means rounded to 4 decimals; and per regime
    the GENEB tasks lacking a full set of seeds."""
    seeds = get_protocol(protocol).seeds
    ids = geneb_task_ids()
    rows = table.filter(pl.col("model") == model, pl.col("protocol") == protocol,
                        pl.col("seed").is_in(list(seeds)), pl.col("task").is_in(list(ids)))
    agg = (rows.group_by("regime", "task")
           .agg(pl.col("seed").n_unique().alias("n"), *[pl.col(c).mean() for c, _ in _METRICS])
           .filter(pl.col("n") == len(set(seeds))))
    results: dict[str, dict[str, dict[str, float]]] = {r: {} for r in REGIMES}
    got: dict[str, dict[str, dict[str, float]]] = {r: {} for r in REGIMES}
    for rec in agg.iter_rows(named=True):
        if rec["regime"] in got:
            got[rec["regime"]][rec["task"]] = {n: round(float(rec[c]), 4) for c, n in _METRICS}
    missing: dict[str, list[str]] = {}
    for r in REGIMES:
        results[r] = {t: got[r][t] for t in ids if t in got[r]}  # official task order
        lack = [t for t in ids if t not in got[r]]
        if lack:
            missing[r] = lack
    return results, missing


def data_meta(table: pl.DataFrame, model: str, protocol: str = LEADERBOARD_PROTOCOL) -> dict[str, Any]:
    """``task_hashes`` (GENEB task id -> content hash, official order) and ``storage_dtype``
    of the rows a submission is built from; keys left out where no row records them
    (results of an older geneb). SubmissionError when a task's rows record different
    hashes, or a hash differs from the catalog's pinned one: not the GENEB data."""
    from ..data.fingerprint import pinned_hashes

    ids = geneb_task_ids()
    rows = table.filter(pl.col("model") == model, pl.col("protocol") == protocol, pl.col("task").is_in(list(ids)))
    out: dict[str, Any] = {}
    if "task_hash" in rows.columns:
        per = dict(rows.filter(pl.col("task_hash").is_not_null()).group_by("task")
                   .agg(pl.col("task_hash").unique().sort()).iter_rows())
        mixed = sorted(t for t, hs in per.items() if len(hs) > 1)
        if mixed:
            raise SubmissionError(f"{model}: rows of {len(mixed)} task(s) were computed on different task data "
                                  f"(more than one task hash), e.g. {', '.join(mixed[:3])}: re-probe them")
        pins = pinned_hashes()
        bad = [t for t, hs in per.items() if t in pins and hs[0] != pins[t]]
        if bad:
            raise SubmissionError(f"{model}: {len(bad)} task(s) were embedded from data that is not the GENEB data "
                                  f"(task hash differs from the catalog's pinned one), e.g. {', '.join(sorted(bad)[:3])}; "
                                  "embed the data `geneb data fetch` writes")
        if per:
            out["task_hashes"] = {t: per[t][0] for t in ids if t in per}
    if "storage_dtype" in rows.columns:
        dtypes = sorted(set(rows["storage_dtype"].drop_nulls().to_list()))
        if dtypes:
            out["storage_dtype"] = dtypes[0] if len(dtypes) == 1 else "/".join(dtypes)
    return out


def build_submission(table: pl.DataFrame, model: str, *, meta: Mapping[str, Any] | None = None,
                     allow_partial: bool = False, protocol: str = LEADERBOARD_PROTOCOL) -> dict[str, Any]:
    """The submission dict for one model; SubmissionError lists what is missing unless
    ``allow_partial`` (then it is built, warned about and marked ``meta.partial``)."""
    spec = get_protocol(protocol)
    if LEADERBOARD_PROTOCOL not in (spec.name, spec.variant_of):
        raise SubmissionError(f"the GENEB leaderboard takes {LEADERBOARD_PROTOCOL!r} results only, not {protocol!r}")
    m = {"zero_shot": False, "provenance": "self-reported", "submitted_by": "", "url": "",
         "training_data": "", **_default_meta(model), **{k: v for k, v in (meta or {}).items() if v is not None}}
    if m.get("provenance") == "official":
        raise SubmissionError(f"{model}: provenance 'official' is reserved for the benchmark authors' "
                              "curated models; external submissions use 'self-reported'")
    for need in ("display", "params"):
        if m.get(need) in (None, ""):
            raise SubmissionError(f"{model}: not in the catalog, so meta.{need} must be given (--{need})")
    results, missing = model_scores(table, model, protocol)
    if missing:
        n = sum(len(v) for v in missing.values())
        detail = "; ".join(f"{r}: {len(v)} task(s) missing, e.g. {', '.join(v[:3])}" for r, v in missing.items())
        if not allow_partial:
            raise SubmissionError(
                f"{model}: results do not cover the 100 GENEB tasks x 3 regimes under {protocol} "
                f"with all seeds ({n} cell(s) missing): {detail}. Probe them, or pass --allow-partial"
            )
        log.warning("%s: writing a PARTIAL submission (%d cell(s) missing): %s", model, n, detail)
        m["partial"] = True
        m["missing"] = {r: len(v) for r, v in missing.items()}
    m.update(data_meta(table, model, protocol))
    # the solver the numbers come from; the official validator ignores extra meta keys
    m["backend"] = spec.backend
    if spec.name != LEADERBOARD_PROTOCOL:
        m["protocol"] = spec.name
    meta_out = {k: m[k] for k in META_FIELDS}
    meta_out["params"] = int(meta_out["params"])
    meta_out.update({k: v for k, v in m.items() if k not in META_FIELDS})
    return {"schema_version": SCHEMA_VERSION, "model_id": model, "harness_version": HARNESS_VERSION,
            "meta": meta_out, "results": results}


def _atomic_json(obj: Any, path: Path) -> None:
    from .._atomic import atomic_write

    def write(tmp: str) -> None:
        with open(tmp, "w") as fh:
            json.dump(obj, fh, indent=1, allow_nan=False)
            fh.write("\n")

    atomic_write(path, write)


def export_submission(results: str | Path | pl.DataFrame, out_dir: str | Path,
                      models: Sequence[str] | None = None, *, allow_partial: bool = False,
                      meta: Mapping[str, Any] | None = None, allow_backend: str | None = None) -> list[Path]:
    """Write ``<out_dir>/<sanitised model id>.json`` per model. Every file is built and
    checked first; nothing is written if any model fails (unless ``allow_partial``).

    Only rows of the reference solver (geneb-v1, scikit-learn) are exported. With
    ``allow_backend="torch"`` (or ``"cuml"``) the model's ``geneb-v1+torch`` rows are
    exported instead, and ``meta.backend`` / ``meta.protocol`` name them. Rows written
    before variant protocols existed (protocol geneb-v1, backend torch) count as
    ``geneb-v1+torch``."""
    from ..catalog.protocols import VARIANT_BACKENDS, row_protocol_expr, variant_name
    from .table import read_results

    if not isinstance(results, pl.DataFrame) and not Path(results).exists():
        raise MissingFile(f"{results}: no such results table (write one with `geneb probe`)")
    table = read_results(results) if not isinstance(results, pl.DataFrame) else results
    if allow_backend is not None and allow_backend not in VARIANT_BACKENDS:
        raise SubmissionError(f"allow_backend must be one of {VARIANT_BACKENDS}, got {allow_backend!r}")
    protocol = variant_name(LEADERBOARD_PROTOCOL, allow_backend or "sklearn")
    want_backend = allow_backend or get_protocol(LEADERBOARD_PROTOCOL).backend
    table = table.with_columns(row_protocol_expr())
    v1 = table.filter(pl.col("protocol") == protocol)
    foreign = v1.filter(pl.col("backend") != want_backend)
    if foreign.height:
        bad = sorted(set(foreign["backend"].to_list()))
        raise SubmissionError(f"{foreign.height} {protocol} row(s) come from backend(s) {bad}, not {want_backend}: "
                              f"re-probe them with `geneb probe --backend {want_backend} --overwrite`")
    have = sorted(set(v1["model"].to_list()))
    models = list(models) if models else have
    variants = {b: set(table.filter(pl.col("protocol") == variant_name(LEADERBOARD_PROTOCOL, b))["model"].to_list())
                for b in VARIANT_BACKENDS if b != allow_backend}
    if not models:
        hint = [f"{len(ms)} model(s) have {variant_name(LEADERBOARD_PROTOCOL, b)} rows (backend {b}, not the "
                f"published solver: pass --allow-backend {b} to export them marked)" for b, ms in variants.items() if ms]
        raise SubmissionError(f"no {protocol} rows in the results table" + (f"; {'; '.join(hint)}" if hint else ""))
    unknown = [m for m in models if m not in have]
    if unknown:
        hint = [f"{m} has {variant_name(LEADERBOARD_PROTOCOL, b)} rows only (backend {b}, not the published solver): "
                f"re-probe with --backend sklearn, or pass --allow-backend {b} to export them with meta.backend"
                for m in unknown for b, ms in variants.items() if m in ms]
        raise SubmissionError(f"no {protocol} results for model(s) {', '.join(unknown)} "
                              f"(table has: {', '.join(have) or 'none'})" + (f". {'; '.join(hint)}" if hint else ""))
    if allow_backend:
        log.warning("exporting %s rows (backend %s, not the published scikit-learn solver) for %s; "
                    "meta.backend says so", protocol, allow_backend, ", ".join(models))
    subs = {m: build_submission(v1, m, meta=meta, allow_partial=allow_partial, protocol=protocol) for m in models}
    names = [submission_filename(m) for m in models]
    if len(set(names)) != len(names):
        raise SubmissionError(f"model ids map to the same file name: {names}")
    for m, sub in subs.items():
        errs = validate_submission(sub, submission_filename(m))
        if errs and not sub["meta"].get("partial"):
            raise SubmissionError(f"{m}: submission fails validation: {'; '.join(errs[:5])}")
    paths = []
    for m, sub in subs.items():
        p = Path(out_dir) / submission_filename(m)
        _atomic_json(sub, p)
        paths.append(p)
    return paths
