"""The resumable runner: (model, task) pairs -> store blocks, in file row order.

Per pair: load the task, build the cache key (without loading weights, so finished pairs
are skipped cheaply), load the model, validate every sequence against the tokenizer
(nothing is written if one is unsupported), then for each pending store block: expand rows
into pieces (windows, reverse complement), tokenise on a worker thread while the previous
block computes, batch by length under a token budget, embed, average pieces back into rows,
and hand the block to a writer thread. A block is marked done by the store only after it is
written, so a killed run resumes at the first unfinished block and ends bit-identical.
"""

from __future__ import annotations

import logging
import os
import platform
import re
import sys
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from ..catalog import ModelSpec, get_model
from ..data import TaskData, load_task
from ..errors import MissingFile
from .adapters import Adapter, ExtractError, ExtractOptions, adapter_class, make_adapter
from .adapters.base import TokenAudit, UnsupportedSequenceError
from .batching import Piece, pieces_for
from .cache_key import EXTRACTOR_VERSION, build_cache_key, key_diff

log = logging.getLogger(__name__)

SPLITS = ("train", "test")
#: Padded tokens per forward pass when the caller gives no budget. CPU is small on purpose:
#: a long sequence then runs alone, unpadded, so attention needs no mask and SDPA takes its
#: fused kernel instead of materialising (B, heads, T, T) scores (measured ~2x faster per token at
#: 2,000 tokens); GEMMs over >= 1,000 rows are already efficient on CPU.
DEFAULT_TOKEN_BUDGET = {"cpu": 2_048, "cuda": 65_536}
MAX_BATCH = 512
#: Store rows per block (the unit of resume) for new pairs; the store keeps a pair's blocking.
DEFAULT_BLOCK_ROWS = 2048
#: Task sequences `embed()` keeps in memory across models, in bases. Beyond it each pair
#: re-reads its task file: parsing costs seconds per model, holding all 100 GENEB tasks
#: whole would cost gigabytes. Override with GENEB_TASK_CACHE_BASES.
TASK_CACHE_BASES = int(os.environ.get("GENEB_TASK_CACHE_BASES", 1 << 30))


@dataclass(frozen=True)
class PairResult:
    """What happened to one (model, task) pair."""

    model: str
    task: str
    status: str  # "embedded", "resumed", "skipped" (complete under the same key), "locked"
    rows: int = 0  # rows embedded in this run
    tokens: int = 0
    seconds: float = 0.0

    @property
    def seq_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0


@dataclass
class EmbedSummary:
    """The result of `embed`: one entry per (model, task) pair, in run order."""

    pairs: list[PairResult] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for p in self.pairs:
            out[p.status] = out.get(p.status, 0) + 1
        return out

    def __str__(self) -> str:
        c = ", ".join(f"{v} {k}" for k, v in sorted(self.counts().items())) or "nothing to do"
        rows = sum(p.rows for p in self.pairs)
        secs = sum(p.seconds for p in self.pairs)
        return f"{len(self.pairs)} pair(s): {c}; {rows} rows embedded in {secs:.1f}s"


# -- devices ------------------------------------------------------------------------------
def resolve_device(device: str) -> str:
    """`auto` -> `cuda` when a GPU is usable, else `cpu`; validates `cuda[:N]`."""
    if device == "auto":
        try:
            import torch

            return "cuda" if torch.cuda.is_available() else "cpu"
        except ImportError:
            return "cpu"
    if device == "cpu":
        return device
    if device == "cuda" or (device.startswith("cuda:") and device[5:].isdigit()):
        try:
            import torch
        except ImportError:
            raise ExtractError(f"device {device!r} needs torch: pip install 'geneb[extract]'") from None
        if not torch.cuda.is_available():
            raise ExtractError(f"device {device!r} requested but CUDA is not available here")
        if ":" in device and int(device[5:]) >= torch.cuda.device_count():
            raise ExtractError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here")
        return device
    raise ExtractError(f"unknown device {device!r}; use auto, cpu, cuda or cuda:N")


