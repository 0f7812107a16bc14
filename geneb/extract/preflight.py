"""`geneb models --check --deep`: will each model's real code load and embed here?

For every chosen model with a Hugging Face hub layout, the deep check downloads only the
repository's config, tokenizer and code files at the pinned revision (never the weights),
shrinks the config to 2 layers of small width, builds a random-weight instance of the
class the checkpoint was saved from (`architectures` in config.json, resolved through
`auto_map` for remote code) and writes its weights next to the real files, then runs the
model's geneb adapter end to end on that directory: `make_adapter`, `load`, `validate`,
`audit`, `prepare` and `embed` on a few sequences with `N` and lower case. A minute on a
login node says which models would fail, before any GPU hours are spent.

The random weights are built from a separate copy of the directory, so the remote
modules, and whatever the build adds to their classes, are not the ones the adapter then
imports: the adapter loads the code as it would load the real checkpoint.

The download step is injectable (`download=`), so the check runs offline against a local
directory in the hub layout. Without hub access each hub model reports "needs hub
access". Families whose weights are not a transformers checkpoint on the hub, and the
built-in models, are reported as skipped with the reason.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fnmatch
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..catalog import ModelSpec
from ..errors import InvalidArgument, MissingFile

#: What is fetched from a hub repository: config, tokenizer and code files.
ALLOW_PATTERNS: tuple[str, ...] = (
    "*.json", "*.py", "*.txt", "*.model", "*.tiktoken", "*.vocab", "tokenizer*", "vocab*", "merges*",
)
#: Never fetched (weights, whatever the name), even where an allow pattern matches.
IGNORE_PATTERNS: tuple[str, ...] = (
    "*.safetensors", "*.bin", "*.pt", "*.pth", "*.ckpt", "*.h5", "*.msgpack", "*.onnx", "*.gguf",
    "*.npz", "*.npy", "*.tflite", "*.ot", "*.index.json", "*.pkl",
)

#: The sequences embedded: mixed lengths (not all multiples of 3 or 6), N, lower case.
SEQUENCES: tuple[str, ...] = (
    "ACGTACGTTGCAACGTACGTTGCAACGTACGT",
    "ACGTNNACGTTGCANACGTACG",
    "acgtacgtACGTACGTnnacgtAC",
    "GATTACAGATTACAGATTACAGATTACAGATTACAGATTACAG",
)

#: The shrunk size. Each field is lowered to this value, never raised.
LAYERS, WIDTH, FFN, HEADS = 2, 64, 128, 2
_LAYER_KEYS = ("num_hidden_layers", "n_layer", "n_layers", "num_layers")
_WIDTH_KEYS = ("hidden_size", "d_model", "n_embd")
_FFN_KEYS = ("intermediate_size", "n_inner", "d_inner", "ffn_dim", "mlp_hidden_size", "ffn_hidden_size", "d_ff")
_HEAD_KEYS = ("num_attention_heads", "n_head", "n_heads")
_KV_KEYS = ("num_key_value_heads", "n_kv_heads")

#: Families the check does not run, and why.
SKIP_FAMILIES: dict[str, str] = {
    "kmer": "built-in k-mer counts: no model code or files to check",
    "random-init": "built-in untrained network: nothing to download (geneb embed builds it as is)",
    "evo": "StripedHyena's config places each block by index (attn_layer_idxs, hyena_layer_idxs), "
           "which the generic 2-layer shrink does not rewrite",
    "enformer": "enformer-pytorch weights, not a transformers checkpoint",
    "lucaone": "model and tokenizer classes come from the lucaone package, not from hub files",
    "space": "model code is the authors' git checkout (GENEB_CODE_SPACE), not hub remote code",
    "dna-gpt": "weights are a .pth file from the authors' Google Drive, not a hub checkpoint",
    "janusdna": "weights are a Lightning checkpoint from Harvard Dataverse, not a hub checkpoint",
}

Download = Callable[[str, "str | None", Sequence[str], Sequence[str]], "str | Path"]

STATUSES = ("ok", "broken", "needs hub access", "unavailable", "skipped")


@dataclass
class DeepCheck:
    """One model's deep-check result. `status`: ok (loads and embeds), broken (the real
    code or geneb's adapter failed: `stage` and `error` say where and why), needs hub
    access, unavailable (a package the family needs is missing here), skipped (not
    checkable by this check, `error` says why). `loads` / `embeds` are None when not tried."""

    model_id: str
    family: str
    status: str
    loads: bool | None = None
    embeds: bool | None = None
    stage: str = ""  # download | build | load | embed: where a broken model failed
    error: str = ""
    dim: int | None = None
    tokens: str = ""  # what the tokenizer does with characters it lacks, e.g. "N n a c g t -> unk"
    source: str = ""  # repo@revision or the local directory the files came from
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        """True where a run of this model here would fail or could not be checked."""
        return self.status in ("broken", "needs hub access", "unavailable")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def hub_download(repo_id: str, revision: str | None, allow_patterns: Sequence[str],
                 ignore_patterns: Sequence[str]) -> Path:
    """The default download: `huggingface_hub.snapshot_download` of the matching files
    into the Hugging Face cache (a later `geneb embed` reuses them)."""
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(repo_id, revision=revision or None, allow_patterns=list(allow_patterns),
                                  ignore_patterns=list(ignore_patterns)))


def deep_check(specs: Sequence[ModelSpec], *, download: Download | None = None, device: str = "cpu",
               work_dir: str | Path | None = None,
               progress: Callable[[DeepCheck], None] | None = None) -> list[DeepCheck]:
    """Deep-check `specs` in order; one `DeepCheck` per spec. `download(repo_id, revision,
    allow_patterns, ignore_patterns) -> directory` replaces the hub download (tests,
    mirrors); `work_dir` keeps the shrunk directories (default: a temporary directory,
    removed afterwards); `progress` is called with each result as it is ready."""
    download = download or hub_download
    out = []
    with _work_dir(work_dir) as root:
        for spec in specs:
            t0 = time.perf_counter()
            res = check_one(spec, download=download, device=device, root=root)
            res.seconds = round(time.perf_counter() - t0, 2)
            out.append(res)
            if progress is not None:
                progress(res)
    return out


@contextlib.contextmanager
def _work_dir(work_dir: str | Path | None) -> Iterator[Path]:
    if work_dir is not None:
        p = Path(work_dir)
        p.mkdir(parents=True, exist_ok=True)
        yield p
        return
    with tempfile.TemporaryDirectory(prefix="geneb-deep-check-") as d:
        yield Path(d)


def check_one(spec: ModelSpec, *, download: Download, device: str, root: Path) -> DeepCheck:
    """The deep check of one model (see the module docstring); never raises for a model problem."""
    from .adapters import MissingExtraError, adapter_class
    from .adapters._families_common import local_weights
    from .adapters._local_hf import LocalHFAdapter
    from .adapters.hf_common import HFAdapter

    res = DeepCheck(spec.model_id, spec.family, "skipped")
    if spec.family in SKIP_FAMILIES:
        res.error = SKIP_FAMILIES[spec.family]
        return res
    try:
        cls = adapter_class(spec.family)
    except MissingExtraError as exc:
        res.status, res.error = "unavailable", _reason(exc, spec)
        return res
    if spec.family != "hf-auto" and not issubclass(cls, HFAdapter):
        res.error = f"family {spec.family!r} does not load a transformers checkpoint"
        return res
    if issubclass(cls, LocalHFAdapter):  # GENEB_WEIGHTS_<ID> or a local path, as the adapter reads them
        local = local_weights(spec)
    else:
        local = Path(spec.weights) if spec.weights and Path(spec.weights).is_dir() else None
    if local is not None and not (local.is_dir() and (local / "config.json").is_file()):
        res.error = f"local weights {local} are not a Hugging Face directory (no config.json)"
        return res
    if local is None and not spec.on_hub:
        where = f" ({spec.weights})" if spec.weights else ""
        res.error = (f"weights are not on the Hugging Face hub{where}; point weights (or a GENEB_WEIGHTS_ variable) "
                     "at a local copy to check it")
        return res
    try:
        cls.ensure_available(dataclasses.replace(spec, weights=str(local)) if local is not None else spec)
    except MissingExtraError as exc:
        msg = _reason(exc, spec)
        res.status = "skipped" if "CUDA" in msg and not device.startswith("cuda") else "unavailable"
        res.error = msg
        return res
    except Exception as exc:  # noqa: BLE001 - any other refusal is the model's
        res.status, res.stage, res.error = "broken", "load", _short(exc)
        return res

    # 1. the config, tokenizer and code files, never the weights
    target = root / _safe(spec.model_id)
    if local is not None:
        res.source = str(local)
        src: Path = local
    else:
        res.source = f"{spec.weights}@{spec.revision or 'main'}"
        try:
            src = Path(download(spec.weights, spec.revision or None, ALLOW_PATTERNS, IGNORE_PATTERNS))
        except Exception as exc:  # noqa: BLE001 - classified below
            return _download_failure(res, spec, exc)
    try:
        copied = copy_model_files(src, target)
        if "config.json" not in copied:
            raise MissingFile(f"{res.source} has no config.json")
        layers = shrink_config_file(target / "config.json")
    except Exception as exc:  # noqa: BLE001
        res.status, res.stage, res.error = "broken", "download", _short(exc)
        return res

    # 2. a random-weight instance of the real class, built from a separate copy
    try:
        build_random_weights(target, root / f"{_safe(spec.model_id)}-weights-builder", spec.trust_remote_code)
    except Exception as exc:  # noqa: BLE001
        if _is_offline(exc):
            return _download_failure(res, spec, exc)
        res.status, res.stage, res.error, res.loads = "broken", "build", _short(exc), False
        return res

    # 3. geneb's adapter on the shrunk directory, as `geneb embed` runs it
    _run_adapter(res, spec, target, layers, device)
    return res


def _run_adapter(res: DeepCheck, spec: ModelSpec, target: Path, layers: int | None, device: str) -> None:
    import numpy as np

    from .adapters import ExtractOptions, make_adapter

    layer = spec.layer
    if layers is not None and layer > layers:
        layer = layers  # a tap past the shrunk depth: the last block
    check_spec = dataclasses.replace(spec, weights=str(target), revision="", layer=layer)
    adapter = None
    try:
        with _without_weights_override(spec):
            adapter = make_adapter(check_spec, ExtractOptions(dtype="float32", compute_dtype="float32"), device)
            adapter.load()
    except Exception as exc:  # noqa: BLE001
        res.status, res.stage, res.error, res.loads = "broken", "load", _short(exc), False
        _close(adapter)
        return
    res.loads = True
    where = f"deep check of {spec.model_id}"
    try:
        adapter.validate(SEQUENCES, where)
        audit = adapter.audit(SEQUENCES, where)
        res.tokens = describe_audit(audit.characters)
        x = adapter.embed([adapter.prepare(s) for s in SEQUENCES])
        x = np.asarray(x)
        if x.ndim != 2 or x.shape[0] != len(SEQUENCES) or x.shape[1] == 0:
            raise ValueError(f"embed returned shape {x.shape} for {len(SEQUENCES)} sequences")
        if not np.isfinite(x).all():
            raise ValueError("embed returned non-finite values")
        res.dim = int(x.shape[1])
    except Exception as exc:  # noqa: BLE001
        res.status, res.stage, res.error, res.embeds = "broken", "embed", _short(exc), False
        return
    finally:
        _close(adapter)
    res.embeds = True
    res.status = "ok"


def _close(adapter: Any) -> None:
    if adapter is not None:
        with contextlib.suppress(Exception):
            adapter.close()


@contextlib.contextmanager
def _without_weights_override(spec: ModelSpec) -> Iterator[None]:
    """GENEB_WEIGHTS_<ID> would point a local-weights family back at the real checkpoint."""
    from .adapters._families_common import weights_env_var

    name = weights_env_var(spec.model_id)
    saved = os.environ.pop(name, None)
    try:
        yield
    finally:
        if saved is not None:
            os.environ[name] = saved


def describe_audit(characters: dict[str, str]) -> str:
    """"N n a c g t -> unk; ..." from a TokenAudit's per-character verdicts ("" when none)."""
    parts = []
    for verdict, label in (("unknown", "unk"), ("dropped", "dropped")):
        chars = sorted((c for c, v in characters.items() if v == verdict), key=lambda c: (c.islower(), c))
        if chars:
            parts.append(f"{' '.join(chars)} -> {label}")
    return "; ".join(parts)


