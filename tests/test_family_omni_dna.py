"""Omni-DNA family on the real ai2-olmo code (PyPI ai2-olmo 0.6.0: hf_olmo + olmo.model.OLMo).

The checkpoint is tiny and random, built here from the real `hf_olmo.OLMoConfig` /
`OLMoForCausalLM` (2 layers, d_model 32) and written in the Omni-DNA hub layout: a
`config.json` of `olmo.config.ModelConfig` fields with `model_type: olmo-gfm` and an
`auto_map` naming wrapper files this directory does not hold (geneb must not need them),
`model.safetensors` with hf_olmo's keys (`model.transformer.*`, no layer-norm weights), and a
`tokenizer.json` read by the real `hf_olmo.OLMoTokenizerFast`. The tokenizer's contents are
invented (the hub's is a DNA BPE this repository does not have): a small BPE over upper-case
A/C/G/T with an `[UNK]` token and no `N` nor lower case, and a `[CLS] ... [SEP]` template, so
that unknown bases, special tokens and truncation are all exercised.

The reference is the usual Omni-DNA recipe written here by hand: the real class built from the
config and `load_state_dict(strict=True)` (on transformers 4.x also `from_pretrained` of the
`hf_olmo` layout), each sequence tokenised alone (`truncation=True, max_length=250`),
`output_hidden_states=True`, `hidden_states[-1]`, attention-mask mean. Runs under
transformers 5.x (`.venv`) and 4.x (`.venv-tf4`).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
if importlib.util.find_spec("hf_olmo") is None:
    pytest.skip("ai2-olmo is not installed (pip install --no-deps -r tests/requirements-realcode.txt)",
                allow_module_level=True)

from remote_fixtures import embed_in_batches, masked_mean_reference, max_rel_error, model_file  # noqa: E402

from geneb.catalog import geneb_models  # noqa: E402
from geneb.catalog.models import load_model_file  # noqa: E402
from geneb.extract import compat  # noqa: E402
from geneb.extract.adapters import (  # noqa: E402
    ExtractError,
    ExtractOptions,
    make_adapter,
    omni_dna,  # noqa: E402
)

TF5 = int(transformers.__version__.split(".")[0]) >= 5
MAX_TOKENS = 250  # the catalog's Omni-DNA limit
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
BASES = ["A", "C", "G", "T"]
MERGES = [("A", "C"), ("G", "T"), ("AC", "GT"), ("T", "T"), ("A", "A"), ("C", "A")]
SEQS = [
    "ACGTACGTA",
    "ACGT",
    "ACGNNTTACGTAGGCAT",  # N inside
    "acgtACGTACGTTTG",  # lower case -> [UNK] each
    "ACGTnACGTTAGC",
    "N",
    "GATTACA" * 11,
    "TGCATGCANNTGCAGCTAGCTAGGATCCAGT" * 12,  # 372 bases, > 250 tokens: truncated
]
DIFFS_5X = {"hf-olmo-classes", "olmo-io-import-placeholders", "build-outside-meta", "olmo-tie-weights-kwargs",
            "olmo-explicit-forward-flags"}
DIFFS_4X = {"hf-olmo-classes", "olmo-io-import-placeholders", "build-outside-meta"}


def _olmo_fields(vocab: int) -> dict:
    """ModelConfig fields of a tiny Omni-DNA-like OLMo (Omni-DNA-1B's values, shrunk)."""
    return {
        "activation_type": "swiglu", "alibi": False, "attention_dropout": 0.0, "attention_layer_norm": False,
        "attention_layer_norm_with_affine": False, "bias_for_layer_norm": False, "block_group_size": 1,
        "block_type": "sequential", "clip_qkv": None, "d_model": 32, "embedding_dropout": 0.0,
        "embedding_size": 64, "flash_attention": False, "include_bias": False, "layer_norm_type": "default",
        "layer_norm_with_affine": False, "max_sequence_length": MAX_TOKENS, "mlp_hidden_size": None,
        "mlp_ratio": 8, "multi_query_attention": False, "n_heads": 4, "n_kv_heads": None, "n_layers": 2,
        "precision": "amp_bf16", "residual_dropout": 0.0, "rope": True, "rope_full_precision": True,
        "scale_logits": False, "vocab_size": vocab, "weight_tying": True, "pad_token_id": 0, "eos_token_id": 3,
    }


def _tokenizer_files(d: Path) -> int:
    from tokenizers import Tokenizer, models, processors

    vocab = {t: i for i, t in enumerate(SPECIALS + BASES)}
    for a, b in MERGES:
        vocab[a + b] = len(vocab)
    tok = Tokenizer(models.BPE(vocab=vocab, merges=MERGES, unk_token="[UNK]"))
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", vocab["[CLS]"]), ("[SEP]", vocab["[SEP]"])])
    tok.save(str(d / "tokenizer.json"))
    (d / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "OLMoTokenizerFast", "model_max_length": 1000000000000000019884624838656,
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "mask_token": "[MASK]", "model_input_names": ["input_ids", "attention_mask"],
        "auto_map": {"AutoTokenizer": [None, "tokenization_olmo_fast.OLMoTokenizerFast"]},
    }))
    (d / "special_tokens_map.json").write_text(json.dumps({
        "pad_token": "[PAD]", "unk_token": "[UNK]", "cls_token": "[CLS]", "sep_token": "[SEP]",
        "mask_token": "[MASK]"}))
    return len(vocab)


