"""The adapter interface every model family implements, and the options that change vectors.

An adapter turns DNA strings into pooled float32 vectors for one model. The runner owns
batching, ordering, resuming and storage; an adapter owns only tokenisation and the forward
pass, so a family is a small module (see `geneb/extract/adapters/__init__.py`).
"""

from __future__ import annotations

import abc
import dataclasses
import importlib.util
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from ...catalog import POOLINGS, ModelSpec
from ...errors import UserError

STORAGE_DTYPES = ("float16", "float32")
COMPUTE_DTYPES = ("auto", "float32", "bfloat16", "float16")


class ExtractError(UserError, ValueError):
    """A user-caused extraction problem (bad option, bad sequence, bad model directory)."""


class MissingExtraError(UserError, ImportError):
    """A family's optional package is not installed; the message names the pip extra."""


class UnsupportedSequenceError(ExtractError):
    """A sequence the model's tokenizer cannot represent (the message names task and row)."""


@dataclass
class TokenAudit:
    """What a model's tokenizer does with the characters of a set of sequences.

    geneb-v1 passes every sequence through the model's own tokenizer, as the GENEB reference
    extractors and the authors' recipes do: a base the vocabulary lacks (N for most BPE and
    k-mer vocabularies) becomes the tokenizer's unknown token, or is silently dropped by
    tokenizers that have no unknown token (GPT2-Gene's BPE). The audit counts both so the
    provenance says how much of a task a model could not see."""

    characters: dict[str, str] = dataclasses.field(default_factory=dict)  # char -> "unknown" | "dropped"
    unknown_bases: int = 0
    dropped_bases: int = 0
    sequences_affected: int = 0
    sequences: int = 0
    first: tuple[str, int, int, str] | None = None  # (where, row, 1-based position, char)

    @property
    def affected_bases(self) -> int:
        return self.unknown_bases + self.dropped_bases

    def add(self, other: TokenAudit) -> TokenAudit:
        self.characters.update(other.characters)
        self.unknown_bases += other.unknown_bases
        self.dropped_bases += other.dropped_bases
        self.sequences_affected += other.sequences_affected
        self.sequences += other.sequences
        self.first = self.first or other.first
        return self

    def to_dict(self) -> dict[str, Any]:
        return {
            "unknown_bases": self.unknown_bases, "dropped_bases": self.dropped_bases,
            "sequences_affected": self.sequences_affected, "sequences": self.sequences,
            "characters": dict(sorted(self.characters.items())),
        }

    def describe_first(self) -> str:
        if self.first is None:
            return ""
        where, row, pos, ch = self.first
        what = "dropped by" if self.characters.get(ch) == "dropped" else "unknown to"
        return f"{where}: row {row}: character {ch!r} at position {pos} is {what} the tokenizer"


def count_characters(sequences: Any, bad: dict[str, str], where: str) -> TokenAudit:
    """A `TokenAudit` of `sequences` given the per-character verdicts `bad`."""
    audit = TokenAudit(characters=dict(bad), sequences=len(sequences))
    if not bad:
        return audit
    unknown = [c for c, v in bad.items() if v == "unknown"]
    dropped = [c for c, v in bad.items() if v == "dropped"]
    for i, s in enumerate(sequences):
        u = sum(s.count(c) for c in unknown)
        d = sum(s.count(c) for c in dropped)
        if u or d:
            audit.unknown_bases += u
            audit.dropped_bases += d
            audit.sequences_affected += 1
            if audit.first is None:
                pos = min(s.index(c) for c in bad if c in s)
                audit.first = (where, i, pos + 1, s[pos])
    return audit


@dataclass(frozen=True)
class ExtractOptions:
    """Everything beyond the catalog spec that changes a vector; all of it enters the cache key.

    `None` means "the spec's value". Windows and strides are in bases; with `window` set, a
    longer sequence is embedded as overlapping windows whose vectors are averaged instead of
    being truncated.
    """

    layer: int | None = None  # None = the spec's layer (-1 = final hidden layer)
    pooling: str | None = None  # None = the spec's pooling
    max_length: int | None = None  # None = the spec's max length (in the spec's unit)
    window: int | None = None  # sliding windows over long sequences, in bases (None = truncate)
    stride: int | None = None  # window step in bases (None = window, i.e. no overlap)
    reverse_complement: bool = False  # average with the reverse complement
    dtype: str = "float32"  # storage dtype: float32 keeps the probe's input as computed (geneb-v1)
    compute_dtype: str = "auto"  # auto = bf16 autocast on CUDA, float32 on CPU

    def __post_init__(self) -> None:
        if self.pooling is not None and self.pooling not in POOLINGS - {"none"}:
            raise ExtractError(f"unknown pooling {self.pooling!r}; known: {sorted(POOLINGS - {'none'})}")
        if self.dtype not in STORAGE_DTYPES:
            raise ExtractError(f"storage dtype must be one of {STORAGE_DTYPES}, got {self.dtype!r}")
        if self.compute_dtype not in COMPUTE_DTYPES:
            raise ExtractError(f"compute dtype must be one of {COMPUTE_DTYPES}, got {self.compute_dtype!r}")
        for name in ("max_length", "window", "stride"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v <= 0):
                raise ExtractError(f"{name} must be a positive integer, got {v!r}")
        if self.stride is not None and self.window is None:
            raise ExtractError("stride needs window (sliding windows are off without --window)")
        if self.stride is not None and self.window is not None and self.stride > self.window:
            raise ExtractError(f"stride ({self.stride}) larger than window ({self.window}) would skip bases")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


