"""GENA-LM on faithful stand-ins of the authors' remote `modeling_bert.py` (both import styles).

Fixtures: `tests/fixtures/remote/gena-lm/t2t` (the hub layout of gena-lm-bert-base-t2t and
-large-t2t, -t2t-multi: `model_type: bert`, `auto_map` AutoModel -> the remote `BertForMaskedLM`,
the file at AIRI-Institute/GENA_LM 8c441a4 that imports `find_pruneable_heads_and_indices`
from `transformers.pytorch_utils`; a multi-species BPE with N and the `N{10,}` -> `-`
normalizer) and `.../human` (gena-lm-bert-base: AutoModel -> `BertForPreTraining`, the older
d338b2e import of the helpers from `transformers.modeling_utils`, which fails on 4.57 too; a
human BPE without N or lower case). Runs under transformers 5.x (`.venv`) and 4.x (`.venv-tf4`).

The reference is the model card's recipe built here without geneb's loader: the auto_map class
(`cls(config)` + `load_state_dict`), `output_hidden_states=True`, `hidden_states[-1]`,
attention-mask mean. The pieces 4.x had and the remote code needs are supplied by this test's
own minimal versions.

Set GENEB_GENA_LM_UPSTREAM to a directory holding the real `modeling_bert.py` of the t2t
repositories (GENA_LM `src/gena_lm/modeling_bert.py` @ 8c441a4) to run the t2t checks on it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import remote_fixtures as rf  # noqa: E402

from geneb.catalog.models import load_model_file  # noqa: E402
from geneb.extract.adapters import ExtractError, ExtractOptions, make_adapter  # noqa: E402

TF5 = int(transformers.__version__.split(".")[0]) >= 5
MAX_TOKENS = 24
SEQS = [
    "ACGTACGTAGGCTTACGA",
    "ACGNNTTACGTAGGCAT",  # N inside
    "acgtACGTACGTTTG",  # lower case
    "ACGT" + "N" * 12 + "TTGA",  # a run of >= 10 N (the t2t normalizer makes it one '-')
    "GATTACA" * 3,
    "TTGCA",
    "ACGTTGCANNACGTAGCTAGCTAGGATCCAGT" * 4,  # truncated at MAX_TOKENS
]
SAVE_FROM = {"t2t": "BertForMaskedLM", "human": "BertForPreTraining"}


def _upstream() -> Path | None:
    up = os.environ.get("GENEB_GENA_LM_UPSTREAM")
    return Path(up) if up else None


def _cases() -> list:
    params = [pytest.param("t2t", None, id="t2t"), pytest.param("human", None, id="human")]
    if _upstream():
        params.append(pytest.param("t2t", _upstream(), id="t2t-upstream"))
    return params


def _checkpoint(tmp: Path, kind: str, upstream: Path | None = None) -> Path:
    src = None
    if upstream is not None:
        src = tmp / f"gena-{kind}-upstream-src"
        shutil.copytree(rf.fixture_dir(f"gena-lm/{kind}"), src, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        shutil.copy(upstream / "modeling_bert.py", src / "modeling_bert.py")
    # remote_fixtures imports the remote code with the removed helpers importable (as geneb does)
    return rf.checkpoint(f"gena-lm/{kind}", tmp / f"gena-{kind}", save_from="AutoModel", source=src)


def _adapter(tmp: Path, d: Path, *, trust: bool = True, layer: int | None = None):
    mf = rf.model_file(tmp / "models.toml", "gena-tiny", d, family="gena-lm", trust_remote_code=trust,
                    max_length=MAX_TOKENS, length_unit="tokens", length_policy="tokenizer-truncate",
                    pooling="mean", special_tokens="include")
    (spec,) = load_model_file(mf)
    return make_adapter(spec, ExtractOptions(layer=layer), "cpu")


def _model_card(d: Path, kind: str, monkeypatch: pytest.MonkeyPatch):
    """(tokenizer, the auto_map head class with the rf.checkpoint's weights), built by hand."""
    from safetensors.torch import load_file

    tok = transformers.AutoTokenizer.from_pretrained(str(d))
    cls = rf.remote_class(d, "AutoModel")
    assert cls.__name__ == SAVE_FROM[kind]
    config = transformers.AutoConfig.from_pretrained(str(d))
    if TF5:  # what 5.x removed, supplied by this test
        for name in ("is_decoder", "add_cross_attention"):
            if not hasattr(config, name):
                setattr(config, name, False)
        if not hasattr(config, "pruned_heads"):
            config.pruned_heads = {}
        base = [k for k in cls.__mro__ if k.__module__ == cls.__module__][-1]
        monkeypatch.setattr(base, "get_extended_attention_mask", rf.ref_extended_attention_mask, raising=False)
        monkeypatch.setattr(base, "get_head_mask", rf.ref_head_mask, raising=False)
    model = cls(config)
    result = model.load_state_dict(load_file(str(d / "model.safetensors")), strict=False)
    # tied tensors are saved once (the decoder bias is `predictions.bias`; on 4.x the decoder
    # weight is the word embedding)
    assert not result.unexpected_keys, result
    assert set(result.missing_keys) <= {"cls.predictions.decoder.bias", "cls.predictions.decoder.weight"}, result
    assert model.cls.predictions.decoder.bias is model.cls.predictions.bias
    if "cls.predictions.decoder.weight" in result.missing_keys:
        assert model.cls.predictions.decoder.weight is model.bert.embeddings.word_embeddings.weight
    return tok, model.eval()


def _recipe(tok, model, seqs, layer: int = -1) -> np.ndarray:
    return rf.masked_mean_reference(tok, model, seqs, MAX_TOKENS, layer)


@pytest.mark.parametrize("kind,upstream", _cases())
def test_adapter_matches_model_card(tmp_path, monkeypatch, kind, upstream):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, kind, upstream)
    ad = _adapter(tmp_path, d)
    ad.load()
    assert ad.remote_class.__name__ == SAVE_FROM[kind]
    assert type(ad.model_).__name__ == "BertModel" and type(ad.model_).__module__.startswith("transformers_modules.")
    assert not isinstance(ad.model_, transformers.BertModel)
    compat_names = set(ad.describe()["compat"])
    assert {"class-from-auto-map", "build-outside-meta"} <= compat_names
    assert ("add-get-head-mask" in compat_names) == TF5
    X = rf.embed_in_batches(ad, SEQS)
    tok, card = _model_card(d, kind, monkeypatch)
    ref = _recipe(tok, card, SEQS)
    assert X.shape == ref.shape
    assert rf.max_rel_error(X, ref) <= 1e-5, rf.max_rel_error(X, ref)
    # the fixture exercises what it claims
    ids = [list(ad.prepare(s)) for s in SEQS]
    assert all(i[0] == tok.cls_token_id for i in ids) and len(ids[-1]) == MAX_TOKENS
    if kind == "human":  # no N, no lower case: [UNK]
        assert tok.unk_token_id in ids[1] and tok.unk_token_id in ids[2]
        assert ad.audit(SEQS[:4], "t").unknown_bases > 0
    else:  # N is in the vocabulary; >= 10 N become one '-' token
        assert tok.unk_token_id not in ids[1] and tok.convert_tokens_to_ids("-") in ids[3]
    if not TF5 and kind == "t2t":  # 4.57 runs the model card itself
        card2 = transformers.AutoModel.from_pretrained(str(d), trust_remote_code=True).eval()
        assert rf.max_rel_error(X, _recipe(tok, card2, SEQS)) <= 1e-5