def _checkpoint(d: Path, *, model_type: str = "olmo-gfm", seed: int = 0) -> Path:
    """The Omni-DNA hub layout with random weights of the real hf_olmo classes."""
    from safetensors.torch import save_file

    hf_olmo = omni_dna.import_hf_olmo()
    d.mkdir(parents=True)
    fields = _olmo_fields(_tokenizer_files(d))
    cfg = {"architectures": ["OLMoForCausalLM"], **fields, "model_type": model_type, "torch_dtype": "float32"}
    if model_type == "olmo-gfm":
        cfg["auto_map"] = {"AutoConfig": "configuration_olmo.OLMoConfig",
                           "AutoModelForCausalLM": "modeling_olmo.OLMoForCausalLM"}
    (d / "config.json").write_text(json.dumps(cfg, indent=2))
    model = hf_olmo.OLMoForCausalLM(hf_olmo.OLMoConfig(**fields), init_params=True)
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.2)
    save_file({k: v.detach().clone().contiguous() for k, v in model.state_dict().items()},
              str(d / "model.safetensors"), metadata={"format": "pt"})
    return d


def _spec(tmp: Path, d: Path, **fields):
    mf = model_file(tmp / "models.toml", "omni-dna-tiny", d, family="omni-dna", trust_remote_code=True,
                    max_length=MAX_TOKENS, length_unit="tokens", length_policy="tokenizer-truncate",
                    pooling="mean", special_tokens="include", **fields)
    (spec,) = load_model_file(mf)
    return spec, mf


def _adapter(tmp: Path, d: Path, layer: int | None = None):
    spec, _ = _spec(tmp, d)
    return make_adapter(spec, ExtractOptions(dtype="float32", layer=layer), "cpu")


def _reference_model(d: Path):
    """The real class from config.json's ModelConfig fields, the checkpoint loaded strictly."""
    from olmo.config import ModelConfig
    from safetensors.torch import load_file

    hf_olmo = omni_dna.import_hf_olmo()
    raw = json.loads((d / "config.json").read_text())
    model = hf_olmo.OLMoForCausalLM(hf_olmo.OLMoConfig(**{k: raw[k] for k in ModelConfig.__dataclass_fields__
                                                           if k in raw}))
    model.load_state_dict(load_file(str(d / "model.safetensors")), strict=True)
    return model.eval()


def _recipe(tok, model, seqs, layer: int = -1) -> np.ndarray:
    return masked_mean_reference(tok, model, seqs, MAX_TOKENS, layer, use_cache=False, return_dict=True)


