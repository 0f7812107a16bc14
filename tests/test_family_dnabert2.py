"""DNABERT-2 / DNABERT-S on a faithful stand-in of their hub remote code (MosaicBERT).

Fixture: `tests/fixtures/remote/dnabert2` (zhihan1996/DNABERT-2-117M's hub layout, read in its
GitHub copy ashal-ali/CS224N_DNABERT2 @ d064dec: `auto_map` AutoConfig -> the remote
`configuration_bert.BertConfig`, AutoModel -> `bert_layers.BertModel`; stand-in `bert_layers.py`
reproducing the ALiBi tensor built in `BertEncoder.__init__` as a plain attribute, the guarded
triton import, unpadded encoder rows, the tuple output; a BPE `tokenizer.json` without N and
without lower case, `[UNK]` id 0, `[PAD]` id 3). Checkpoints are saved from `BertForMaskedLM`
(keys `bert.*`, `cls.*`), as the hub's `pytorch_model.bin` is. Runs under transformers 5.x
(`.venv`) and 4.x (`.venv-tf4`).

The reference is the model card's recipe built here without geneb's loader: `AutoTokenizer`,
`hidden_states = model(input_ids)[0]`, the mean over every token (DNABERT-2) or the `[CLS]`
vector (DNABERT-S, as the GENEB reference took it). On transformers 5 `from_pretrained` cannot
build the model (the meta device); the reference then builds the class on the CPU and loads
the state dict, supplying the 4.x config defaults itself.

Set GENEB_DNABERT2_UPSTREAM to a directory holding the real hub `bert_layers.py`,
`bert_padding.py`, `configuration_bert.py`, `flash_attn_triton.py` (and optionally
`tokenizer.json`) to run the same checks on them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
pytest.importorskip("einops")

import remote_fixtures as rf  # noqa: E402

from geneb.catalog.models import load_model_file  # noqa: E402
from geneb.extract import compat  # noqa: E402
from geneb.extract.adapters import ExtractError, ExtractOptions, make_adapter  # noqa: E402
from geneb.extract.adapters.dnabert2 import without_triton_import_check  # noqa: E402

TF5 = int(transformers.__version__.split(".")[0]) >= 5
REMOTE_FILES = ("bert_layers.py", "bert_padding.py", "configuration_bert.py", "flash_attn_triton.py")
SEQS = [
    "ACGTACGTAGGCTTACGA",
    "ACGNNTTACGTAGGCAT",  # N inside -> [UNK]
    "acgtACGTACGTTTG",  # lower case: not in the vocabulary -> [UNK] per base
    "NNNN",
    "GATTACA" * 9,
    "TTGCA",
    "ACGTTGCANNACGTAGCTAGCTAGGATCCAGT" * 9,  # longer than alibi_starting_size tokens: ALiBi rebuilt
]


def _sources() -> list:
    params = [pytest.param(None, id="fixture")]
    up = os.environ.get("GENEB_DNABERT2_UPSTREAM")
    if up:
        params.append(pytest.param(Path(up), id="upstream"))
    return params


def _source_dir(tmp: Path, upstream: Path | None) -> Path | None:
    if upstream is None:
        return None
    d = tmp / "dnabert2-upstream-src"
    shutil.copytree(rf.fixture_dir("dnabert2"), d, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for name in REMOTE_FILES:
        shutil.copy(upstream / name, d / name)
    if (upstream / "tokenizer.json").exists():
        shutil.copy(upstream / "tokenizer.json", d / "tokenizer.json")
    return d


def _config_overrides(upstream: Path | None) -> dict:
    if upstream is not None and (upstream / "tokenizer.json").exists():
        return {"vocab_size": 4096}
    return {}


def _checkpoint(tmp: Path, upstream: Path | None = None) -> Path:
    with without_triton_import_check():
        return rf.checkpoint("dnabert2", tmp / "dnabert2", save_from="AutoModelForMaskedLM", weights_format="bin",
                          source=_source_dir(tmp, upstream), config=_config_overrides(upstream))


def _adapter(tmp: Path, d: Path, *, pooling: str = "mean", trust: bool = True, layer: int | None = None):
    mf = rf.model_file(tmp / "models.toml", "dnabert2-tiny", d, family="dnabert2", trust_remote_code=trust,
                    max_length=512, length_unit="tokens", length_policy="tokenizer-truncate", pooling=pooling,
                    special_tokens="include")
    (spec,) = load_model_file(mf)
    return make_adapter(spec, ExtractOptions(layer=layer), "cpu")


def _model_card(d: Path):
    """(tokenizer, remote BertModel with the rf.checkpoint's weights), built by hand."""
    tok = transformers.AutoTokenizer.from_pretrained(str(d), trust_remote_code=True)
    with without_triton_import_check():
        cls = rf.remote_class(d, "AutoModel")
    config = transformers.AutoConfig.from_pretrained(str(d), trust_remote_code=True)
    for name, default in (("is_decoder", False), ("pad_token_id", None)):  # 4.x PretrainedConfig defaults
        if not hasattr(config, name):
            setattr(config, name, default)
    model = cls(config)
    state = torch.load(d / "pytorch_model.bin", map_location="cpu", weights_only=True)
    state = {k.removeprefix("bert."): v for k, v in state.items() if k.startswith("bert.")}
    result = model.load_state_dict(state, strict=False)
    assert not result.unexpected_keys and all(k.startswith("pooler.") for k in result.missing_keys), result
    return tok, model.eval()


def _recipe(tok, model, seqs, pooling: str = "mean") -> np.ndarray:
    out = []
    with torch.no_grad():
        for s in seqs:
            ids = tok(s, return_tensors="pt")["input_ids"]
            h = model(ids)[0][0]
            out.append((h.mean(0) if pooling == "mean" else h[0]).numpy())
    return np.stack(out)


@pytest.mark.parametrize("upstream", _sources())
def test_adapter_loads_the_remote_code_and_matches_model_card(tmp_path, upstream):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, upstream)
    ad = _adapter(tmp_path, d)
    ad.load()
    assert type(ad.model_).__name__ == "BertModel" and type(ad.model_).__module__.startswith("transformers_modules.")
    assert not isinstance(ad.model_, transformers.BertModel)
    enc = ad.model_.encoder
    assert "alibi" not in dict(enc.named_buffers()) and enc.alibi.device.type == "cpu"
    expected = {"class-from-auto-map", "build-outside-meta"} | ({"config-4x-defaults"} if TF5 else set())
    assert set(ad.describe()["compat"]) == expected

    X = rf.embed_in_batches(ad, SEQS)
    tok, ref_model = _model_card(d)
    ref = _recipe(tok, ref_model, SEQS)
    assert X.shape == ref.shape
    assert rf.max_rel_error(X, ref) <= 1e-5, rf.max_rel_error(X, ref)
    # the fixture exercises what it claims: N and lower case become [UNK]; long input rebuilds ALiBi
    ids = [list(ad.prepare(s)) for s in SEQS]
    assert tok.unk_token_id in ids[1] and tok.unk_token_id in ids[2] and ids[3][1:-1] == [tok.unk_token_id] * 4
    assert len(ids[-1]) > ad.model_.config.alibi_starting_size
    assert enc._current_alibi_size >= len(ids[-1])

    if not TF5:  # transformers 4.x runs the model card itself, from_pretrained and all
        with without_triton_import_check():
            card = transformers.AutoModel.from_pretrained(str(d), trust_remote_code=True).eval()
        assert rf.max_rel_error(X, _recipe(tok, card, SEQS)) <= 1e-5