#: What a `Problem` can be about: a pip extra, the GPU, the weights, upstream code, the config.
PROBLEM_KINDS = frozenset({"package", "gpu", "weights", "code", "config"})


@dataclass(frozen=True)
class Problem:
    """One reason a model cannot run here; the message says what to do about it. `kind`:
    one of `PROBLEM_KINDS`."""

    kind: str
    message: str


def missing_modules(modules: tuple[str, ...]) -> list[str]:
    """Modules among `modules` that cannot be imported here (checked without importing)."""
    out = []
    for mod in modules:
        try:
            if importlib.util.find_spec(mod) is None:
                out.append(mod)
        except (ImportError, ValueError):
            out.append(mod)
    return out


def cuda_available() -> bool:
    """True when torch is installed and sees a CUDA device (imports torch only if present)."""
    if missing_modules(("torch",)):
        return False
    import torch

    return bool(torch.cuda.is_available())


class Adapter(abc.ABC):
    """One model family's tokenisation and forward pass.

    Lifecycle: `check` (cheap, class-level: what stops the model running here) ->
    `__init__` (stores parameters)
    -> `describe()` (works before `load`, used for the cache key) -> `load()` (returns
    self; sets `model_`, `tokenizer_`, `dim_`; families implement `_load`) -> `prepare()`
    per sequence (may run in a worker thread) -> `embed()` per batch.
    """

    family: ClassVar[str]
    requires: ClassVar[tuple[str, ...]] = ("torch", "transformers")  # importable modules
    extra: ClassVar[str] = "extract"  # pip extra that installs them
    neural: ClassVar[bool] = True  # False: vectors do not depend on device or compute dtype
    #: Names of the `geneb.extract.compat` differences this family may apply; those active
    #: on the installed transformers enter `describe()` and so the cache key.
    differences: ClassVar[tuple[str, ...]] = ()
    #: True: the runner hands `prepare` each row's text as the task file holds it (the GENEB
    #: harness passes CSV text verbatim) instead of the normalised sequence.
    takes_raw_text: ClassVar[bool] = False
    #: Set for a family whose model exposes only its last layer: what it exposes, as a
    #: sentence start ("DNA-GPT exposes its final-norm output"); any other layer is refused.
    final_layer_only: ClassVar[str | None] = None
    #: True: the model's kernels have no CPU path (a CUDA GPU is required to run it).
    needs_cuda: ClassVar[bool] = False
    #: Version of this family's own numerics (tokenisation, forward, pooling choices): bump
    #: it when a change to the family's code changes its vectors, so that only its pairs get
    #: a new cache key and are re-embedded (version 1 adds nothing to the key).
    numerics: ClassVar[int] = 1
    #: True: the config's width is not the output width for every checkpoint (RC-equivariant
    #: Caduceus returns 2 x d_model): `load()` measures `dim_` with one tiny forward pass.
    measure_width: ClassVar[bool] = False
    #: Modules of ``requires`` that no pip extra installs (pinned by hand: ``install_hint``).
    hand_installed: ClassVar[tuple[str, ...]] = ()
    install_hint: ClassVar[str] = ""
    #: Kinds of `check` problems that stop a run before any work. Hub weights are fetched
    #: while loading, so by default only packages and the GPU; a family whose weights or
    #: code must already be on this machine adds "weights" / "code".
    blocking: ClassVar[frozenset[str]] = frozenset({"package", "gpu"})

    def __init__(self, spec: ModelSpec, options: ExtractOptions, device: str) -> None:
        self.spec = spec
        self.options = options
        self.device = device
        # set by load(), as scikit-learn names learned state: the model, its tokenizer, and
        # the output width (the catalog's declared width until load() reads the model's)
        self.model_: Any = None
        self.tokenizer_: Any = None
        self.dim_: int | None = spec.embedding_dim
        if self.final_layer_only and self.layer != -1:
            raise ExtractError(f"model {spec.model_id!r}: {self.final_layer_only} only (layer -1)")

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "load" in vars(cls):
            raise TypeError(f"{cls.__module__}.{cls.__qualname__} overrides load(): implement _load() instead "
                            "(load() is the base's: it calls _load() and returns the adapter)")

    # -- availability -------------------------------------------------------------------
    @classmethod
    def check(cls, spec: ModelSpec) -> list[Problem]:
        """Every reason `spec` cannot run here, found without loading weights ([] = it can):
        the declared packages (naming the extra) and CUDA need; a family whose weights or
        code must be found first extends the list (``super().check(spec)`` first)."""
        modules, cuda = cls.requirements(spec)
        missing = missing_modules(modules)
        if missing:
            return [Problem("package", cls.install_message(missing) + ("; runs on a CUDA GPU only" if cuda else ""))]
        if cuda and not cuda_available():
            return [Problem("gpu", f"family {spec.family!r} needs a CUDA GPU (its kernels have no CPU path)")]
        return []

    @classmethod
    def install_message(cls, missing: list[str]) -> str:
        """What to install for `missing` modules: the pip extra, then (for modules declared
        in ``hand_installed``, which no extra can pin) the family's ``install_hint``."""
        by_hand = [m for m in missing if m in cls.hand_installed]
        if not by_hand:
            return f"needs {', '.join(missing)}: pip install 'geneb[{cls.extra}]'"
        if len(by_hand) < len(missing):
            return f"needs {', '.join(missing)}: pip install 'geneb[{cls.extra}]', then {cls.install_hint}"
        return f"needs {', '.join(missing)}: {cls.install_hint}"

    @classmethod
    def source(cls, spec: ModelSpec) -> str:
        """Where a model that passes `check` comes from (what `geneb models --check` says)."""
        return "ok"

    @classmethod
    def check_available(cls, spec: ModelSpec) -> tuple[bool, str]:
        """(can run here, why): `check`'s problems joined, or `source` when there are none."""
        problems = cls.check(spec)
        if problems:
            return False, "; ".join(p.message for p in problems)
        return True, cls.source(spec)

    @classmethod
    def ensure_available(cls, spec: ModelSpec) -> None:
        """Raise at once, before any work, for the problems of `check` whose kind is in
        ``blocking``: `MissingExtraError` for a package or the GPU, else `ExtractError`."""
        problems = [p for p in cls.check(spec) if p.kind in cls.blocking]
        need = [p for p in problems if p.kind in ("package", "gpu")]
        if need:
            raise MissingExtraError(f"model {spec.model_id!r} (family {cls.family!r}): {need[0].message}")
        if problems:
            raise ExtractError("; ".join(p.message for p in problems))

    @classmethod
    def requirements(cls, spec: ModelSpec) -> tuple[tuple[str, ...], bool]:
        """(modules, needs CUDA) for this model: the declared ``requires`` and ``needs_cuda``
        (a family whose checkpoints differ, e.g. Evo with or without attention blocks,
        derives them from the spec)."""
        return cls.requires, cls.needs_cuda

    @classmethod
    def declaration(cls) -> dict[str, Any]:
        """The family's declared facts as one record of data (what `geneb families` prints):
        packages, the extra and any by-hand install, the problem kinds checked before a run,
        the CUDA need, whether vectors depend on device and compute dtype, its numerics
        version, how its forward differs (width measured, attention mask, raw-text input,
        final layer only), and its named differences from upstream, each with its stage,
        the transformers versions it applies to and whether it is active here."""
        from .. import compat

        diffs = []
        for name in cls.differences:
            d = compat.difference(name)
            diffs.append({"name": d.name, "stage": d.stage, "transformers": d.transformers or "any",
                          "active": d.applies(), "upstream": d.upstream})
        return {"family": cls.family, "class": f"{cls.__module__}.{cls.__qualname__}", "requires": list(cls.requires),
                "extra": cls.extra, "hand_installed": list(cls.hand_installed), "install_hint": cls.install_hint,
                "blocking": sorted(cls.blocking), "needs_cuda": cls.needs_cuda, "neural": cls.neural,
                "numerics": cls.numerics, "measure_width": cls.measure_width,
                "takes_attention_mask": getattr(cls, "takes_attention_mask", None),  # HF families only
                "takes_raw_text": cls.takes_raw_text, "final_layer_only": cls.final_layer_only, "differences": diffs}

    # -- resolved per-model semantics ---------------------------------------------------
    @property
    def layer(self) -> int:
        return self.spec.layer if self.options.layer is None else self.options.layer

    @property
    def pooling(self) -> str:
        return self.options.pooling or self.spec.pooling

    @property
    def max_length(self) -> int | None:
        """Length limit in the spec's unit (`spec.length_unit`); None = the model's own limit."""
        return self.options.max_length or self.spec.max_length

    # -- the work ------------------------------------------------------------------------
    def load(self) -> Adapter:
        """Load tokenizer and weights onto `self.device` (sets `model_`, `tokenizer_` and
        `dim_`); returns self, so ``make_adapter(spec, options, device).load()`` reads."""
        fresh = self.model_ is None
        self._load()
        if self.measure_width and fresh:  # once per loaded model (the runner calls load() per pair)
            self.dim_ = self._measured_width()
        return self

    def _measured_width(self, probe: str = "ACGTACGTACGTACGT") -> int:
        """The output width from one tiny forward pass; warns when the catalog disagrees."""
        import logging

        width = int(self.embed([self.prepare(probe)]).shape[1])
        want = self.spec.embedding_dim
        if want and want != width:
            logging.getLogger(__name__).warning("%s: model returns %d features, the catalog says %d",
                                                self.spec.model_id, width, want)
        return width

    @abc.abstractmethod
    def _load(self) -> None:
        """The family's loading: tokenizer and weights onto `self.device`; sets `self.dim_`."""

    def validate(self, sequences: tuple[str, ...] | list[str], where: str) -> None:
        """Raise `UnsupportedSequenceError` naming `where` and the row if a sequence cannot be
        taken. Called on a whole task before anything is written; default accepts all."""
        return None

    def audit(self, sequences: tuple[str, ...] | list[str], where: str) -> TokenAudit:
        """Which characters of `sequences` the tokenizer maps to its unknown token or drops,
        and how many bases that is. Default: the family represents every base it accepts."""
        return TokenAudit(sequences=len(sequences))

    @abc.abstractmethod
    def prepare(self, seq: str) -> Any:
        """Tokenise one sequence, truncated to the model's limit (CPU, thread-safe)."""

    def n_tokens(self, prepared: Any) -> int:
        """Length of a prepared sequence in tokens, for token-budget batching (the length
        of the prepared sequence: a 1-D array of token ids, or the text for raw-text families)."""
        return len(prepared)

    @abc.abstractmethod
    def embed(self, batch: list[Any]) -> np.ndarray:
        """Pooled float32 vectors, shape (len(batch), dim); pads per batch."""

    @property
    def all_layers(self) -> bool:
        """Whether the forward must return every layer's states (`output_hidden_states`):
        only for a tap other than the last layer."""
        return self.layer != -1

    def tapped(self, out: Any, note: str = "") -> Any:
        """The configured layer's token states from a model output: `last_hidden_state` for
        the last layer (the last of `hidden_states` for a model without it), else
        `hidden_layer(out.hidden_states, note)`."""
        if self.layer == -1:
            last = getattr(out, "last_hidden_state", None)
            return last if last is not None else out.hidden_states[-1]
        return self.hidden_layer(out.hidden_states, note)

    def hidden_layer(self, hidden_states: Any, note: str = "") -> Any:
        """The configured layer's states from a model's `hidden_states` (the hidden-states
        convention: 0 = embeddings); an ExtractError naming the range when there is no such
        layer. `note` explains the range for the family (``{last}`` = the last index)."""
        try:
            return hidden_states[self.layer]
        except IndexError:
            last = len(hidden_states) - 1
            raise ExtractError(f"model {self.spec.model_id!r}: layer {self.layer} does not exist "
                               f"(hidden states 0..{last}{note.format(last=last)})") from None

    def plan_batches(self, n_tokens: list[int], token_budget: int, max_batch: int) -> list[np.ndarray]:
        """Index batches over one block's pieces. Default: longest first under the token
        budget; a family whose vectors depend on which rows share a call overrides it."""
        from ..batching import plan_batches

        return plan_batches(n_tokens, token_budget, max_batch)

    def block_rows(self, requested: int) -> int:
        """Store rows per block (the resume unit) for a new pair; `requested` is the
        runner's or the user's choice. Batches never cross a block."""
        return requested

    def describe(self) -> dict[str, Any]:
        """Identity of weights and tokenizer for the cache key and provenance. Must work
        before `load()`; after it may add facts (parameters, dim) that do not enter the key."""
        return {
            "weights": self.spec.weights,
            "revision": self.spec.revision,
            "tokenizer": f"{self.spec.weights}@{self.spec.revision}",
        }

    def close(self) -> None:
        """Free the model (the runner calls it when moving to the next model): the learned
        state goes; a later `load()` (or `embed`) loads it again."""
        self.model_ = None
        self.tokenizer_ = None