def default_token_budget(device: str) -> int:
    return DEFAULT_TOKEN_BUDGET["cuda" if device.startswith("cuda") else "cpu"]


# -- the block loop -------------------------------------------------------------------------
@dataclass
class _Budget:
    tokens: int
    oom_halvings: int = 0


def _is_oom(exc: BaseException) -> bool:
    return type(exc).__name__ == "OutOfMemoryError" or "CUDA out of memory" in str(exc)


def _embed_retry(adapter: Adapter, batch: list[Any], budget: _Budget) -> np.ndarray:
    """Embed a batch; on CUDA out-of-memory halve it (and the budget) and retry."""
    try:
        return adapter.embed(batch)
    except RuntimeError as exc:
        if not _is_oom(exc) or len(batch) == 1:
            raise
    import torch

    torch.cuda.empty_cache()
    budget.tokens = max(1, budget.tokens // 2)
    budget.oom_halvings += 1
    log.warning("CUDA out of memory on a batch of %d; halving (token budget now %d)", len(batch), budget.tokens)
    half = len(batch) // 2
    return np.concatenate([_embed_retry(adapter, batch[:half], budget), _embed_retry(adapter, batch[half:], budget)])


def _prepare(adapter: Adapter, pieces: list[Piece], where: str, row0: int) -> list[Any]:
    out = []
    for p in pieces:
        try:
            out.append(adapter.prepare(p.seq))
        except UnsupportedSequenceError as exc:
            raise UnsupportedSequenceError(f"{where}: row {row0 + p.row}: {exc}") from None
    return out


def embed_rows(
    adapter: Adapter,
    sequences: Sequence[str],
    budget: _Budget | int,
    prepared: list[Any] | None = None,
    pieces: list[Piece] | None = None,
    on_batch: Any = None,
) -> tuple[np.ndarray, int]:
    """Vectors for `sequences` in their given order (float32, (n, dim)) and the token count.

    Batches are planned on length-sorted pieces; each row is the mean of its pieces (one
    piece without windows or reverse complement, so the vector is exactly the model's).
    """
    b = budget if isinstance(budget, _Budget) else _Budget(int(budget))
    o = adapter.options
    if pieces is None:
        pieces = pieces_for(sequences, o.window, o.stride, o.reverse_complement)
    if prepared is None:
        prepared = [adapter.prepare(p.seq) for p in pieces]
    n_tok = [adapter.n_tokens(p) for p in prepared]
    sums: np.ndarray | None = None
    counts = np.zeros(len(sequences), dtype=np.int64)
    for idx in adapter.plan_batches(n_tok, b.tokens, MAX_BATCH):
        vecs = _embed_retry(adapter, [prepared[i] for i in idx], b)
        if sums is None:
            sums = np.zeros((len(sequences), vecs.shape[1]), dtype=np.float64)
        rows = np.fromiter((pieces[i].row for i in idx), dtype=np.int64, count=len(idx))
        np.add.at(sums, rows, vecs.astype(np.float64))
        np.add.at(counts, rows, 1)
        if on_batch is not None:
            on_batch(len(idx), int(sum(n_tok[i] for i in idx)))
    if sums is None:
        return np.zeros((0, adapter.dim_ or 0), dtype=np.float32), 0
    return (sums / counts[:, None]).astype(np.float32), int(sum(n_tok))


# -- store helpers --------------------------------------------------------------------------
_STORE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+\-]*$")


def store_model_id(spec: ModelSpec) -> str:
    """The model's name in the store: its id, or for `path:DIR` the directory's name (for
    `harness:PATH.py:CLASS` the class name) made safe as a path segment (two directories of the
    same name are told apart by the cache key)."""
    if _STORE_ID.match(spec.model_id):
        return spec.model_id
    if spec.family == "harness":  # harness:PATH.py:CLASS -> the class name
        name = spec.extractor.rpartition(":")[2]
    else:
        name = Path(spec.weights or spec.model_id.removeprefix("path:")).name
    safe = re.sub(r"[^A-Za-z0-9._+\-]", "_", name).lstrip("._") or "model"
    return safe[:200]