# -- the files ---------------------------------------------------------------------------


def wanted(relpath: str) -> bool:
    """True for a config / tokenizer / code file, False for weights and anything else."""
    name = relpath.replace(os.sep, "/")
    return (any(fnmatch.fnmatch(name, p) for p in ALLOW_PATTERNS)
            and not any(fnmatch.fnmatch(name, p) for p in IGNORE_PATTERNS))


def copy_model_files(src: Path, dest: Path) -> list[str]:
    """Copy the wanted files of `src` (a hub snapshot or local directory) to `dest`
    (replaced); returns their relative paths. Weights are never copied."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    out = []
    for p in sorted(src.rglob("*")):
        rel = p.relative_to(src).as_posix()
        if not p.is_file() or "__pycache__" in rel.split("/") or rel.startswith(".") or not wanted(rel):
            continue
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dest / rel)
        out.append(rel)
    return out


def shrink_config(cfg: dict[str, Any]) -> int | None:
    """Shrink a config dict in place (nested dicts too): at most LAYERS layers, WIDTH hidden
    units, FFN feed-forward units and HEADS attention heads, consistently (heads divide the
    width, key/value heads divide the heads, `head_dim` follows, per-layer lists are cut).
    Returns the new top-level layer count (None when the config names none)."""
    layers = None
    for k in _LAYER_KEYS:
        v = cfg.get(k)
        if _is_int(v) and v > 0:
            new = min(v, LAYERS)
            for lk, lv in list(cfg.items()):  # per-layer lists (layer_types, ...)
                if "layer" in lk and isinstance(lv, list) and len(lv) == v and v != new:
                    cfg[lk] = lv[:new]
            cfg[k] = new
            layers = new if layers is None else min(layers, new)
    width = None
    for k in _WIDTH_KEYS:
        v = cfg.get(k)
        if _is_int(v) and v > 0:
            cfg[k] = width = min(v, WIDTH)
    for k in _FFN_KEYS:
        v = cfg.get(k)
        if _is_int(v) and v > 0:
            cfg[k] = min(v, FFN)
    for k in _HEAD_KEYS:
        v = cfg.get(k)
        if _is_int(v) and v > 0:
            heads = min(v, HEADS)
            while width is not None and heads > 1 and width % heads:
                heads -= 1
            kv_orig = {kk: cfg[kk] for kk in _KV_KEYS if _is_int(cfg.get(kk)) and cfg[kk] > 0}
            for kk, kv in kv_orig.items():  # keep multi-head vs grouped vs multi-query
                cfg[kk] = heads if kv >= v else 1
            cfg[k] = heads
            if width is not None and _is_int(cfg.get("head_dim")):
                cfg["head_dim"] = width // heads
    for v in cfg.values():
        if isinstance(v, dict):
            shrink_config(v)
    return layers


def shrink_config_file(path: Path) -> int | None:
    cfg = json.loads(path.read_text())
    if not isinstance(cfg, dict):
        raise InvalidArgument(f"{path}: expected a JSON object")
    layers = shrink_config(cfg)
    path.write_text(json.dumps(cfg, indent=2))
    return layers


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


# -- the random weights --------------------------------------------------------------------


def saved_class(config: Any, directory: Path, trust_remote_code: bool) -> tuple[type, bool]:
    """(class the checkpoint was saved from, is remote code): `architectures[0]` of the
    config, through `auto_map` for remote code, else transformers' class of that name,
    else the Auto class's model for the config."""
    import transformers
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    from .compat.helpers import restored_helpers

    archs = [a for a in (getattr(config, "architectures", None) or []) if isinstance(a, str)]
    auto_map = dict(getattr(config, "auto_map", None) or {}) if trust_remote_code else {}
    refs: dict[str, str] = {}
    for key, ref in auto_map.items():
        if key in ("AutoConfig", "AutoTokenizer"):
            continue
        ref = ref[0] if isinstance(ref, list | tuple) else ref
        if isinstance(ref, str) and ref:
            refs.setdefault(ref.rsplit(".", 1)[-1], ref)
    ref = next((refs[a] for a in archs if a in refs), None)
    if ref is None and refs:
        ref = next((refs[r.rsplit(".", 1)[-1]] for k in ("AutoModelForMaskedLM", "AutoModelForCausalLM", "AutoModel")
                    if isinstance(r := auto_map.get(k), str)), None) or next(iter(refs.values()))
    if ref is not None:
        with restored_helpers():
            return get_class_from_dynamic_module(ref, str(directory)), True
    for a in archs:
        if hasattr(transformers, a):
            return getattr(transformers, a), False
    return transformers.AutoModel._model_mapping[type(config)], False