# -- the real code, the recipe's vectors ------------------------------------------------------
def test_adapter_builds_hf_olmo_and_matches_the_recipe(tmp_path):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path / "omni")
    ad = _adapter(tmp_path, d)
    assert set(ad.describe()["compat"]) == (DIFFS_5X if TF5 else DIFFS_4X)
    assert ad.describe()["model_code"].startswith("ai2-olmo 0.6.0 ")
    X = embed_in_batches(ad, SEQS)
    hf_olmo = sys.modules["hf_olmo"]
    assert type(ad.model_) is hf_olmo.OLMoForCausalLM and type(ad.tokenizer_) is hf_olmo.OLMoTokenizerFast
    assert type(ad.model_.model).__module__ == "olmo.model" and len(ad.model_.model.transformer.blocks) == 2
    assert not any(m.startswith("transformers_modules") for m in map(str, [type(ad.model_).__module__]))
    if TF5:
        assert hasattr(ad.model_, "all_tied_weights_keys")  # post_init ran

    tok = hf_olmo.OLMoTokenizerFast.from_pretrained(str(d))
    ref = _recipe(tok, _reference_model(d), SEQS)
    assert X.shape == ref.shape == (len(SEQS), 32)
    assert max_rel_error(X, ref) <= 1e-5, max_rel_error(X, ref)
    assert np.abs(X).min(axis=1).max() > 0 and max_rel_error(X[:1], X[1:2]) > 1e-2  # vectors are not degenerate

    # the fixture exercises what it claims: [CLS] ... [SEP], [UNK] for N and lower case, truncation
    ids = [list(ad.prepare(s)) for s in SEQS]
    assert all(i[0] == tok.cls_token_id and i[-1] == tok.sep_token_id for i in ids)
    assert ids[2].count(tok.unk_token_id) == 2 and ids[3].count(tok.unk_token_id) == 4
    assert len(ids[-1]) == MAX_TOKENS
    audit = ad.audit(SEQS, "t/train")
    assert audit.characters == {"N": "unknown", "a": "unknown", "c": "unknown", "g": "unknown", "n": "unknown",
                                "t": "unknown"}
    assert audit.unknown_bases == sum(sum(s.count(c) for c in "Nacgtn") for s in SEQS)


def test_intermediate_layer_matches_the_recipe(tmp_path):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path / "omni")
    hf_olmo = omni_dna.import_hf_olmo()
    tok = hf_olmo.OLMoTokenizerFast.from_pretrained(str(d))
    ref_model = _reference_model(d)
    for layer in (0, 1):
        X = embed_in_batches(_adapter(tmp_path, d, layer=layer), SEQS[:5])
        ref = _recipe(tok, ref_model, SEQS[:5], layer=layer)
        assert max_rel_error(X, ref) <= 1e-5, (layer, max_rel_error(X, ref))
    with pytest.raises(ExtractError, match="layer 7 does not exist"):
        embed_in_batches(_adapter(tmp_path, d, layer=7), SEQS[:1])


def test_hf_olmo_layout_and_what_plain_loading_does(tmp_path):
    """A `model_type: hf_olmo` checkpoint (the hf_olmo layout itself) gives the same vectors;
    AutoModel never works, AutoModelForCausalLM.from_pretrained only on transformers 4.x."""
    torch.set_num_threads(1)
    a = _checkpoint(tmp_path / "gfm")
    b = _checkpoint(tmp_path / "hf", model_type="hf_olmo")
    X = embed_in_batches(_adapter(tmp_path, b), SEQS)
    np.testing.assert_array_equal(X, embed_in_batches(_adapter(tmp_path, a), SEQS))
    with pytest.raises(ValueError, match="Unrecognized configuration class"):
        transformers.AutoModel.from_pretrained(str(b))
    if TF5:
        with pytest.raises(AttributeError, match="all_tied_weights_keys"):
            transformers.AutoModelForCausalLM.from_pretrained(str(b))
    else:  # the model card's path on 4.x: from_pretrained, then the recipe
        card = transformers.AutoModelForCausalLM.from_pretrained(str(b)).eval()
        tok = sys.modules["hf_olmo"].OLMoTokenizerFast.from_pretrained(str(b))
        assert max_rel_error(X, _recipe(tok, card, SEQS)) <= 1e-5


def test_missing_weight_and_foreign_config_are_refused(tmp_path):
    from safetensors.torch import load_file, save_file

    d = _checkpoint(tmp_path / "omni")
    state = load_file(str(d / "model.safetensors"))
    key = "model.transformer.blocks.1.ff_proj.weight"
    save_file({k: v for k, v in state.items() if k != key}, str(d / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(RuntimeError, match=key.replace(".", r"\.")):
        _adapter(tmp_path, d).load()
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg, "model_type": "llama"}))
    with pytest.raises(ExtractError, match="not an OLMo checkpoint"):
        _adapter(tmp_path, d).load()