def test_intermediate_layer_matches_model_card(tmp_path, monkeypatch):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, "t2t")
    X = rf.embed_in_batches(_adapter(tmp_path, d, layer=1), SEQS[:5])
    tok, card = _model_card(d, "t2t", monkeypatch)
    assert rf.max_rel_error(X, _recipe(tok, card, SEQS[:5], layer=1)) <= 1e-5


def test_plain_from_pretrained_fails_where_the_issue_says(tmp_path):
    """t2t: `find_pruneable_heads_and_indices` import fails on 5.x; human: the modeling_utils
    import fails on 4.57 as well. geneb loads both (test above)."""
    import sys

    t2t = _checkpoint(tmp_path, "t2t")
    human = _checkpoint(tmp_path, "human")
    for name in [m for m in sys.modules if m.startswith("transformers_modules.")]:
        del sys.modules[name]  # imported above with geneb's restored helpers: import afresh
    with pytest.raises(ImportError, match="modeling_utils|apply_chunking_to_forward|find_pruneable"):
        transformers.AutoModel.from_pretrained(str(human), trust_remote_code=True)
    if TF5:
        with pytest.raises(ImportError, match="find_pruneable_heads_and_indices"):
            transformers.AutoModel.from_pretrained(str(t2t), trust_remote_code=True)


def test_missing_last_layer_norm_weights_are_an_error(tmp_path):
    from safetensors.torch import load_file, save_file

    d = _checkpoint(tmp_path, "t2t")
    state = load_file(str(d / "model.safetensors"))
    key = next(k for k in state if "encoder.layer.1.output.dense.weight" in k)
    save_file({k: v for k, v in state.items() if k != key}, str(d / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(RuntimeError, match=key.removeprefix("bert.").replace(".", r"\.")):
        _adapter(tmp_path, d).load()


def test_without_trust_remote_code_is_refused(tmp_path):
    d = _checkpoint(tmp_path, "t2t")
    with pytest.raises(ExtractError, match="trust_remote_code"):
        _adapter(tmp_path, d, trust=False).load()