def build_random_weights(target: Path, builder: Path, trust_remote_code: bool, seed: int = 0) -> Path:
    """Write `target/model.safetensors`: a random-weight instance of the class `target`'s
    checkpoint was saved from, built (from the copy `builder`, so its remote modules are
    not the adapter's) on the CPU with the 4.x pieces the remote code needs. Every state
    dict entry is saved under its own name (tied ones too), so any loader finds its keys."""
    import torch
    from safetensors.torch import save_file
    from transformers import AutoConfig

    from . import compat
    from .compat.helpers import (
        ADD_EXTENDED_MASK,
        ADD_HEAD_MASK,
        add_missing_methods,
        restored_helpers,
    )
    from .compat.loading import (
        DEFER_INIT_WEIGHTS,
        config_defaults,
        deferred_init_weights,
        remote_base,
    )

    if builder.exists():
        shutil.rmtree(builder)
    shutil.copytree(target, builder)
    with restored_helpers():
        config = AutoConfig.from_pretrained(str(builder), trust_remote_code=trust_remote_code)
    cls, remote = saved_class(config, builder, trust_remote_code)
    config_defaults(config)
    if remote:
        add_missing_methods(remote_base(cls), (ADD_HEAD_MASK.name, ADD_EXTENDED_MASK.name))
    defer = deferred_init_weights(cls) if remote and compat.applies(DEFER_INIT_WEIGHTS.name) else contextlib.nullcontext()
    calls = [0]
    orig_post_init = cls.post_init

    def counted(self: Any, *a: Any, **kw: Any) -> Any:
        calls[0] += 1
        return orig_post_init(self, *a, **kw)

    torch.manual_seed(seed)
    cls.post_init = counted  # type: ignore[method-assign]
    try:
        with restored_helpers(), defer, torch.device("cpu"):
            model = cls(config)
    finally:
        cls.post_init = orig_post_init  # type: ignore[method-assign]
    if calls[0] == 0:
        model.post_init()
    state = {k: v.detach().to("cpu").clone().contiguous() for k, v in model.state_dict().items()
             if isinstance(v, torch.Tensor) and not v.is_meta}
    save_file(state, str(target / "model.safetensors"), metadata={"format": "pt"})
    shutil.rmtree(builder, ignore_errors=True)
    return target / "model.safetensors"