def _open_store(store: Any) -> Any:
    if isinstance(store, str | Path):
        from ..store import open_store

        return open_store(str(store), mode="a")
    return store


def _store_errors() -> tuple[type[BaseException], type[BaseException]]:
    try:
        from ..store import CacheKeyMismatch, LockBusy

        return CacheKeyMismatch, LockBusy
    except ImportError:  # pragma: no cover - the store package is part of geneb
        return ExtractError, TimeoutError


def _peak_memory(device: str) -> tuple[int, str]:
    if device.startswith("cuda"):
        import torch

        return int(torch.cuda.max_memory_allocated(device)), "cuda-max-allocated"
    try:
        import resource

        return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024, "process-max-rss"
    except ImportError:  # pragma: no cover - non-POSIX
        return 0, "unknown"


def _versions() -> dict[str, str]:
    from .. import __version__

    out = {"geneb": __version__, "python": platform.python_version(), "numpy": np.__version__}
    for mod in ("torch", "transformers", "tokenizers"):
        m = sys.modules.get(mod)
        if m is not None:
            out[mod] = getattr(m, "__version__", "?")
    return out


def _n_params(adapter: Adapter) -> int | None:
    model = adapter.model_
    if model is None or not hasattr(model, "parameters"):
        return None
    return int(sum(p.numel() for p in model.parameters()))


# -- one pair ---------------------------------------------------------------------------------
def _inputs(adapter: Adapter, task: TaskData, split: str) -> tuple[str, ...]:
    """What the adapter embeds: normalised sequences, or the file's text for adapters that
    take it as the GENEB harness gives it."""
    sp = task.split(split)
    return sp.raw_sequences if adapter.takes_raw_text else sp.sequences


def audit_pair(adapter: Adapter, task: TaskData, strict: bool = False) -> TokenAudit:
    """Validate every split (characters the tokenizer raises on are refused) and count the
    bases the tokenizer cannot represent; warn once per pair, or refuse when `strict`."""
    total = TokenAudit()
    for split in SPLITS:
        where = f"task {task.task_id!r} ({task.source}) split {split!r}"
        seqs = _inputs(adapter, task, split)
        adapter.validate(seqs, where)
        total.add(adapter.audit(seqs, where))
    if total.affected_bases:
        what = ", ".join(f"{c!r} {v}" for c, v in sorted(total.characters.items()))
        if strict:
            raise UnsupportedSequenceError(
                f"{total.describe_first()} of model {adapter.spec.model_id!r} ({what}; "
                f"{total.affected_bases} base(s) in {total.sequences_affected} sequence(s)); "
                "without --strict-tokens they are embedded as the authors' tokenizer does"
            )
        log.warning(
            "%s x %s: %s base(s) in %s of %s sequence(s) are not represented by the tokenizer (%s): "
            "%s unknown-token, %s dropped (--strict-tokens refuses such tasks)",
            adapter.spec.model_id, task.task_id, f"{total.affected_bases:,}", f"{total.sequences_affected:,}",
            f"{total.sequences:,}", what, f"{total.unknown_bases:,}", f"{total.dropped_bases:,}",
        )
    return total


@dataclass(frozen=True, kw_only=True)
class PairSettings:
    """How a pair is run, beyond what changes its vectors (`ExtractOptions`): the token
    budget per batch, `overwrite` (replace a pair stored under another cache key), the
    progress bar, the resume unit of a new pair (`block_rows`), `strict_tokens` (refuse a
    pair with bases the tokenizer cannot see) and `repair` (verify stored pairs, re-embed
    damaged ones). One value travels from `embed`, `embed_all` and the Dask units to
    `run_pair`."""

    token_budget: int | None = None
    overwrite: bool = False
    progress: bool = True
    block_rows: int | None = None
    strict_tokens: bool = False
    repair: bool = False