# -- the CLI, end to end -------------------------------------------------------------------
def test_geneb_embed_cli_stores_the_recipe_vectors(tmp_path):
    import csv

    from geneb.cli import main
    from geneb.data import load_task
    from geneb.extract.runner import store_model_id
    from geneb.store import open_store

    torch.set_num_threads(1)
    d = _checkpoint(tmp_path / "omni")
    spec, mf = _spec(tmp_path, d)
    data = tmp_path / "data"
    data.mkdir()
    with open(data / "t.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "split"])
        for i, s in enumerate(SEQS * 2):
            w.writerow([s, i % 2, "train" if i < len(SEQS) else "test"])
    store = tmp_path / "s.zarr"
    rc = main(["embed", "--model-file", str(mf), "--models", "omni-dna-tiny", "--data", str(data), "--tasks", "t",
               "--store", str(store), "--device", "cpu", "--no-progress"])
    assert rc == 0
    st = open_store(store)
    mid = store_model_id(spec)
    hf_olmo = omni_dna.import_hf_olmo()
    task = load_task("t", data)  # what geneb reads: the task's sequences as its loader gives them
    seqs = task.train.sequences
    assert list(seqs) == [s.upper() for s in SEQS]
    ref = _recipe(hf_olmo.OLMoTokenizerFast.from_pretrained(str(d)), _reference_model(d), seqs)
    for split in ("train", "test"):
        X = st.X(mid, "t", split)
        assert X.dtype == np.float32 and max_rel_error(X, ref) <= 1e-5, (split, max_rel_error(X, ref))
    tok = st.provenance(mid, "t")["tokenization"]
    assert tok["characters"] == {"N": "unknown"}
    assert tok["unknown_bases"] == 2 * sum(s.count("N") for s in seqs) > 0


# -- import, availability, registration -------------------------------------------------------
def test_import_leaves_no_placeholder_and_keeps_real_packages():
    hf_olmo = omni_dna.import_hf_olmo()
    assert hf_olmo.OLMoForCausalLM.__module__ == "hf_olmo.modeling_olmo"
    assert not [n for n, m in sys.modules.items() if vars(m).get("__geneb_placeholder__")]
    util = sys.modules["olmo.util"]
    for name in ("rich", "requests", "boto3", "datasets"):
        real = importlib.util.find_spec(name) is not None
        assert getattr(util, name).__dict__.get("__geneb_placeholder__", False) is (not real), name
        assert (name in omni_dna.PLACEHOLDERS_USED) is (not real)
    with omni_dna.io_placeholders() as added:
        if "datasets" in added:
            import datasets

            with pytest.raises(AttributeError, match="datasets is not installed"):
                datasets.load_dataset  # noqa: B018
    assert "datasets" not in sys.modules or not vars(sys.modules["datasets"]).get("__geneb_placeholder__")


def test_catalog_rows_and_missing_package_hint(monkeypatch):
    rows = [m for m in geneb_models() if m.family == "omni-dna"]
    assert {m.weights for m in rows} == {"zehui127/Omni-DNA-300M", "zehui127/Omni-DNA-1B"}
    for m in rows:
        assert m.pooling == "mean" and m.layer == -1 and m.max_length == MAX_TOKENS and m.special_tokens == "include"
    cls = omni_dna.OmniDNAAdapter
    assert "hf_olmo" in cls.hand_installed and set(cls.hand_installed) <= set(cls.requires)
    monkeypatch.setattr(cls, "requires", ("torch", "transformers", "hf_olmo_not_here"))
    monkeypatch.setattr(cls, "hand_installed", ("hf_olmo_not_here",))  # ai2-olmo's module, missing here
    ok, why = cls.check_available(rows[0])
    assert not ok and "hf_olmo_not_here" in why and "ai2-olmo==0.6.0" in why and "geneb[" not in why
    monkeypatch.setattr(cls, "requires", ("torch", "transformers_not_here", "hf_olmo_not_here"))
    ok, why = cls.check_available(rows[0])  # the extra first, then the hand-pinned install
    assert "pip install 'geneb[extract]', then pip install --no-deps ai2-olmo==0.6.0" in why
    monkeypatch.setattr(cls, "requires", ("torch", "transformers", "hf_olmo_not_here"))
    from geneb.extract.adapters import MissingExtraError

    with pytest.raises(MissingExtraError, match=r"Omni-DNA.*ai2-olmo==0\.6\.0"):
        make_adapter(rows[0])


def test_differences_are_registered():
    for name in DIFFS_5X:
        d = compat.difference(name)
        assert d.upstream and d.construct and d.why
    assert compat.applies("olmo-tie-weights-kwargs", "5.25.0") and not compat.applies("olmo-tie-weights-kwargs", "4.57.6")
    assert compat.applies("olmo-explicit-forward-flags", "5.25.0")
    assert not compat.applies("olmo-explicit-forward-flags", "4.57.6")
