"""The published GENEB results, shipped with the package (the official repository's 40
submissions, model metadata and leaderboard, byte for byte, with their git blob hashes),
and the paper's headline numbers with the options that reproduce them.

`published_submissions()` reads them like any submission file, so an analysis of the 40
and of a user's own results are one code path; `paper_vs_computed()` sets the paper's
claims beside what geneb computes from these files."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import tarfile
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from typing import Any

import polars as pl

from geneb.catalog.presets import analysis_presets

from .errors import AnalysisError
from .submissions import Submission, parse_submission

PUBLISHED = "geneb-v1"
#: `input` of rows read from the packaged data (`published` = True on their models).
PUBLISHED_INPUT_PREFIX = "published:"


def _resource(name: str):
    return resources.files("geneb.catalog") / "data" / "published" / name


@cache
def published_manifest() -> dict[str, Any]:
    """The provenance of the packaged files (repository, commits, git blob hash per file)."""
    import tomllib

    return tomllib.loads(_resource(f"{PUBLISHED}.toml").read_text(encoding="utf-8"))


def _blob_sha1(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@cache
def published_files() -> dict[str, bytes]:
    """Every packaged file by its path in the official repository, each checked against
    the manifest's git blob hash (a damaged install fails here, loudly)."""
    want = published_manifest()["files"]
    with tarfile.open(fileobj=io.BytesIO(_resource(f"{PUBLISHED}.tar.xz").read_bytes()), mode="r:xz") as tar:
        files = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    if set(files) != set(want):
        raise AnalysisError(f"packaged published data: files {sorted(set(files) ^ set(want))} differ from the manifest")
    bad = [n for n, data in files.items() if _blob_sha1(data) != want[n]]
    if bad:
        raise AnalysisError(f"packaged published data: {bad} do not match their recorded git blob hashes")
    return files


def published_submissions() -> list[Submission]:
    """The 40 published submissions, parsed and checked like user submission files (parsed
    once per process; each call returns its own copies)."""
    return [replace(s, meta=copy.deepcopy(s.meta)) for s in _parsed_submissions()]


@cache
def _parsed_submissions() -> tuple[Submission, ...]:
    from geneb.catalog import all_tasks

    cats = {tid: t.category for tid, t in all_tasks().items()}
    return tuple(parse_submission(data, PUBLISHED_INPUT_PREFIX + name, cats)
                 for name, data in sorted(published_files().items()) if name.startswith("submissions/"))


def published_model_ids() -> list[str]:
    return sorted(s.model_id for s in published_submissions())


def official_leaderboard() -> dict[str, list[dict[str, Any]]]:
    """The official leaderboard.json (built by the official tools/build_leaderboard.py):
    regime -> one record per model with macro/micro/category scores."""
    return json.loads(published_files()["leaderboard/leaderboard.json"])["data"]


def published_results(metadata_csv=None) -> pl.DataFrame:
    """The 40 published models' rows with metadata, as `load_results(published=True)`."""
    from .load import load_results

    return load_results(None, published=True, metadata_csv=metadata_csv)


# --- the paper's options and headline numbers ------------------------------------------

#: The paper's in-domain model set for the pair count (36 of the 40: the prokaryotic,
#: plant and microbial-only models left out), as the `paper` preset declares it.
IN_DOMAIN = analysis_presets()["paper"]["pairs_where"][0]


@dataclass(frozen=True)
class PaperNumber:
    """One headline claim: where it is in the paper, its value and the precision it is given at."""

    key: str
    what: str
    paper: float | None
    tol: float
    note: str = ""


PAPER_NUMBERS: tuple[PaperNumber, ...] = (
    PaperNumber("mean_macro.full", "mean macro-MCC, full data", 0.488, 0.0005),
    PaperNumber("mean_macro.10shot", "mean macro-MCC, 10-shot", 0.253, 0.0005),
    PaperNumber("mean_macro.1shot", "mean macro-MCC, 1-shot", 0.106, 0.0005),
    PaperNumber("relative_drop.10shot", "relative drop full -> 10-shot", 0.48, 0.005, "1 - 0.253/0.488 of the paper's rounded means"),
    PaperNumber("relative_drop.1shot", "relative drop full -> 1-shot", 0.78, 0.005, "1 - 0.106/0.488 of the paper's rounded means"),
    PaperNumber("rho.params_v1", "Spearman rho(params, full macro), first-version counts", 0.565, 0.0005),
    PaperNumber("rho.params_v1.no_prokaryotic", "rho without the prokaryotic outlier (Evo-1)", 0.686, 0.0005),
    PaperNumber("rho.params", "rho with the current parameter counts", None, 0.0,
                "not in the paper (its rho uses the first-version counts)"),
    PaperNumber("pairs.count", "smaller-beats-larger pairs (F = 5, in-domain models)", 31, 0.0),
    PaperNumber("pairs.n_models", "in-domain models the pairs are counted over", 36, 0.0),
    PaperNumber("diff.MutBERT-eccdnamamba_weights", "MutBERT minus eccDNAMamba, full macro", 0.110, 0.0005,
                "86M vs 1B parameters"),
    PaperNumber("reranks.10shot", "categories whose full-data winner changes at 10-shot (of 13)", 8, 0.0),
    PaperNumber("reranks.1shot", "categories whose full-data winner changes at 1-shot (of 13)", 11, 0.0),
    PaperNumber("tf_binding.enformer-official-rough", "Enformer's full-data TF Binding score (the category's winner)",
                0.698, 0.0005),
)