def test_dnabert_s_cls_pooling_and_intermediate_layer(tmp_path):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path)
    tok, ref_model = _model_card(d)
    X = rf.embed_in_batches(_adapter(tmp_path, d, pooling="cls"), SEQS)
    assert rf.max_rel_error(X, _recipe(tok, ref_model, SEQS, pooling="cls")) <= 1e-5
    # layer 1 of 2 = the first block's output (unpadded rows, scattered back by geneb)
    captured = []
    h = ref_model.encoder.layer[0].register_forward_hook(lambda _m, _i, o: captured.append(o))
    ref = []
    with torch.no_grad():
        for s in SEQS[:4]:
            ref_model(tok(s, return_tensors="pt")["input_ids"])
            ref.append(captured[-1].mean(0).numpy())  # one sequence: every row is a real token
    h.remove()
    X1 = rf.embed_in_batches(_adapter(tmp_path, d, layer=1), SEQS[:4])
    assert rf.max_rel_error(X1, np.stack(ref)) <= 1e-5


@pytest.mark.skipif(not TF5, reason="transformers 4.x builds the model outside a meta-device context")
def test_plain_from_pretrained_fails_on_transformers_5(tmp_path):
    """The construct the fixture reproduces: ALiBi computed in __init__ under the meta device."""
    d = _checkpoint(tmp_path)
    with without_triton_import_check(), pytest.raises(Exception, match="meta|pad_token_id|is_decoder"):
        transformers.AutoModel.from_pretrained(str(d), trust_remote_code=True)


def test_unknown_bases_are_counted_as_the_tokenizer_maps_them(tmp_path):
    d = _checkpoint(tmp_path)
    ad = _adapter(tmp_path, d)
    ad.load()
    audit = ad.audit(SEQS[:4], "test")
    assert audit.unknown_bases == 2 + 4 + 4 and audit.dropped_bases == 0
    assert dict(audit.characters) == dict.fromkeys("Nacgt", "unknown")
    assert audit.sequences_affected == 3


def test_without_trust_remote_code_is_refused(tmp_path):
    d = _checkpoint(tmp_path)
    with pytest.raises(ExtractError, match="trust_remote_code"):
        _adapter(tmp_path, d, trust=False).load()


def test_differences_name_the_upstream_construct():
    for name in ("class-from-auto-map", "build-outside-meta", "config-4x-defaults"):
        assert compat.difference(name).upstream
    assert "bert_layers" in compat.difference("build-outside-meta").upstream + \
        compat.difference("build-outside-meta").construct