def run_pair(store: Any, adapter: Adapter, task: TaskData, settings: PairSettings | None = None) -> PairResult:
    """Embed one (model, task) pair into an open store, resuming what is already there.

    `settings.repair` verifies a stored pair first (every stored byte read once) and re-embeds it
    when it is damaged, or when its metadata is unreadable, instead of skipping it.

    Bases the model's tokenizer maps to its unknown token or drops are counted, warned
    about once and recorded in the provenance (`tokenization`); `settings.strict_tokens` refuses
    the pair instead, naming the first such row.

    `settings.block_rows` sets the resume unit of a new pair (default `DEFAULT_BLOCK_ROWS`); batches
    are planned within a block, so a resumed pair reuses the stored blocking."""
    ps = settings or PairSettings()
    spec = adapter.spec
    mid, tid = store_model_id(spec), task.task_id
    mismatch_error, lock_busy = _store_errors()
    key = build_cache_key(spec, adapter, tid, task.content_hash, task.raw_hash)
    try:
        status, old = _stored_state(store, mid, tid, ps.repair)
    except lock_busy:  # repair found damage, but another writer holds the pair
        log.warning("%s x %s is being written by another process; not repairing it now", mid, tid)
        return PairResult(mid, tid, "locked")
    if old == key and status == "complete":  # --overwrite replaces only a different key
        return PairResult(mid, tid, "skipped")
    adapter.load()
    key = build_cache_key(spec, adapter, tid, task.content_hash, task.raw_hash)  # revision resolved by loading
    if not ps.overwrite and old is not None and old != key:
        raise mismatch_error(
            f"store already holds {mid!r} x {tid!r} under another cache key ("
            + "; ".join(key_diff(old, key))
            + "); pass overwrite=True (--overwrite) to replace it, or use another store"
        )
    if old == key and status == "complete":
        return PairResult(mid, tid, "skipped")
    tokens = audit_pair(adapter, task, ps.strict_tokens)
    if adapter.dim_ is None:
        raise ExtractError(f"model {mid!r}: embedding dimension unknown after loading")
    device = adapter.device
    budget = _Budget(ps.token_budget or default_token_budget(device))
    try:
        writer = store.open_writer(
            mid, tid, cache_key=key,
            n_rows={s: len(task.split(s)) for s in SPLITS}, dim=int(adapter.dim_),
            labels={s: task.split(s).labels for s in SPLITS}, dtype=adapter.options.dtype,
            overwrite=ps.overwrite, lock_timeout=0.0, block_rows=adapter.block_rows(ps.block_rows or DEFAULT_BLOCK_ROWS),
        )
    except lock_busy:
        log.warning("%s x %s is being written by another process; skipping it", mid, tid)
        return PairResult(mid, tid, "locked")
    if device.startswith("cuda"):
        import torch

        torch.cuda.reset_peak_memory_stats(device)
    started = datetime.now(UTC)
    t0 = time.perf_counter()
    rows_done = tokens_done = 0
    with writer:
        work = [(s, blk) for s in SPLITS for blk in writer.pending_blocks(s)]
        resumed = status == "partial" and old == key
        o = adapter.options
        plans = []
        for split, blk in work:
            seqs = _inputs(adapter, task, split)[blk.start : blk.stop]
            plans.append((split, blk, seqs, pieces_for(seqs, o.window, o.stride, o.reverse_complement)))
        total = sum(len(p[3]) for p in plans)
        bar = _progress_bar(total, f"{mid} | {tid}", ps.progress)
        tok_seen = 0

        def on_batch(n: int, toks: int) -> None:
            nonlocal tok_seen
            tok_seen += toks
            bar.update(n)
            el = time.perf_counter() - t0
            if el > 0:
                bar.set_postfix_str(f"{bar.n / el:,.0f} seq/s, {tok_seen / el:,.0f} tok/s", refresh=False)

        with ThreadPoolExecutor(1, thread_name_prefix="geneb-tok") as tok_pool, \
                ThreadPoolExecutor(1, thread_name_prefix="geneb-write") as write_pool:
            where = f"task {tid!r} ({task.source})"

            def submit_prepare(i: int) -> Future:
                split, blk, _, pieces = plans[i]
                return tok_pool.submit(_prepare, adapter, pieces, f"{where} split {split!r}", blk.start)

            writes: list[Future] = []
            nxt = submit_prepare(0) if plans else None
            try:
                for i, (split, blk, seqs, pieces) in enumerate(plans):
                    prepared = nxt.result()
                    nxt = submit_prepare(i + 1) if i + 1 < len(plans) else None
                    X, toks = embed_rows(adapter, seqs, budget, prepared, pieces, on_batch)
                    for f in [f for f in writes if f.done()]:
                        f.result()  # surface a write error early
                    writes.append(write_pool.submit(writer.write_block, split, blk.start, X))
                    rows_done += len(seqs)
                    tokens_done += toks
                for f in writes:
                    f.result()
            finally:
                bar.close()
                if nxt is not None:
                    nxt.cancel()
        seconds = time.perf_counter() - t0
        peak, peak_kind = _peak_memory(device)
        desc = adapter.describe()
        writer.finish(provenance={
            "extractor_version": EXTRACTOR_VERSION,
            "versions": _versions(),
            "host": platform.node(),
            "device": device,
            "device_name": _device_name(device),
            "started": started.isoformat(),
            "finished": datetime.now(UTC).isoformat(),
            "resumed": resumed,
            "rows_embedded": rows_done,
            "tokens": tokens_done,
            "seconds": round(seconds, 3),
            "seq_per_s": round(rows_done / seconds, 2) if seconds > 0 else None,
            "tokens_per_s": round(tokens_done / seconds, 2) if seconds > 0 else None,
            "peak_memory_bytes": peak,
            "peak_memory_kind": peak_kind,
            "token_budget": budget.tokens,
            "oom_halvings": budget.oom_halvings,
            "n_params": _n_params(adapter),
            "threads": _threads(),
            "adapter": {k: v for k, v in desc.items() if _jsonable(v)},
            "options": adapter.options.to_dict(),
            "tokenization": tokens.to_dict(),
        })
    return PairResult(mid, tid, "resumed" if resumed else "embedded", rows_done, tokens_done, seconds)


