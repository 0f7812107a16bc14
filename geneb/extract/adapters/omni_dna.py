"""Omni-DNA (zehui127/Omni-DNA-300M, zehui127/Omni-DNA-1B): OLMo decoders trained on DNA.

The network is ai2-olmo's `olmo.model.OLMo` (PyPI `ai2-olmo`, 0.6.0; the model card asks for
`pip install datasets ai2-olmo`). The hub repositories ship weights in the `hf_olmo` key layout
(`model.transformer.wte.weight`, `model.transformer.blocks.N.{att_proj,attn_out,ff_proj,ff_out}.weight`;
no layer-norm weights: `layer_norm_with_affine` is false) and a `config.json` holding
`olmo.config.ModelConfig`'s fields, with `model_type: olmo-gfm` and an `auto_map` to small
wrapper files of their own (`configuration_olmo.py`, `modeling_olmo.py`,
`tokenization_olmo_fast.py`) around that same `olmo.model.OLMo`.

geneb builds ai2-olmo's own classes instead of running the hub's Python files:
`hf_olmo.OLMoConfig` from `config.json`'s values, `hf_olmo.OLMoForCausalLM` (which builds
`olmo.model.OLMo` from them) and `hf_olmo.OLMoTokenizerFast` over the hub `tokenizer.json`.
A checkpoint with `model_type: hf_olmo` (the `hf_olmo` layout itself) loads the same way.
Embedding, as in the usual Omni-DNA recipe: `output_hidden_states=True`, then
`hidden_states[layer]` (-1: after OLMo's final layer norm; k: the input of block k, 0 = the
token embeddings; the causal-LM output has no `last_hidden_state`), attention-mask mean over
right-padded batches (causal attention: a token never sees the padding to its right).

Tokens: the hub tokenizer as it is, special tokens included (catalog `special_tokens =
include`), truncated to the catalog's 250 tokens (Omni-DNA's context). Characters its
vocabulary lacks become its unknown token, and `audit` counts them per pair.

Differences from a plain `AutoModelForCausalLM.from_pretrained(repo, trust_remote_code=True)`
(registered below, names in `OmniDNAAdapter.differences`):

* `hf-olmo-classes`: the classes above from the installed ai2-olmo, not the hub wrapper files.
* `olmo-io-import-placeholders`: `olmo/util.py` imports at module level packages used only
  for cloud checkpoint IO, logging and progress bars (boto3, botocore, datasets, requests,
  rich, cached_path, google.api_core); those not installed are stood in for by inert modules
  while `hf_olmo` is imported, and removed from `sys.modules` afterwards.
* `build-outside-meta`: `OLMoForCausalLM.__init__` never calls `post_init`, and transformers
  5's `from_pretrained` needs what `post_init` sets (`'OLMoForCausalLM' object has no
  attribute 'all_tied_weights_keys'`): the class is built from its config on the CPU,
  `post_init` is called, the checkpoint's state dict is loaded, and a missing weight is an error.
* `olmo-tie-weights-kwargs` (transformers 5): `post_init` calls `tie_weights(recompute_mapping=False)`
  and `hf_olmo`'s `tie_weights(self)` (a documented no-op: OLMo ties by reusing `wte.weight`
  for the logits) takes no arguments; it accepts and ignores them while `post_init` runs.
* `olmo-explicit-forward-flags` (transformers 5): the wrapper's forward reads
  `self.config.use_cache` when `use_cache` is None, and transformers 5's config drops
  `use_cache` (a generation parameter); geneb passes `use_cache=False, return_dict=True`.

`AutoModel` does not work at all (`hf_olmo` registers only `AutoModelForCausalLM`).
On CUDA, building `olmo.model.OLMo` calls `torch.backends.cuda.enable_mem_efficient_sdp(False)`
for the whole process (a speed setting of ai2-olmo; vectors are unaffected).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import inspect
import logging
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any, ClassVar

from .. import compat
from ..compat import difference
from ..compat.loading import BUILD_OUTSIDE_META
from .base import ExtractError
from .hf_common import HFAdapter

log = logging.getLogger(__name__)

#: ai2-olmo's version geneb is tested with (tests/requirements-realcode.txt).
OLMO_VERSION = "0.6.0"
#: What to install when ai2-olmo is missing: its own dependency list pins numpy<2 and pulls
#: cloud SDKs the model never uses, so the model code and its three import-time needs only.
INSTALL_HINT = (f"pip install --no-deps ai2-olmo=={OLMO_VERSION} omegaconf==2.3.0 "
                "antlr4-python3-runtime==4.9.3 importlib_resources")
#: `model_type` values of OLMo checkpoints this family loads: Omni-DNA's and hf_olmo's own.
MODEL_TYPES = ("olmo-gfm", "hf_olmo")

HF_OLMO_CLASSES = difference("hf-olmo-classes")

IO_PLACEHOLDERS = difference("olmo-io-import-placeholders")

TIE_WEIGHTS_KWARGS = difference("olmo-tie-weights-kwargs")

FORWARD_FLAGS = difference("olmo-explicit-forward-flags")


# -- importing hf_olmo ---------------------------------------------------------------------
class _Inert:
    """Stands in for a class olmo/util.py instantiates or subclasses at import time."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass


