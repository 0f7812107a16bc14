"""Model specs: the 40 published GENEB models, built-in baselines, and user-declared models.

A spec says *how* to embed a model (adapter family, tokenisation, length limit, layer,
pooling); the extractor reads nothing else. Fields mirror MTEB's declarative ModelMeta.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from ..errors import NotFound
from ._files import CatalogError, data_path, read_csv, read_mapping_file, read_toml

#: Adapter families (one module each under geneb/extract/adapters).
FAMILIES: frozenset[str] = frozenset(
    {
        "hf-encoder",  # BERT-like encoders through AutoModel (GROVER, user BERTs)
        "hf-causal-lm",  # GPT-2, Llama, Mistral, OLMo decoders through AutoModel
        "hf-auto",  # a local HF directory whose family is detected from config.json
        "nucleotide-transformer",  # ESM-based NT v1/v2, Agro-NT
        "dnabert2",  # MosaicBERT remote code (DNABERT-2, DNABERT-S), plain-attention fallback
        "hyenadna",
        "caduceus",
        "mutbert",
        "gena-lm",  # AIRI's pre-layer-norm BERT remote code
        "omni-dna",  # OLMo through ai2-olmo's hf_olmo wrapper
        "lucaone",
        "generator",  # GENERator: right-trim to a multiple of 6, BOS
        "evo",
        "eccdnamamba",
        "biofm",
        "enformer",  # enformer-pytorch
        "space",
        "dna-gpt",
        "genomics-fm",
        "deepgene",
        "janusdna",
        "kmer",  # built-in k-mer frequency baseline
        "random-init",  # built-in untrained network of a real architecture
        "harness",  # a GENEB harness extractor class (`extract_embeddings(seqs, batch_size)`)
    }
)

#: Pooling rules. `mean` = mean over non-pad tokens, special tokens included (geneb-v1).
POOLINGS: frozenset[str] = frozenset(
    {"mean", "cls", "last-token", "penultimate-token", "spatial-mean", "none"}
)
LENGTH_UNITS: frozenset[str] = frozenset({"tokens", "bases"})


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to load and embed one model. `params` is the current published
    parameter count; `params_v1` the count in the paper's first version (its rho uses it)."""

    model_id: str
    display: str
    family: str
    weights: str = ""  # HF repo id, local directory, or where non-hub weights come from
    revision: str = ""  # hub revision (commit sha preferred); recorded in the cache key
    trust_remote_code: bool = False
    architecture: str = ""
    tokenization: str = ""
    pretraining_data: str = ""
    params: int = 0
    params_v1: int = 0
    tokenizer_kind: str = ""
    max_length: int | None = None  # None = the model/tokenizer's own limit
    length_unit: str = "tokens"
    length_policy: str = "tokenizer-truncate"
    layer: int = -1  # hidden-layer tap; -1 = final hidden layer
    pooling: str = "mean"
    special_tokens: str = "include"
    embedding_dim: int | None = None
    source: str = "geneb"  # "geneb", "builtin" or "user"
    untrained: bool = False
    default: bool = False  # part of the built-in default run
    reference_family: str = ""
    reference_hidden_tap: str = ""
    reference_pooling: str = ""
    #: harness family: "path/to/module.py:ClassName", a class with the GENEB harness's
    #: extractor interface; `weights` is what the harness passes as `name_model=`.
    extractor: str = ""
    config: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def on_hub(self) -> bool:
        return "/" in self.weights and not Path(self.weights).exists() and self.source != "builtin"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


_FIELDS = {f.name for f in dataclasses.fields(ModelSpec)}
_INT_FIELDS = {"params", "params_v1", "layer"}


def _coerce(where: str, raw: dict[str, Any]) -> ModelSpec:
    unknown = set(raw) - _FIELDS
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {sorted(unknown)}; known: {sorted(_FIELDS)}")
    vals: dict[str, Any] = {}
    for k, v in raw.items():
        if isinstance(v, str):
            v = v.strip()
        if k in _INT_FIELDS:
            try:
                v = int(v) if v not in ("", None) else (0 if k != "layer" else -1)
            except (TypeError, ValueError):
                raise CatalogError(f"{where}: field {k!r} must be an integer, got {v!r}") from None
        elif k in ("max_length", "embedding_dim"):
            try:
                v = int(v) if v not in ("", None) else None
            except (TypeError, ValueError):
                raise CatalogError(f"{where}: field {k!r} must be an integer, got {v!r}") from None
        elif k in ("trust_remote_code", "untrained", "default"):
            if isinstance(v, str):
                if v.lower() not in ("true", "false", ""):
                    raise CatalogError(f"{where}: field {k!r} must be true/false, got {v!r}")
                v = v.lower() == "true"
            v = bool(v)
        vals[k] = v
    for req in ("model_id", "family"):
        if not vals.get(req):
            raise CatalogError(f"{where}: missing required field {req!r}")
    vals.setdefault("display", vals["model_id"])
    spec = ModelSpec(**vals)
    if spec.family not in FAMILIES:
        raise CatalogError(
            f"{where}: model {spec.model_id!r}: unknown family {spec.family!r}; "
            f"known: {', '.join(sorted(FAMILIES))}"
        )
    if spec.pooling not in POOLINGS:
        raise CatalogError(
            f"{where}: model {spec.model_id!r}: unknown pooling {spec.pooling!r}; "
            f"known: {', '.join(sorted(POOLINGS))}"
        )
    if spec.length_unit not in LENGTH_UNITS:
        raise CatalogError(f"{where}: model {spec.model_id!r}: length_unit must be tokens or bases")
    if (spec.family == "harness") != bool(spec.extractor):
        raise CatalogError(
            f"{where}: model {spec.model_id!r}: " + (
                "family 'harness' needs extractor = \"path/to/module.py:ClassName\"" if not spec.extractor
                else f"'extractor' is for family 'harness', not {spec.family!r}"
            )
        )
    if spec.extractor:
        split_extractor(spec.extractor, where)
    return spec


