"""Nucleotide Transformer family on its authors' remote-code layout (NT v2) and as native ESM (NT v1).

Fixtures: `tests/fixtures/remote/nt-v2` (hub layout of the NT v2 repositories: `auto_map` with
only AutoConfig / AutoModelForMaskedLM / classification heads, no `model_type`, a remote config
class named `EsmConfig`, stand-in `modeling_esm.py` with the bias-free SwiGLU) and
`tests/fixtures/remote/nt-v1` (native ESM). Runs under transformers 5.x (`.venv`) and 4.x
(`.venv-tf4`).

The reference is the model card's recipe, built here independently of geneb's loader:
`AutoTokenizer`, the remote `EsmForMaskedLM` from `cls(config)` + `load_state_dict`,
`outputs["hidden_states"][-1]` with `output_hidden_states=True`, attention-mask mean. On
transformers 5 the remote code cannot run unaided (its `__init__` and forward use what 5.x
removed); the reference then supplies those pieces with this file's own minimal versions.

Set GENEB_NT_V2_UPSTREAM to a directory holding the real hub `modeling_esm.py` and
`esm_config.py` to run the same checks on them (the tiny config and tokenizer come from the
fixture).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import remote_fixtures as rf  # noqa: E402

from geneb.catalog.models import load_model_file  # noqa: E402
from geneb.extract import compat  # noqa: E402
from geneb.extract.adapters import (  # noqa: E402
    ExtractError,
    ExtractOptions,
    make_adapter,
    nucleotide_transformer,  # noqa: E402,F401 - registers its differences
)

TF5 = int(transformers.__version__.split(".")[0]) >= 5
MAX_TOKENS = 40  # truncation is exercised by the long sequences below
SEQS = [
    "ACGTACGTA",  # 9 bases: a multiple of 3, not of 6
    "ACGTA",
    "ACGNNTTACGTAGGCAT",  # N inside, 17 bases
    "acgtACGTACGTTTG",  # lower case run -> one <unk>
    "ACGTnACGTTAGC",  # lower-case n
    "N",
    "GATTACA" * 11,  # 77 bases, ends mid k-mer
    "ACGTTGCANNACGTAGCTAGCTAGGATCCAGT" * 7,  # 224 bases: truncated at MAX_TOKENS tokens
]
REMOTE_DIFFERENCES_5X = {"class-from-auto-map", "restore-removed-helpers", "config-4x-defaults", "add-get-head-mask",
                         "add-get-extended-attention-mask", "defer-init-weights-to-post-init", "build-outside-meta"}
REMOTE_DIFFERENCES_4X = {"class-from-auto-map", "restore-removed-helpers", "build-outside-meta"}


def _sources() -> list:
    params = [pytest.param(None, id="fixture")]
    up = os.environ.get("GENEB_NT_V2_UPSTREAM")
    if up:
        params.append(pytest.param(Path(up), id="upstream"))
    return params


# -- what the test needs on transformers 5 to run the remote code by hand ------------------
def _skip_init_weights_before_post_init(monkeypatch: pytest.MonkeyPatch) -> None:
    """transformers 5's `init_weights` needs `all_tied_weights_keys` (set by `post_init`);
    the remote `EsmForMaskedLM.__init__` calls it first. Skip that one call."""
    if not TF5:
        return
    orig = transformers.PreTrainedModel.init_weights

    def init_weights(self):
        if "all_tied_weights_keys" not in self.__dict__:
            return None
        return orig(self)

    monkeypatch.setattr(transformers.PreTrainedModel, "init_weights", init_weights)


def _source_dir(tmp: Path, upstream: Path | None) -> Path | None:
    """The fixture with the remote .py files replaced by the real ones (None: the fixture)."""
    if upstream is None:
        return None
    d = tmp / "nt-v2-upstream-src"
    shutil.copytree(rf.fixture_dir("nt-v2"), d, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for name in ("modeling_esm.py", "esm_config.py"):
        shutil.copy(upstream / name, d / name)
    return d


def _checkpoint(tmp: Path, monkeypatch: pytest.MonkeyPatch, upstream: Path | None = None) -> Path:
    with monkeypatch.context() as m:
        _skip_init_weights_before_post_init(m)
        return rf.checkpoint("nt-v2", tmp / "ntv2", save_from="AutoModelForMaskedLM",
                          source=_source_dir(tmp, upstream))


def _adapter(tmp: Path, d: Path, *, trust: bool = True, layer: int | None = None):
    mf = rf.model_file(tmp / "models.toml", "ntv2-tiny", d, family="nucleotide-transformer",
                    trust_remote_code=trust, max_length=MAX_TOKENS, length_unit="tokens",
                    length_policy="tokenizer-truncate", pooling="mean", special_tokens="include")
    (spec,) = load_model_file(mf)
    return make_adapter(spec, ExtractOptions(dtype="float32", layer=layer), "cpu")


def _model_card(d: Path, monkeypatch: pytest.MonkeyPatch):
    """(tokenizer, remote EsmForMaskedLM) as the model card builds them, by hand."""
    from safetensors.torch import load_file

    tok = transformers.AutoTokenizer.from_pretrained(str(d), trust_remote_code=True)
    cls = rf.remote_class(d, "AutoModelForMaskedLM")
    config = transformers.AutoConfig.from_pretrained(str(d), trust_remote_code=True)
    base = [k for k in cls.__mro__ if k.__module__ == cls.__module__][-1]
    if TF5:  # what 5.x removed, supplied by this test (replacing anything geneb added to the class)
        for name in ("is_decoder", "add_cross_attention"):
            if not hasattr(config, name):
                setattr(config, name, False)
        monkeypatch.setattr(base, "get_extended_attention_mask", rf.ref_extended_attention_mask, raising=False)
        monkeypatch.setattr(base, "get_head_mask", rf.ref_head_mask, raising=False)
    _skip_init_weights_before_post_init(monkeypatch)
    model = cls(config)
    model.load_state_dict(load_file(str(d / "model.safetensors")), strict=True)
    return tok, model.eval()


def _recipe(tok, model, seqs, layer: int = -1) -> np.ndarray:
    return rf.masked_mean_reference(tok, model, seqs, MAX_TOKENS, layer)


# -- 1. NT v2: the real architecture, the model card's vectors ------------------------------
@pytest.mark.parametrize("upstream", _sources())
def test_v2_adapter_builds_remote_swiglu_and_matches_model_card(tmp_path, monkeypatch, upstream):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, monkeypatch, upstream)
    ad = _adapter(tmp_path, d)
    expected = REMOTE_DIFFERENCES_5X if TF5 else REMOTE_DIFFERENCES_4X
    assert set(ad.describe()["compat"]) == expected  # known before loading: config.json is local
    ad.load()

    # the class the model card loads, from auto_map: its backbone, not transformers' native ESM
    native = transformers.models.esm.modeling_esm
    assert ad.remote_class.__name__ == "EsmForMaskedLM"
    assert ad.remote_class.__module__.startswith("transformers_modules.")
    assert type(ad.model_).__name__ == "EsmModel" and type(ad.model_).__module__ == ad.remote_class.__module__
    assert not isinstance(ad.model_, native.EsmModel)
    cfg = ad.model_.config
    for layer in ad.model_.encoder.layer:  # bias-free SwiGLU: one projection to 2 x intermediate
        assert layer.intermediate.dense.out_features == 2 * cfg.intermediate_size
        assert layer.intermediate.dense.bias is None and layer.output.dense.bias is None
    assert ad.model_.encoder.layer[0].attention.self.rotary_embeddings is not None
    assert set(ad.describe()["compat"]) == expected

    X = rf.embed_in_batches(ad, SEQS)
    tok, ref_model = _model_card(d, monkeypatch)
    assert type(ref_model.esm).__qualname__ == type(ad.model_).__qualname__
    assert type(ref_model.esm).__module__.rsplit(".", 1)[-1] == type(ad.model_).__module__.rsplit(".", 1)[-1]
    ref = _recipe(tok, ref_model, SEQS)
    assert X.shape == ref.shape == (len(SEQS), cfg.hidden_size)
    assert rf.max_rel_error(X, ref) <= 1e-5, rf.max_rel_error(X, ref)
    # the fixture exercises what it claims: unknown runs, N, truncation, no end token
    ids = [list(ad.prepare(s)) for s in SEQS]
    assert all(i[0] == tok.cls_token_id and tok.eos_token_id not in i for i in ids)
    assert tok.unk_token_id in ids[3] and tok.convert_tokens_to_ids("N") in ids[2]
    assert len(ids[-1]) == MAX_TOKENS

    if not TF5:  # transformers 4.x runs the model card itself, from_pretrained and all
        card = transformers.AutoModelForMaskedLM.from_pretrained(str(d), trust_remote_code=True).eval()
        assert type(card).__qualname__ == "EsmForMaskedLM"
        assert rf.max_rel_error(X, _recipe(tok, card, SEQS)) <= 1e-5


def test_v2_intermediate_layer_matches_model_card(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, monkeypatch)
    ad = _adapter(tmp_path, d, layer=1)
    X = rf.embed_in_batches(ad, SEQS[:5])
    tok, ref_model = _model_card(d, monkeypatch)
    ref = _recipe(tok, ref_model, SEQS[:5], layer=1)
    assert rf.max_rel_error(X, ref) <= 1e-5, rf.max_rel_error(X, ref)


# -- 2. the trap: plain AutoModel builds the native ESM (or fails) ----------------------------
def test_plain_automodel_on_v2_builds_native_esm_or_fails(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, monkeypatch)
    raw = json.loads((d / "config.json").read_text())
    assert "model_type" not in raw and "AutoModel" not in raw["auto_map"]
    config = transformers.AutoConfig.from_pretrained(str(d), trust_remote_code=True)
    assert type(config).__name__ == "EsmConfig" and type(config).__module__.startswith("transformers_modules.")
    native = transformers.models.esm.modeling_esm
    # the Auto mapping resolves the remote config class by its name -> transformers' own EsmModel
    assert transformers.AutoModel._model_mapping[type(config)] is native.EsmModel

    built = []
    orig_init = native.EsmModel.__init__

    def spy(self, *a, **kw):
        built.append(type(self))
        return orig_init(self, *a, **kw)

    monkeypatch.setattr(native.EsmModel, "__init__", spy)
    try:
        m = transformers.AutoModel.from_pretrained(str(d), trust_remote_code=True)
    except Exception as exc:  # noqa: BLE001 - 4.x: size mismatch of the SwiGLU weights; 5.x: native code on a foreign config
        assert built == [native.EsmModel], (built, exc)
    else:
        assert isinstance(m, native.EsmModel) and built
        assert m.encoder.layer[0].intermediate.dense.out_features == config.intermediate_size  # GELU shape


def test_v2_unused_weights_may_be_missing_others_may_not(tmp_path, monkeypatch):
    from safetensors.torch import load_file, save_file

    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, monkeypatch)
    full = rf.embed_in_batches(_adapter(tmp_path, d), SEQS[:4])
    state = load_file(str(d / "model.safetensors"))
    dropped = {k: v for k, v in state.items() if not k.startswith(("esm.contact_head.", "lm_head."))}
    assert len(dropped) < len(state)
    save_file(dropped, str(d / "model.safetensors"), metadata={"format": "pt"})
    np.testing.assert_array_equal(rf.embed_in_batches(_adapter(tmp_path, d), SEQS[:4]), full)
    key = "esm.encoder.layer.1.intermediate.dense.weight"
    save_file({k: v for k, v in dropped.items() if k != key}, str(d / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(RuntimeError, match=key.replace(".", r"\.")):
        _adapter(tmp_path, d).load()


def test_v2_without_trust_remote_code_is_refused(tmp_path, monkeypatch):
    d = _checkpoint(tmp_path, monkeypatch)
    ad = _adapter(tmp_path, d, trust=False)
    with pytest.raises(ExtractError, match="trust_remote_code"):
        ad.load()


# -- NT v1: native ESM, as its model card loads it --------------------------------------------
def test_v1_native_esm_matches_model_card(tmp_path):
    torch.set_num_threads(1)
    d = tmp_path / "ntv1"
    shutil.copytree(rf.fixture_dir("nt-v1"), d)
    config = transformers.AutoConfig.from_pretrained(str(d))
    torch.manual_seed(0)
    mlm = transformers.EsmForMaskedLM(config)
    with torch.no_grad():
        for p in mlm.parameters():
            p.normal_(0, 0.2)
    mlm.save_pretrained(str(d))
    mf = rf.model_file(tmp_path / "v1.toml", "ntv1-tiny", d, family="nucleotide-transformer", trust_remote_code=True,
                    max_length=MAX_TOKENS, length_unit="tokens", pooling="mean", special_tokens="include")
    (spec,) = load_model_file(mf)
    ad = make_adapter(spec, ExtractOptions(dtype="float32"), "cpu")
    assert "compat" not in ad.describe()  # native: no difference runs, the key is as before
    ad.load()
    assert "compat" not in ad.describe() and ad.is_remote() is False
    assert ad.remote_class is None and type(ad.model_) is transformers.models.esm.modeling_esm.EsmModel
    X = rf.embed_in_batches(ad, SEQS)
    tok = transformers.AutoTokenizer.from_pretrained(str(d))
    card = transformers.AutoModelForMaskedLM.from_pretrained(str(d)).eval()
    assert len(tok) == config.vocab_size + 2 and tok.eos_token is None  # <eos>/<bos> lie past the model's vocabulary
    assert rf.max_rel_error(X, _recipe(tok, card, SEQS)) <= 1e-5


def test_differences_are_registered():
    for name in REMOTE_DIFFERENCES_5X:
        assert compat.difference(name).upstream
    assert compat.applies("defer-init-weights-to-post-init", "5.25.0")
    assert not compat.applies("defer-init-weights-to-post-init", "4.57.6")


def test_local_directory_in_nt_v2_layout_is_detected_as_nucleotide_transformer():
    from geneb.extract.adapters.hf_auto import detect_family

    assert detect_family(rf.fixture_dir("nt-v2")) == ("nucleotide-transformer", True)