class _SchemeClient(_Inert):
    recoverable_errors: tuple[type[BaseException], ...] = ()


def _never(*args: Any, **kwargs: Any) -> bool:
    return False


def _error(name: str) -> type[Exception]:
    return type(name, (Exception,), {})


def _placeholder_attrs() -> dict[str, dict[str, Any]]:
    """The names olmo/util.py takes from each module at import time (parents first)."""
    return {
        "boto3": {},
        "botocore": {},
        "botocore.exceptions": {"ClientError": _error("ClientError"), "HTTPClientError": _error("HTTPClientError"),
                                "ConnectionError": _error("ConnectionError")},
        "botocore.config": {"Config": type("Config", (_Inert,), {})},
        "datasets": {"Dataset": type("Dataset", (_Inert,), {}), "DatasetDict": type("DatasetDict", (_Inert,), {})},
        "requests": {},
        "requests.exceptions": {"ReadTimeout": _error("ReadTimeout")},
        "rich": {"get_console": _never},
        "rich.console": {"Console": type("Console", (_Inert,), {}),
                         "ConsoleRenderable": type("ConsoleRenderable", (_Inert,), {})},
        "rich.highlighter": {"NullHighlighter": type("NullHighlighter", (_Inert,), {})},
        "rich.progress": {"Progress": type("Progress", (_Inert,), {})},
        "rich.text": {"Text": type("Text", (_Inert,), {})},
        "rich.traceback": {"Traceback": type("Traceback", (_Inert,), {})},
        "cached_path": {},
        "cached_path.schemes": {"SchemeClient": _SchemeClient, "add_scheme_client": _never},
        "google": {},
        "google.api_core": {},
        "google.api_core.retry": {"Retry": type("Retry", (_Inert,), {}), "if_transient_error": _never},
    }


def _importable(name: str) -> bool:
    if name in sys.modules:
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):  # a missing parent, or one without a spec
        return False


def _placeholder(name: str, attrs: dict[str, Any]) -> types.ModuleType:
    mod = types.ModuleType(name, f"geneb placeholder for {name}, which is not installed (see geneb.extract.adapters.omni_dna)")
    mod.__dict__.update(attrs)
    mod.__dict__["__geneb_placeholder__"] = True

    def __getattr__(attr: str) -> Any:
        raise AttributeError(f"{name}.{attr}: {name} is not installed; geneb imported ai2-olmo with a placeholder "
                             "for it (olmo uses it only for cloud checkpoint IO, logging and progress bars)")

    mod.__dict__["__getattr__"] = __getattr__
    return mod


@contextlib.contextmanager
def io_placeholders() -> Iterator[list[str]]:
    """Inert modules for those of `_placeholder_attrs()` that are not installed, in
    `sys.modules` only inside the block; yields the names stood in for."""
    added: list[str] = []
    try:
        for name, attrs in _placeholder_attrs().items():
            if not _importable(name):
                mod = sys.modules[name] = _placeholder(name, attrs)
                added.append(name)
                parent, _, child = name.rpartition(".")
                if parent in added:  # `import requests` then `requests.exceptions.X`
                    setattr(sys.modules[parent], child, mod)
        yield added
    finally:
        for name in reversed(added):
            mod = sys.modules.get(name)
            if mod is not None and getattr(mod, "__geneb_placeholder__", False):
                del sys.modules[name]


_IMPORT_LOCK = threading.Lock()
#: The modules stood in for when hf_olmo was imported (empty: all real, or not imported yet).
PLACEHOLDERS_USED: list[str] = []


def import_hf_olmo() -> types.ModuleType:
    """`import hf_olmo` (which registers OLMoConfig, AutoModelForCausalLM and the tokenizer with
    transformers), with the IO placeholders where needed."""
    with _IMPORT_LOCK:
        if "hf_olmo" in sys.modules:
            return sys.modules["hf_olmo"]
        # What hf_olmo and olmo import from other installed packages is imported first, so that
        # nothing but olmo itself can see a placeholder (transformers probes for `datasets`).
        import numpy  # noqa: F401
        import omegaconf  # noqa: F401
        import tokenizers  # noqa: F401
        import torch
        import torch.distributed.fsdp  # noqa: F401
        import transformers
        import transformers.cache_utils  # noqa: F401
        import transformers.modeling_outputs  # noqa: F401
        import transformers.models.auto  # noqa: F401

        for name in ("AutoConfig", "AutoTokenizer", "PreTrainedModel", "PretrainedConfig", "PreTrainedTokenizerFast"):
            getattr(transformers, name)
        del torch
        with io_placeholders() as added:
            importlib.import_module("olmo")
        if added:
            log.info("ai2-olmo imported with placeholders for %s (not installed; used only for cloud IO and logging)",
                     ", ".join(added))
        PLACEHOLDERS_USED[:] = added
        return importlib.import_module("hf_olmo")


