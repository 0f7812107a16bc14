"""GENEB harness extractors as geneb models: any class with the official harness's interface.

The GENEB reference harness (`harness/run_GENEB.py` in the GENEB repository) builds an
extractor as `Class(name_model=..., device=...)` and calls
`extract_embeddings(sequences, batch_size)` on each split's CSV text, in file order, for an
`(n, dim)` array. This family runs such a class through geneb's runner (cached, resumable,
shardable on Dask) and gives it what the harness gives it:

- the text exactly as the task file holds it (geneb's other families embed the normalised
  sequence: upper case, U->T, IUPAC codes->N);
- the harness's batches: every call gets consecutive rows that start at a multiple of
  `batch_size` and number a multiple of it (blocks are sized to keep that), so an extractor
  that batches consecutive sequences, as the harness's example and contributed extractors
  do, computes exactly the batches of one call over the whole split. An extractor whose
  batches span rows otherwise (windows of several sequences packed together) matches the
  harness exactly with `call_rows = 0`: one call per split, resumable per split.

Model-file settings (`[id.config]`): `batch_size` (the harness's `--batch_size`, default 8)
and `call_rows` (rows per call, default 256 rounded up to a multiple of `batch_size`).
The extractor's module is imported as part of its folder's package, so relative imports
(`from .base import BaseEmbeddingExtractor`) work as in the harness; the folder's parent is
appended to `sys.path` as the harness puts `harness/` there. The cache key holds the file's
name, a hash of its source (and of the package modules it uses), `name_model`, the batch
settings and the device kind, never the absolute path, so shared folders on a cluster and a
colleague's copy resolve to the same vectors.
"""

from __future__ import annotations

import functools
import hashlib
import importlib
import importlib.util
import inspect
import math
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ...catalog.models import split_extractor
from .base import Adapter, ExtractError, MissingExtraError, Problem

DEFAULT_BATCH_SIZE = 8  # run_GENEB.py --batch_size default
DEFAULT_CALL_ROWS = 256
#: "one block per split" for call_rows = 0 (the store caps a block at the split's rows)
_WHOLE_SPLIT = 1 << 40
#: embedded once at load: learns the dimension and catches a wrong output shape before writing
_PROBE = ("ACGT" * 16, "ACGTN" * 8)


def _package_name(directory: Path) -> str:
    return "geneb_harness_" + hashlib.sha256(str(directory).encode()).hexdigest()[:12]


def _package(directory: Path) -> str:
    """The folder as an importable package (its `__init__.py` run if it has one)."""
    name = _package_name(directory)
    if name in sys.modules:
        return name
    init = directory / "__init__.py"
    if init.is_file():
        spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(directory)])
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    else:
        module = types.ModuleType(name)
        module.__path__ = [str(directory)]
        module.__package__ = name
        sys.modules[name] = module
    parent = str(directory.parent)
    if parent not in sys.path:  # run_GENEB.py puts harness/ on sys.path for `extractors.<module>`
        sys.path.append(parent)
    return name


def load_extractor_class(ref: str, model_id: str = "") -> type:
    """Import `path/to/module.py:ClassName`; a clear error for a missing file, a failing
    import, a missing package, or a class without `extract_embeddings`."""
    path, cls_name = split_extractor(ref)
    who = f"model {model_id!r}: " if model_id else ""
    if not path.is_file():
        raise ExtractError(f"{who}harness extractor {path}: no such file")
    try:
        pkg = _package(path.parent)
        module = importlib.import_module(f"{pkg}.{path.stem}")
    except ModuleNotFoundError as exc:
        if exc.name and not exc.name.startswith("geneb_harness_"):
            raise MissingExtraError(
                f"{who}harness extractor {path} needs the package {exc.name!r}, which is not installed here"
            ) from exc
        raise ExtractError(f"{who}harness extractor {path}: cannot import it ({exc})") from exc
    except Exception as exc:
        raise ExtractError(f"{who}harness extractor {path}: importing it failed: {type(exc).__name__}: {exc}") from exc
    cls = getattr(module, cls_name, None)
    if not inspect.isclass(cls):
        found = sorted(n for n, v in vars(module).items()
                       if inspect.isclass(v) and callable(getattr(v, "extract_embeddings", None)))
        raise ExtractError(f"{who}{path} defines no class {cls_name!r}; extractor classes there: {found or 'none'}")
    if not callable(getattr(cls, "extract_embeddings", None)):
        raise ExtractError(f"{who}{path}: {cls_name} has no extract_embeddings(sequences, batch_size) method")
    return cls


def source_files(cls: type) -> list[Path]:
    """The class's module and the modules of its package it uses (bases, imported helpers)."""
    module = sys.modules[cls.__module__]
    pkg = module.__name__.rpartition(".")[0]
    names = {module.__name__}
    names.update(c.__module__ for c in cls.__mro__)
    for v in vars(module).values():
        if isinstance(v, types.ModuleType):
            names.add(v.__name__)
        elif inspect.isclass(v) or inspect.isfunction(v):
            names.add(getattr(v, "__module__", "") or "")
    files = set()
    for n in names:
        m = sys.modules.get(n)
        f = getattr(m, "__file__", None)
        if f and (n == pkg or n.startswith(pkg + ".")):
            files.add(Path(f))
    return sorted(files)