def _threads() -> dict[str, Any]:
    torch = sys.modules.get("torch")
    return {
        "torch": torch.get_num_threads() if torch is not None else None,
        "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS"),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }


def _jsonable(v: Any) -> bool:
    return isinstance(v, str | int | float | bool | type(None) | dict | list)


def _device_name(device: str) -> str:
    if device.startswith("cuda"):
        import torch

        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


def _progress_bar(total: int, desc: str, enabled: bool) -> Any:
    from .._progress import progress_bar

    return progress_bar(total, desc, "seq", enabled, leave=False)


# -- public entry points ----------------------------------------------------------------------
def _specs(models: Iterable[str | ModelSpec]) -> list[ModelSpec]:
    out = []
    for m in models:
        out.append(m if isinstance(m, ModelSpec) else get_model(m))
    if not out:
        raise ExtractError("no models given")
    return out


def _stored_state(store: Any, mid: str, tid: str, repair: bool) -> tuple[str, dict | None]:
    """(status, cache key) of the stored pair; with `repair`, a damaged pair is dropped
    first (and reported as missing, so it is embedded again)."""
    from geneb.store import StoreError

    try:
        status = store.status(mid, tid)
        old = store.cache_key(mid, tid) if status != "missing" else None
        problems = store.verify(model=mid, task=tid) if repair and status != "missing" else []
    except StoreError as exc:
        if not repair:
            raise
        problems = [exc]
    if not problems:
        return status, old
    more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
    log.warning("%s x %s is damaged (%s%s): dropping it and embedding it again", mid, tid, problems[0], more)
    store.discard_damaged(mid, tid)
    return "missing", None