@contextlib.contextmanager
def tie_weights_taking_kwargs(cls: type) -> Iterator[None]:
    """While building `cls`: its own `tie_weights(self)` accepts and ignores arguments."""
    orig = cls.__dict__.get("tie_weights")
    params = inspect.signature(orig).parameters.values() if orig is not None else ()
    if orig is None or any(p.kind is p.VAR_KEYWORD for p in params):
        yield
        return

    def tie_weights(self: Any, *args: Any, **kwargs: Any) -> Any:
        return orig(self)

    cls.tie_weights = tie_weights  # type: ignore[attr-defined]
    try:
        yield
    finally:
        cls.tie_weights = orig  # type: ignore[attr-defined]


def _olmo_version() -> str:
    try:
        from importlib.metadata import version

        return version("ai2-olmo")
    except Exception:  # noqa: BLE001 - not installed
        return "not installed"


class OmniDNAAdapter(HFAdapter):
    family = "omni-dna"
    requires = ("torch", "transformers", "hf_olmo", "olmo", "omegaconf", "antlr4", "importlib_resources")
    extra = "extract"  # torch + transformers; ai2-olmo is installed by hand (INSTALL_HINT)
    differences: ClassVar[tuple[str, ...]] = (
        HF_OLMO_CLASSES.name, IO_PLACEHOLDERS.name, BUILD_OUTSIDE_META.name, TIE_WEIGHTS_KWARGS.name,
        FORWARD_FLAGS.name,
    )

    #: ai2-olmo's hf_olmo and its import-time needs, which pip would otherwise resolve to
    #: versions that break it: installed by hand, pinned
    hand_installed = ("hf_olmo", "olmo", "omegaconf", "antlr4", "importlib_resources")
    install_hint = INSTALL_HINT

    def describe(self) -> dict[str, Any]:
        return {**super().describe(), "model_code": f"ai2-olmo {_olmo_version()} hf_olmo.OLMoForCausalLM"}

    # -- loading ------------------------------------------------------------------------
    def _revision(self) -> str | None:
        return self._hub_kwargs().get("revision")

    def _load_tokenizer(self) -> Any:
        hf_olmo = import_hf_olmo()
        kw = {"revision": self._revision()} if self._revision() else {}
        return hf_olmo.OLMoTokenizerFast.from_pretrained(self.spec.weights, **kw)

    def _olmo_config(self) -> Any:
        """hf_olmo's OLMoConfig with config.json's values (read without running any hub code)."""
        from transformers import PretrainedConfig

        hf_olmo = import_hf_olmo()
        kw = {"revision": self._revision()} if self._revision() else {}
        raw, _ = PretrainedConfig.get_config_dict(self.spec.weights, **kw)
        mt = raw.get("model_type")
        if mt not in MODEL_TYPES or "d_model" not in raw:
            raise ExtractError(
                f"model {self.spec.model_id!r}: {self.spec.weights} is not an OLMo checkpoint of the hf_olmo "
                f"layout (config.json model_type {mt!r}; family 'omni-dna' loads {', '.join(MODEL_TYPES)})"
            )
        from olmo.config import ModelConfig

        fields = set(ModelConfig.__dataclass_fields__)
        defaulted = sorted(fields - set(raw) - {"init_device", "init_fn", "flash_attention"})
        if defaulted:
            log.info("%s: config.json lacks %s; ai2-olmo's ModelConfig defaults apply", self.spec.model_id,
                     ", ".join(defaulted))
        values = {k: v for k, v in raw.items() if k not in ("model_type", "auto_map")}
        return hf_olmo.OLMoConfig.from_dict(values)

    def _load_model(self) -> Any:
        from ..compat.loading import build_and_load

        hf_olmo = import_hf_olmo()
        config = self._olmo_config()
        cls = hf_olmo.OLMoForCausalLM
        tie = compat.applies(TIE_WEIGHTS_KWARGS.name)
        with tie_weights_taking_kwargs(cls) if tie else contextlib.nullcontext():
            model = build_and_load(cls, config, self.spec.weights, self._revision(), dtype=self._weight_dtype())
        log.info("%s: built hf_olmo.OLMoForCausalLM (%d layers, d_model %d)", self.spec.model_id,
                 config.n_layers, config.d_model)
        return model

    # -- forward ------------------------------------------------------------------------
    def _forward(self, ids: Any, mask: Any) -> Any:
        out = self.model_(input_ids=ids, attention_mask=mask, output_hidden_states=True, use_cache=False,
                         return_dict=True)
        return self.hidden_layer(out.hidden_states, ", 0 = embeddings, {last} = after the final layer norm")


ADAPTER = OmniDNAAdapter