@functools.cache
def source_hash(cls: type) -> str:
    """Read once per class, when first asked (right after its import): the key describes the
    code that runs in this process, and describe() before and after load reads no file."""
    h = hashlib.sha256()
    for f in source_files(cls):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _int_setting(spec_id: str, cfg: dict[str, Any], name: str, default: int, minimum: int) -> int:
    v = cfg.get(name, default)
    if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
        raise ExtractError(f"model {spec_id!r}: config.{name} must be an integer >= {minimum}, got {v!r}")
    return v


class HarnessAdapter(Adapter):
    family = "harness"
    requires: ClassVar[tuple[str, ...]] = ("numpy",)
    extra = "extract"
    neural = False  # the extractor chooses its own precision; the device kind enters the key
    takes_raw_text = True

    def __init__(self, spec, options, device):
        super().__init__(spec, options, device)
        given = [n for n in ("layer", "pooling", "max_length", "window") if getattr(options, n) is not None]
        given += ["reverse_complement"] * bool(options.reverse_complement)
        given += ["compute_dtype"] * (options.compute_dtype != "auto")
        if given:
            raise ExtractError(
                f"model {spec.model_id!r}: a harness extractor does its own tokenisation, truncation, "
                f"precision and pooling; {', '.join(given)} cannot be applied to it"
            )
        unknown = sorted(set(spec.config) - {"batch_size", "call_rows"})
        if unknown:
            raise ExtractError(f"model {spec.model_id!r}: unknown config key(s) {unknown}; known: batch_size, call_rows")
        self.batch_size = _int_setting(spec.model_id, spec.config, "batch_size", DEFAULT_BATCH_SIZE, 1)
        rows = _int_setting(spec.model_id, spec.config, "call_rows", DEFAULT_CALL_ROWS, 0)
        self.call_rows = math.ceil(rows / self.batch_size) * self.batch_size  # 0 stays 0: a whole split
        self.path, self.class_name = split_extractor(spec.extractor)
        self.extractor: Any = None
        self._cls: type | None = None

    @classmethod
    def check(cls, spec) -> list[Problem]:
        problems = super().check(spec)
        path = split_extractor(spec.extractor)[0]
        if not problems and not path.is_file():
            problems.append(Problem("code", f"harness extractor {path} not found"))
        return problems

    def extractor_class(self) -> type:
        if self._cls is None:
            self._cls = load_extractor_class(self.spec.extractor, self.spec.model_id)
        return self._cls

    def describe(self) -> dict[str, Any]:
        cls = self.extractor_class()
        return {
            "weights": self.spec.weights,
            "revision": self.spec.revision,
            "tokenizer": f"harness:{self.class_name}",
            "extractor": f"{self.path.name}:{self.class_name}",
            "source_sha256": source_hash(cls),
            "batch_size": self.batch_size,
            "call_rows": self.call_rows,
            "device_type": "cuda" if self.device.startswith("cuda") else self.device,
        }

    def _load(self) -> None:
        if self.extractor is not None:
            return
        cls = self.extractor_class()
        try:
            self.extractor = cls(name_model=self.spec.weights, device=self.device)
        except Exception as exc:
            raise ExtractError(
                f"model {self.spec.model_id!r}: {self.class_name}(name_model={self.spec.weights!r}, "
                f"device={self.device!r}) failed: {type(exc).__name__}: {exc}"
            ) from exc
        dim = int(self._call(list(_PROBE)).shape[1])
        self.dim_ = self.dim_ or dim

    def prepare(self, seq: str) -> str:
        return seq

    def plan_batches(self, n_tokens, token_budget, max_batch):
        n = len(n_tokens)
        step = self.call_rows or n
        return [np.arange(i, min(i + step, n)) for i in range(0, n, step)]

    def block_rows(self, requested: int) -> int:
        if self.call_rows == 0:
            return _WHOLE_SPLIT
        return math.lcm(requested, self.batch_size)  # every block starts at a multiple of batch_size

    def embed(self, batch: list[str]) -> np.ndarray:
        return self._call(batch)

    def _call(self, seqs: list[str]) -> np.ndarray:
        try:
            out = self.extractor.extract_embeddings(list(seqs), self.batch_size)
        except Exception as exc:
            if type(exc).__name__ == "OutOfMemoryError" or "out of memory" in str(exc):
                raise ExtractError(
                    f"model {self.spec.model_id!r}: {self.class_name} ran out of memory at batch_size "
                    f"{self.batch_size}; set a smaller config.batch_size in the model file"
                ) from exc
            raise
        if hasattr(out, "detach"):  # a torch tensor
            out = out.detach().float().cpu().numpy()
        arr = np.asarray(out)
        if arr.ndim != 2 or arr.shape[0] != len(seqs) or not np.issubdtype(arr.dtype, np.number):
            raise ExtractError(
                f"model {self.spec.model_id!r}: {self.class_name}.extract_embeddings returned "
                f"{type(out).__name__} of shape {getattr(arr, 'shape', '?')} and dtype {arr.dtype} for "
                f"{len(seqs)} sequences; expected a numeric array of shape ({len(seqs)}, dim)"
            )
        if self.dim_ is not None and arr.shape[1] != self.dim_:
            raise ExtractError(
                f"model {self.spec.model_id!r}: {self.class_name}.extract_embeddings returned {arr.shape[1]} "
                f"dimensions, earlier {self.dim_}"
            )
        return arr.astype(np.float32, copy=False)

    def close(self) -> None:
        self.extractor = None
        super().close()


ADAPTER = HarnessAdapter