def paper_text(value: float | None, tol: float) -> str:
    """A paper value written at the precision the paper gives it (the digits its tolerance
    implies: 0.0005 -> 3 decimals; integers and tolerance 0 -> none)."""
    if value is None:
        return ""
    digits = 0 if not tol else max(0, round(-math.log10(2 * tol)))
    return f"{value:.{digits}f}"


def paper_vs_computed(results: pl.DataFrame, metric: str = "mcc") -> list[dict[str, Any]]:
    """Each PAPER_NUMBERS claim beside the value geneb computes from `results` (which must
    hold the 40 published models), with the options that give it."""
    from .pairs import pair_models, smaller_beats_larger
    from .scale import scale_correlation
    from .scores import category_scores, model_scores, regime_summary
    from .selection import Selection
    from .winners import category_winners, rerank_counts

    missing = sorted(set(published_model_ids()) - set(results["model"].unique().to_list()))
    if missing:
        raise AnalysisError(f"the paper's numbers need the 40 published models; missing {missing[:5]}"
                            f"{' ...' if len(missing) > 5 else ''} (use --published)")
    df = results.filter(pl.col("published").fill_null(False)) if "published" in results.columns else results
    ms = model_scores(df, metric)
    rs = {r["regime"]: r for r in regime_summary(df, metric).iter_rows(named=True)}
    full = dict(ms.filter(pl.col("regime") == "full").select("model", "macro").iter_rows())
    cw = category_winners(df, select=Selection(metric))
    rc = {r["regime"]: r["n_reranked"] for r in rerank_counts(cw, "full").iter_rows(named=True)}
    cs = category_scores(df, metric)
    tf = cs.filter((pl.col("regime") == "full") & (pl.col("category") == "TF Binding") & (pl.col("model") == "enformer-official-rough"))
    tf_winner = cw.filter((pl.col("regime") == "full") & (pl.col("category") == "TF Binding"))["winner"][0]

    def rho(param: str, exclude_where: str | None = None) -> float:
        sel = Selection(metric, exclude_where=exclude_where)
        return scale_correlation(df, param, "full", select=sel, scores=ms)["rho"][0]

    in_domain = Selection(metric, where=[IN_DOMAIN])
    pair_set, _ = pair_models(df, "params_v1", "full", select=in_domain, scores=ms)
    computed: dict[str, tuple[float, str]] = {
        **{f"mean_macro.{r}": (rs[r]["mean_macro"], "") for r in ("full", "10shot", "1shot")},
        **{f"relative_drop.{r}": (rs[r]["relative_drop"], "") for r in ("10shot", "1shot")},
        "rho.params_v1": (rho("params_v1"), "--param params_v1"),
        "rho.params_v1.no_prokaryotic": (rho("params_v1", "pretraining_data=prokaryotic"),
                                         "--param params_v1 --scale-exclude-where pretraining_data=prokaryotic"),
        "rho.params": (rho("params"), "--param params"),
        "pairs.count": (smaller_beats_larger(df, 5.0, "params_v1", "full", select=in_domain, scores=ms).height,
                        f"--param params_v1 --pairs-factor 5 --pairs-where '{IN_DOMAIN}'"),
        "pairs.n_models": (len(pair_set), f"--pairs-where '{IN_DOMAIN}'"),
        "diff.MutBERT-eccdnamamba_weights": (full["MutBERT"] - full["eccdnamamba_weights"], ""),
        "reranks.10shot": (rc["10shot"], "--base-regime full"),
        "reranks.1shot": (rc["1shot"], "--base-regime full"),
        "tf_binding.enformer-official-rough": (tf["score"][0], f"winner: {tf_winner}"),
    }
    rows = []
    for n in PAPER_NUMBERS:
        value, options = computed[n.key]
        ok = None if n.paper is None else abs(value - n.paper) <= n.tol + 1e-12
        if n.key.startswith("tf_binding") and tf_winner != "enformer-official-rough":
            ok = False
        rows.append({"key": n.key, "what": n.what, "paper": n.paper, "computed": value, "tolerance": n.tol,
                     "match": ok, "options": options, "note": n.note})
    return rows


def paper_models(results: pl.DataFrame) -> dict[str, list[str]]:
    """The in-domain set and the models left out of it (summary.json `paper.in_domain`)."""
    from .load import model_table
    from .metadata import select_models

    meta = model_table(results)
    if "published" in meta.columns:
        meta = meta.filter(pl.col("published").fill_null(False))
    kept = select_models(meta, [IN_DOMAIN])["model"].to_list()
    return {"in_domain": sorted(kept), "left_out": sorted(set(meta["model"].to_list()) - set(kept))}