def split_extractor(ref: str, where: str = "extractor") -> tuple[Path, str]:
    """`path/to/module.py:ClassName` -> (module path, class name)."""
    path, sep, cls = ref.rpartition(":")
    if not sep or not path.endswith(".py") or not cls.isidentifier():
        raise CatalogError(f"{where}: extractor must be 'path/to/module.py:ClassName', got {ref!r}")
    return Path(path), cls


def _add(out: dict[str, ModelSpec], spec: ModelSpec, where: str) -> None:
    if spec.model_id in out:
        raise CatalogError(f"{where}: duplicate model id {spec.model_id!r}")
    out[spec.model_id] = spec


@cache
def geneb_models() -> tuple[ModelSpec, ...]:
    """The 40 models evaluated in the GENEB paper, in the published table's order."""
    path = data_path("models.csv")
    out: dict[str, ModelSpec] = {}
    for i, row in enumerate(read_csv(path), start=2):
        _add(out, _coerce(f"{path.name}: line {i}", {**row, "source": "geneb"}), path.name)
    return tuple(out.values())


@cache
def builtin_models() -> tuple[ModelSpec, ...]:
    """Models that need no downloaded weights (k-mer baselines, untrained networks)."""
    path = data_path("builtin_models.toml")
    out: dict[str, ModelSpec] = {}
    for mid, raw in read_toml(path).items():
        _add(out, _coerce(f"{path.name}: [{mid}]", {"model_id": mid, "source": "builtin", **raw}), path.name)
    return tuple(out.values())


_user_models: dict[str, ModelSpec] = {}


def load_model_file(path: str | Path) -> list[ModelSpec]:
    """Declare user models from a TOML/YAML file without editing the package.

    Each top-level table is a model id with at least `weights` (HF id or local dir) and
    `family` (or `family = "hf-auto"` to detect it from the directory's config.json)::

        [my-bert]
        weights = "/data/models/my-bert"
        family = "hf-auto"
        pooling = "mean"
    """
    path = Path(path)
    raw = read_mapping_file(path)
    specs = []
    taken = {m.model_id for m in (*geneb_models(), *builtin_models())}
    for mid, body in raw.items():
        if not isinstance(body, dict):
            raise CatalogError(f"{path}: [{mid}]: expected a table of fields")
        if mid in taken:
            raise CatalogError(f"{path}: [{mid}]: id already used by a catalog model")
        body = dict(body)
        if isinstance(body.get("extractor"), str):
            # a relative module path is relative to the model file, wherever geneb runs
            mod, cls = split_extractor(body["extractor"], f"{path}: [{mid}]")
            if not mod.is_absolute():
                body["extractor"] = f"{(path.parent / mod).resolve()}:{cls}"
        spec = _coerce(f"{path}: [{mid}]", {"model_id": mid, "source": "user", **body})
        _user_models[mid] = spec
        specs.append(spec)
    return specs


def model_from_path(directory: str | Path, pooling: str = "mean", **overrides: Any) -> ModelSpec:
    """A spec for `path:DIR`: a local HF-format model directory, family detected at load time."""
    d = Path(directory)
    if not (d / "config.json").exists():
        raise CatalogError(f"path:{d}: no config.json there; expected a Hugging Face model directory")
    spec = _coerce(
        f"path:{d}",
        {
            "model_id": f"path:{d.resolve()}",
            "display": d.name,
            "family": "hf-auto",
            "weights": str(d.resolve()),
            "pooling": pooling,
            "source": "user",
            **overrides,
        },
    )
    _user_models[spec.model_id] = spec
    return spec


def model_from_harness(ref: str, name_model: str = "") -> ModelSpec:
    """A spec for `harness:PATH.py:CLASS[:NAME_MODEL]`: a GENEB harness extractor class,
    constructed as the harness does (`CLASS(name_model=NAME_MODEL, device=...)`)."""
    where = f"harness:{ref}"
    mod, sep, rest = ref.partition(".py:")
    if not sep:
        raise CatalogError(f"{where}: expected harness:path/to/module.py:ClassName[:name_model]")
    cls, _, nm = rest.partition(":")
    path = Path(mod + ".py").resolve()
    spec = _coerce(where, {
        "model_id": where, "display": cls, "family": "harness", "extractor": f"{path}:{cls}",
        "weights": nm or name_model, "source": "user",
    })
    _user_models[spec.model_id] = spec
    return spec


def all_models() -> dict[str, ModelSpec]:
    """Every known model by id: GENEB, built-in, then user-declared ones."""
    out: dict[str, ModelSpec] = {}
    for m in (*geneb_models(), *builtin_models(), *_user_models.values()):
        out[m.model_id] = m
    return out


def get_model(model_id: str) -> ModelSpec:
    """Look up a model by id; `path:DIR` declares a local HF directory on the fly, and
    `harness:PATH.py:CLASS[:NAME_MODEL]` a GENEB harness extractor class."""
    if model_id.startswith("path:") and model_id not in _user_models:
        return model_from_path(model_id[len("path:") :])
    if model_id.startswith("harness:") and model_id not in _user_models:
        return model_from_harness(model_id[len("harness:") :])
    models = all_models()
    if model_id not in models:
        raise NotFound(f"unknown model id {model_id!r}; see `geneb models` for the known ids")
    return models[model_id]


def default_models() -> list[ModelSpec]:
    """The built-in models the default pipeline (`make embed`) runs."""
    return [m for m in builtin_models() if m.default]
