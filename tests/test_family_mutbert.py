"""MutBERT on a faithful stand-in of its hub remote code (`modeling_mutbert.py`).

Fixture: `tests/fixtures/remote/mutbert` (JadenLong/MutBERT's hub layout as the authors' GitHub
copy ai4nucleome/mutBERT `2-pretrain-code/model_configs/` @ 82344d2 has it: `auto_map` with the
remote `RoPEBertConfig` / `RoPEBertModel` / `RoPEBertForMaskedLM`, `model_type: bert`; the
character tokenizer `[UNK] [CLS] [SEP] [PAD] [MASK] A C G T`, no N, no lower case). Runs under
transformers 5.x (`.venv`) and 4.x (`.venv-tf4`).

The reference is the model card's recipe ("4.2 Get the embeddings" in the authors' README),
built here without geneb's loader: `tokenizer(dna)["input_ids"]`, `F.one_hot(ids,
num_classes=len(tokenizer)).float()`, `model(one_hot).last_hidden_state`, mean over the
tokens; the model is `RoPEBertModel` built on the CPU with the checkpoint's weights, the
pieces transformers 5 removed supplied by this test's own minimal versions.

Set GENEB_MUTBERT_UPSTREAM to a directory holding the real `modeling_mutbert.py` to run the
same checks on it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import remote_fixtures as rf  # noqa: E402

from geneb.catalog.models import load_model_file  # noqa: E402
from geneb.extract.adapters import ExtractError, ExtractOptions, make_adapter  # noqa: E402

TF5 = int(transformers.__version__.split(".")[0]) >= 5
SEQS = [
    "ATCGGGGCCCATTA",  # the model card's example
    "ACGNNTTACGTAGGCAT",  # N -> [UNK]
    "acgtACGTACGTTTG",  # lower case -> [UNK]
    "NNNN",
    "GATTACA" * 5,
    "TTGCA",
    "ACGTTGCANNACGTAGCTAGCTAGGATCCAGT" * 3,  # 96 bases: longer than max_position_embeddings (64)
]


def _sources() -> list:
    params = [pytest.param(None, "AutoModelForMaskedLM", id="fixture-mlm"),
              pytest.param(None, "AutoModel", id="fixture-base")]
    up = os.environ.get("GENEB_MUTBERT_UPSTREAM")
    if up:
        params.append(pytest.param(Path(up), "AutoModelForMaskedLM", id="upstream"))
    return params


def _checkpoint(tmp: Path, upstream: Path | None = None, save_from: str = "AutoModelForMaskedLM") -> Path:
    src = None
    if upstream is not None:
        src = tmp / "mutbert-upstream-src"
        shutil.copytree(rf.fixture_dir("mutbert"), src, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        shutil.copy(upstream / "modeling_mutbert.py", src / "modeling_mutbert.py")
    # transformers 5's post_init cannot read RoPEBertForMaskedLM's 4.x list-valued
    # `_tied_weights_keys`; the rf.checkpoint is built with none (geneb loads RoPEBertModel, which
    # declares none, so this never reaches what is tested)
    attrs = {"_tied_weights_keys": None} if TF5 and save_from == "AutoModelForMaskedLM" else None
    return rf.checkpoint("mutbert", tmp / "mutbert", save_from=save_from, source=src, class_attrs=attrs)


def _adapter(tmp: Path, d: Path, *, trust: bool = True, layer: int | None = None, max_length: int | None = None):
    fields = dict(family="mutbert", trust_remote_code=trust, length_unit="tokens",
                  length_policy="tokenizer-truncate", pooling="mean", special_tokens="include")
    if max_length:
        fields["max_length"] = max_length
    mf = rf.model_file(tmp / "models.toml", "mutbert-tiny", d, **fields)
    (spec,) = load_model_file(mf)
    return make_adapter(spec, ExtractOptions(layer=layer), "cpu")


def _model_card(d: Path, monkeypatch: pytest.MonkeyPatch):
    from safetensors.torch import load_file

    tok = transformers.AutoTokenizer.from_pretrained(str(d))
    cls = rf.remote_class(d, "AutoModel")
    config = transformers.AutoConfig.from_pretrained(str(d), trust_remote_code=True)
    if TF5:
        base = [k for k in cls.__mro__ if k.__module__ == cls.__module__][-1]
        monkeypatch.setattr(base, "get_extended_attention_mask", rf.ref_extended_attention_mask, raising=False)
        monkeypatch.setattr(base, "get_head_mask", rf.ref_head_mask, raising=False)
    model = cls(config)
    state = load_file(str(d / "model.safetensors"))
    if any(k.startswith("bert.") for k in state):
        state = {k.removeprefix("bert."): v for k, v in state.items() if k.startswith("bert.")}
    result = model.load_state_dict(state, strict=False)
    assert not result.missing_keys, result
    return tok, model.eval()


def _recipe(tok, model, seqs, layer: int = -1, limit: int | None = None) -> np.ndarray:
    import torch.nn.functional as F

    out = []
    with torch.no_grad():
        for s in seqs:
            ids = tok(s, return_tensors="pt", truncation=limit is not None, max_length=limit)["input_ids"]
            soft = F.one_hot(ids, num_classes=len(tok)).float()
            o = model(soft, output_hidden_states=layer != -1)
            h = o.last_hidden_state if layer == -1 else o.hidden_states[layer]
            out.append(torch.mean(h[0], dim=0).numpy())
    return np.stack(out)


@pytest.mark.parametrize("upstream,save_from", _sources())
def test_adapter_matches_model_card(tmp_path, monkeypatch, upstream, save_from):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, upstream, save_from)
    ad = _adapter(tmp_path, d)
    ad.load()
    assert type(ad.model_).__name__ == "RoPEBertModel" and type(ad.model_).__module__.startswith("transformers_modules.")
    names = set(ad.describe()["compat"])
    assert {"class-from-auto-map", "build-outside-meta"} <= names and ("add-get-head-mask" in names) == TF5
    for name, buf in ad.model_.named_buffers():  # computed on the CPU, not left uninitialised
        assert buf.device.type == "cpu" and torch.isfinite(buf.float()).all(), name
    X = rf.embed_in_batches(ad, SEQS)
    limit = ad.model_.config.max_position_embeddings  # geneb truncates to it (the model's own limit)
    tok, card = _model_card(d, monkeypatch)
    ref = _recipe(tok, card, SEQS, limit=limit)
    assert X.shape == ref.shape
    assert rf.max_rel_error(X, ref) <= 1e-5, rf.max_rel_error(X, ref)
    ids = [list(ad.prepare(s)) for s in SEQS]
    assert tok.unk_token_id in ids[1] and tok.unk_token_id in ids[2] and len(ids[-1]) == limit
    audit = ad.audit(SEQS[:4], "t")
    assert audit.unknown_bases == 2 + 4 + 4 and audit.dropped_bases == 0


def test_intermediate_layer_matches_model_card(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path)
    X = rf.embed_in_batches(_adapter(tmp_path, d, layer=1), SEQS[:5])
    tok, card = _model_card(d, monkeypatch)
    assert rf.max_rel_error(X, _recipe(tok, card, SEQS[:5], layer=1)) <= 1e-5


@pytest.mark.skipif(not TF5, reason="the removed helper exists on transformers 4.x")
def test_plain_from_pretrained_fails_on_transformers_5(tmp_path):
    d = _checkpoint(tmp_path)
    for name in [m for m in sys.modules if m.startswith("transformers_modules.")]:
        del sys.modules[name]  # imported above with geneb's restored helpers: import afresh
    with pytest.raises(ImportError, match="find_pruneable_heads_and_indices"):
        transformers.AutoModel.from_pretrained(str(d), trust_remote_code=True)


def test_without_trust_remote_code_is_refused(tmp_path):
    d = _checkpoint(tmp_path)
    with pytest.raises(ExtractError, match="trust_remote_code"):
        _adapter(tmp_path, d, trust=False).load()