# -- messages ------------------------------------------------------------------------------

_OFFLINE_NAMES = frozenset({
    "LocalEntryNotFoundError", "OfflineModeIsEnabled", "ConnectionError", "ConnectError", "ConnectTimeout",
    "ReadTimeout", "Timeout", "TimeoutException", "ProxyError", "NetworkError", "gaierror",
})


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen = set()
    e: BaseException | None = exc
    while e is not None and id(e) not in seen:
        seen.add(id(e))
        yield e
        e = e.__cause__ or e.__context__


def _is_offline(exc: BaseException) -> bool:
    for e in _chain(exc):
        if isinstance(e, ConnectionError | TimeoutError):
            return True
        if any(k.__name__ in _OFFLINE_NAMES for k in type(e).__mro__):
            return True
        if "offline" in str(e).lower() and isinstance(e, OSError):
            return True
    return False


def _download_failure(res: DeepCheck, spec: ModelSpec, exc: BaseException) -> DeepCheck:
    names = {k.__name__ for e in _chain(exc) for k in type(e).__mro__}
    if "GatedRepoError" in names:
        res.status = "needs hub access"
        res.error = f"{spec.weights} is gated: accept its terms on huggingface.co and set HF_TOKEN"
    elif _is_offline(exc):
        res.status = "needs hub access"
        res.error = (f"cannot reach huggingface.co (offline or HF_HUB_OFFLINE) and {spec.weights} is not in the "
                     "local cache; run the check where the hub is reachable")
    elif "RepositoryNotFoundError" in names:
        res.status, res.stage = "broken", "download"
        res.error = f"{spec.weights}: no such repository on the hub (or private: set HF_TOKEN)"
    elif "RevisionNotFoundError" in names:
        res.status, res.stage = "broken", "download"
        res.error = f"{spec.weights}: revision {spec.revision!r} not found on the hub"
    else:
        res.status, res.stage, res.error = "broken", "download", _short(exc)
    return res


def _short(exc: BaseException, limit: int = 200) -> str:
    """`Type: message` on one line, at most `limit` characters."""
    text = " ".join(str(exc).split())
    msg = f"{type(exc).__name__}: {text}".rstrip(": ")
    return msg if len(msg) <= limit else msg[: limit - 3] + "..."


def _reason(exc: BaseException, spec: ModelSpec) -> str:
    """A MissingExtraError's message without the model/family prefix the table already shows."""
    msg = " ".join(str(exc).split())
    for prefix in (f"model {spec.model_id!r} (family {spec.family!r}): ", f"model {spec.model_id!r} (family {spec.family!r}) "):
        msg = msg.removeprefix(prefix)
    return msg


def _safe(model_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "_", model_id).strip("_") or "model"