def embed(
    models: Iterable[str | ModelSpec],
    tasks: Iterable[str],
    store: Any,
    data_dir: str | Path | None = None,
    device: str = "auto",
    options: ExtractOptions | None = None,
    token_budget: int | None = None,
    overwrite: bool = False,
    progress: bool = True,
    block_rows: int | None = None,
    strict_tokens: bool = False,
    repair: bool = False,
) -> EmbedSummary:
    """Embed every (model, task) pair into `store` (a path/URL or an open store).

    Checks everything it can before writing: model ids, installed extras, device, task
    files. Pairs already complete under the same cache key are skipped; partial ones resume.
    `repair` verifies stored pairs and re-embeds the damaged ones.
    """
    options = options or ExtractOptions()
    specs = _specs(models)
    task_ids = list(dict.fromkeys(tasks))
    if not task_ids:
        raise ExtractError("no tasks given")
    for spec in specs:  # fail at once on a missing extra, before any work
        adapter_class(spec.family).ensure_available(spec)
    dev = resolve_device(device)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise MissingFile(f"task data directory {data_dir} does not exist")
    data = _validate_tasks(task_ids, data_dir)  # every task file parses before any work
    st = _open_store(store)
    summary = EmbedSummary()
    settings = PairSettings(token_budget=token_budget, overwrite=overwrite, progress=progress, block_rows=block_rows,
                            strict_tokens=strict_tokens, repair=repair)
    for spec in specs:
        adapter = make_adapter(spec, options, dev)
        try:
            for t in task_ids:
                task = data[t] if t in data else load_task(t, data_dir)
                res = run_pair(st, adapter, task, settings)
                summary.pairs.append(res)
                log.info("%s x %s: %s (%d rows, %.1f seq/s)", res.model, res.task, res.status, res.rows, res.seq_per_s)
        finally:
            adapter.close()
    return summary


def _validate_tasks(task_ids: list[str], data_dir: str | Path | None) -> dict[str, TaskData]:
    """Parse (and so validate) every task; keep the first ones up to TASK_CACHE_BASES of
    sequence in memory, drop the rest (they are re-read when their turn comes)."""
    kept: dict[str, TaskData] = {}
    held = 0
    for t in task_ids:
        task = load_task(t, data_dir)
        bases = int(task.train.lengths.sum() + task.test.lengths.sum())
        if held + bases <= TASK_CACHE_BASES:
            kept[t] = task
            held += bases
    return kept


def embed_pair(
    store_url: str | Path,
    model_id: str,
    task_id: str,
    data_dir: str | Path | None = None,
    *,
    progress: bool = False,
    **settings: Any,
) -> PairResult:
    """One self-contained unit of work (for a distributed scheduler): opens the store,
    takes the pair's lock, resumes, writes and finishes. `settings` are the keyword
    arguments of `embed` (device, options, token_budget, overwrite, block_rows,
    strict_tokens, repair), checked the same way before any work."""
    return embed([model_id], [task_id], store_url, data_dir, progress=progress, **settings).pairs[0]


def embed_task(
    store: Any,
    adapter: Adapter,
    task_id: str,
    data_dir: str | Path | None = None,
    settings: PairSettings | None = None,
    *,
    lock_wait: float = 0.0,
    poll_seconds: float = 2.0,
) -> PairResult:
    """The body of one Dask unit (which keeps the adapter loaded between units): load the
    task, open the store, run the pair (as `embed` does for each of its pairs). A pair
    locked by another writer is waited for up to `lock_wait` seconds; the result then says
    "locked" if it still is."""
    task = load_task(task_id, data_dir)
    st = _open_store(store)
    deadline = time.monotonic() + lock_wait
    while True:
        res = run_pair(st, adapter, task, settings or PairSettings(progress=False))
        if res.status != "locked" or time.monotonic() >= deadline:
            return res
        time.sleep(poll_seconds)
