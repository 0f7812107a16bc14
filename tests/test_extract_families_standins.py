"""Loading paths and per-model semantics of families whose real code cannot run here (CUDA
kernels, non-hub weights): `from_pretrained` is monkeypatched, or an upstream checkout is
replaced by a tiny stand-in package with the same API. Each test checks the hub id,
revision and trust_remote_code the adapter asks for, and that every stored vector equals
a plain forward pass of that sequence alone with the same pooling."""

from __future__ import annotations

import json
import textwrap

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")
nn = torch.nn

from test_extract_families_support import spec_for  # noqa: E402

from geneb.extract.adapters import (  # noqa: E402
    ExtractError,
    UnsupportedSequenceError,
    make_adapter,
)
from geneb.extract.adapters import _families_common as fc  # noqa: E402
from geneb.extract.adapters import base as adapter_base  # noqa: E402

SEQS = ["ACGTACGTTTGACCA", "ACG", "GGGGCCCCAATTACGATCGATCG", "TTAC", "ACG"]


class Out(dict):
    """A minimal ModelOutput: attribute and key access."""

    __getattr__ = dict.__getitem__


class CharTokenizer:
    """Character tokenizer with the HF call signature the adapters use."""

    def __init__(self, specials=("[CLS]", "[SEP]"), chars="ACGTN", model_max_length=10**9):
        self.vocab = {"[PAD]": 0, "[UNK]": 1, "[CLS]": 2, "[SEP]": 3}
        self.vocab.update({c: i + 4 for i, c in enumerate(chars)})
        self.specials = specials
        self.pad_token_id, self.unk_token_id, self.cls_token_id, self.sep_token_id = 0, 1, 2, 3
        self.model_max_length = model_max_length

    def __len__(self):
        return len(self.vocab)

    def __call__(self, seq, add_special_tokens=True, truncation=False, max_length=None, **_):
        ids = [self.vocab.get(c, 1) for c in seq]
        if add_special_tokens:
            ids = [2, *ids, 3]
        if truncation and max_length:
            ids = ids[:max_length]
        return {"input_ids": ids}

    def convert_ids_to_tokens(self, i):
        return {v: k for k, v in self.vocab.items()}[i]


class BiMixer(nn.Module):
    """Bidirectional, mask-less token mixer (stands in for a bidirectional SSM): every
    output depends on the whole (padded) input, so padding would leak into real rows."""

    def __init__(self, vocab=12, d=8, layers=2, soft=False):
        super().__init__()
        self.soft = soft
        self.emb = nn.Linear(vocab, d) if soft else nn.Embedding(vocab, d)
        self.blocks = nn.ModuleList(nn.Linear(2 * d, d) for _ in range(layers))
        self.config = transformers.PretrainedConfig(hidden_size=d, d_model=d, vocab_size=vocab)

    def states(self, x, mask=None):
        h = self.emb(x)
        hs = [h]
        m = torch.ones(h.shape[:2]) if mask is None else mask.float()
        for blk in self.blocks:
            ctx = (h * m[..., None]).sum(1, keepdim=True) / m.sum(1, keepdim=True)[..., None]
            h = torch.tanh(blk(torch.cat([h, ctx.expand_as(h)], -1)))
            hs.append(h)
        return hs


def _patch_pretrained(monkeypatch, auto_name, obj, calls):
    def fake(name, *args, **kwargs):
        calls.append((auto_name, name, kwargs))
        return obj

    monkeypatch.setattr(getattr(transformers, auto_name), "from_pretrained", fake)


def _force_available(monkeypatch):
    monkeypatch.setattr(adapter_base, "missing_modules", lambda mods: [])
    monkeypatch.setattr(adapter_base, "cuda_available", lambda: True)


def _check_hub_call(calls, auto_name, spec):
    name, kw = next((n, k) for a, n, k in calls if a == auto_name)
    assert name == spec.weights
    assert kw.get("revision") == spec.revision and kw.get("trust_remote_code") is True


# Caduceus: tests/test_family_caduceus.py (faithful stand-ins of its hub remote code).
# Evo: tests/test_family_evo.py (the real stripedhyena / evo-model code).

# -- eccDNAMamba: model class from an upstream checkout, output dict ------------------------

ECC_MODULE = '''
import torch
import torch.nn as nn
from transformers import PreTrainedModel, PretrainedConfig


class BiMambaForMaskedLM(PreTrainedModel):
    config_class = PretrainedConfig

    def __init__(self, config):
        super().__init__(config)
        self.emb = nn.Embedding(config.vocab_size, config.d_model)
        self.mix = nn.Linear(2 * config.d_model, config.d_model)
        self.post_init()

    def forward(self, input_ids=None, attention_mask=None, **kw):
        h = self.emb(input_ids)
        rev = torch.flip(torch.cumsum(torch.flip(h, [1]), 1), [1])  # reads right-to-left too
        return {"hidden_states": torch.tanh(self.mix(torch.cat([h, rev], -1))), "logits": None}
'''


def test_eccdnamamba_from_checkout(monkeypatch, tmp_path):
    _force_available(monkeypatch)
    code = tmp_path / "eccDNAMamba"
    code.mkdir()
    (code / "BiMambaForMaskedLM.py").write_text(ECC_MODULE)
    monkeypatch.setenv("GENEB_CODE_ECCDNAMAMBA", str(code))
    torch.manual_seed(0)
    cfg = transformers.MambaConfig(vocab_size=9, hidden_size=8)  # a config.json with a model_type
    cfg.d_model = 8
    mod = fc.import_from_checkout(code, "BiMambaForMaskedLM", spec_for("eccdnamamba", "x"))
    wdir = tmp_path / "weights"
    mod.BiMambaForMaskedLM(cfg).save_pretrained(wdir)
    calls: list = []
    _patch_pretrained(monkeypatch, "AutoTokenizer", CharTokenizer(), calls)
    spec = spec_for("eccdnamamba", str(wdir), trust_remote_code=True)
    a = make_adapter(spec)
    a.load()
    assert type(a.model_).__name__ == "BiMambaForMaskedLM" and a.dim_ == 8
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            solo = a.model_(input_ids=torch.tensor(p)[None])["hidden_states"][0].mean(0)
        np.testing.assert_allclose(x, solo.numpy(), atol=1e-6)
    monkeypatch.delenv("GENEB_CODE_ECCDNAMAMBA")
    with pytest.raises(ExtractError, match="GENEB_CODE_ECCDNAMAMBA"):
        make_adapter(spec).load()


# -- DNA-GPT: stand-in `dna_gpt` checkout, .pth weights through the env var ---------------

DNAGPT_TOKENIZER = '''
import itertools as it
import re


class KmerTokenizer:
    def __init__(self, k=3, reserved_tokens=None, dynamic_kmer=True):
        self.k = k
        self.reserved_tokens = [f"<{t}>" for t in (reserved_tokens or [])]
        start = 1 if dynamic_kmer else k
        kmers = []
        for i in range(start, k + 1):
            kmers += ["".join(m) for m in it.product("NAGCT", repeat=i)]
        self.idx_to_token = self.reserved_tokens + kmers
        self.token_to_idx = {t: i for i, t in enumerate(self.idx_to_token)}
        self.pad_id = self.token_to_idx["<P>"]
        self.unk_id = 0

    def __len__(self):
        return len(self.idx_to_token)

    def encode(self, text, max_len=-1, pad=False, device=None, to_tensor=True):
        pieces = []
        for t in re.split(r"[<>]", text):
            if not t:
                continue
            if f"<{t}>" in self.reserved_tokens:
                pieces.append(f"<{t}>")
            else:
                pieces += [t[i:i + self.k] for i in range(0, len(t), self.k)]
        ids = [self.token_to_idx.get(p, self.unk_id) for p in pieces]
        return ids[:max_len] if max_len > 0 else ids
'''

DNAGPT_MODEL = '''
import torch
import torch.nn as nn


class _Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.lin = nn.Linear(d, d, bias=False)

    def forward(self, x):  # causal: cumulative mean over the past
        return x + torch.tanh(self.lin(torch.cumsum(x, 1) / torch.arange(1, x.shape[1] + 1)[None, :, None]))


class DNAGPT(nn.Module):
    def __init__(self, vocab_size, max_len=64, num_layers=2, embedding_dim=8):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, embedding_dim), wpe=nn.Embedding(max_len, embedding_dim),
            drop=nn.Dropout(0.0), h=nn.ModuleList(_Block(embedding_dim) for _ in range(num_layers)),
            ln_f=nn.LayerNorm(embedding_dim)))
        self.mlm_head = nn.Linear(embedding_dim, vocab_size, bias=False)

    def _embedding_impl(self, tokens):
        pos = torch.arange(tokens.shape[1], device=tokens.device)[None]
        return self.transformer.wte(tokens) + self.transformer.wpe(pos)

    def _transformer_impl(self, x):
        x = self.transformer.drop(x)
        for block in self.transformer.h:
            x = block(x)
        return self.transformer.ln_f(x)

    def forward(self, token_ids):
        return self.mlm_head(self._transformer_impl(self._embedding_impl(token_ids)))

    @classmethod
    def from_name(cls, name, vocab_size):
        assert name in ("dna_gpt0.1b_h", "dna_gpt0.1b_m", "dna_gpt3b_m"), name
        return cls(vocab_size)
'''


@pytest.fixture()
def dnagpt_checkout(tmp_path, monkeypatch):
    pkg = tmp_path / "DNAGPT" / "dna_gpt"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "model.py").write_text(DNAGPT_MODEL)
    (pkg / "tokenizer.py").write_text(DNAGPT_TOKENIZER)
    monkeypatch.setenv("GENEB_CODE_DNA_GPT", str(pkg.parent))
    for m in [m for m in __import__("sys").modules if m == "dna_gpt" or m.startswith("dna_gpt.")]:
        monkeypatch.delitem(__import__("sys").modules, m)
    return pkg.parent


def test_dna_gpt_prefix_kmers_weights_and_solo_forward(dnagpt_checkout, tmp_path, monkeypatch):
    tok_mod = fc.import_from_checkout(dnagpt_checkout, "dna_gpt.tokenizer", spec_for("dna-gpt", "x"))
    model_mod = fc.import_from_checkout(dnagpt_checkout, "dna_gpt.model", spec_for("dna-gpt", "x"))
    from geneb.extract.adapters.dna_gpt import SPECIAL_TOKENS

    torch.manual_seed(0)
    tok = tok_mod.KmerTokenizer(6, SPECIAL_TOKENS, dynamic_kmer=False)  # the checkpoint decides
    ref = model_mod.DNAGPT(len(tok)).eval()
    wfile = tmp_path / "dna_gpt0.1b_h.pth"
    torch.save({"model": ref.state_dict()}, wfile)
    spec = spec_for("dna-gpt", "google-drive", model_id="dna_gpt0.1b_h", max_length=5, length_unit="tokens",
                    special_tokens="include-prefix")
    with pytest.raises(ExtractError, match="GENEB_WEIGHTS_DNA_GPT0_1B_H"):
        make_adapter(spec)  # fails at once, before any work
    monkeypatch.setenv("GENEB_WEIGHTS_DNA_GPT0_1B_H", str(wfile))
    a = make_adapter(spec)
    a.load()
    assert len(a.tokenizer_) == len(tok)  # non-dynamic vocabulary read off the checkpoint
    ids = a.prepare("ACGTACGGGGGGTTT").tolist()
    assert ids[0] == tok.token_to_idx["<R>"]
    assert ids[1:] == [tok.token_to_idx["ACGTAC"], tok.token_to_idx["GGGGGG"], 0]  # partial 6-mer -> unk, as DNAGPT
    assert len(a.prepare("A" * 60)) == 5  # max_length in tokens, prefix included
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            solo = ref._transformer_impl(ref._embedding_impl(torch.tensor(p)[None]))[0].mean(0)
        np.testing.assert_allclose(x, solo.numpy(), atol=1e-6)
    d = a.describe()
    assert d["variant"] == "dna_gpt0.1b_h" and d["prefix"] == "<R>" and d["revision"].startswith("local:")
    with pytest.raises(UnsupportedSequenceError, match="row 1: character 'X'"):
        a.validate(["ACGT", "AXGT"], "t/test")


def test_dna_gpt_checkpoint_with_pickled_training_objects_loads(dnagpt_checkout, tmp_path, monkeypatch, caplog):
    import argparse

    tok_mod = fc.import_from_checkout(dnagpt_checkout, "dna_gpt.tokenizer", spec_for("dna-gpt", "x"))
    model_mod = fc.import_from_checkout(dnagpt_checkout, "dna_gpt.model", spec_for("dna-gpt", "x"))
    from geneb.extract.adapters.dna_gpt import SPECIAL_TOKENS

    ref = model_mod.DNAGPT(len(tok_mod.KmerTokenizer(6, SPECIAL_TOKENS, dynamic_kmer=True))).eval()
    wfile = tmp_path / "dna_gpt3b_m.pth"
    torch.save({"model": ref.state_dict(), "args": argparse.Namespace(lr=1e-4)}, wfile)
    monkeypatch.setenv("GENEB_WEIGHTS_DNA_GPT3B_M", str(wfile))
    a = make_adapter(spec_for("dna-gpt", "google-drive", model_id="dna_gpt3b_m"))
    a.load()
    assert "holds non-tensor objects" in caplog.text
    p = a.prepare("ACGTAC")
    with torch.no_grad():
        solo = ref._transformer_impl(ref._embedding_impl(torch.tensor(p)[None]))[0].mean(0)
    np.testing.assert_allclose(a.embed([p])[0], solo.numpy(), atol=1e-6)


def test_dna_gpt_rejects_a_checkpoint_of_the_wrong_shape(dnagpt_checkout, tmp_path, monkeypatch):
    wfile = tmp_path / "dna_gpt3b_m.pth"
    torch.save({"transformer.wte.weight": torch.zeros(7, 8)}, wfile)
    monkeypatch.setenv("GENEB_WEIGHTS_DNA_GPT3B_M", str(wfile))
    a = make_adapter(spec_for("dna-gpt", "google-drive", model_id="dna_gpt3b_m"))
    with pytest.raises(ExtractError, match=r"vocabulary \(7\) matches no DNAGPT 6-mer tokenizer"):
        a.load()


# -- JanusDNA: Lightning checkpoint + json config, final_mlp identity ----------------------

JANUS_CONFIG = '''
from transformers import PretrainedConfig


class JanusDNAConfig(PretrainedConfig):
    model_type = "janusdna"

    def __init__(self, hidden_size=8, vocab_size=12, bidirectional=True, use_mamba_kernels=True, **kw):
        super().__init__(**kw)
        self.hidden_size, self.vocab_size = hidden_size, vocab_size
        self.bidirectional, self.use_mamba_kernels = bidirectional, use_mamba_kernels
'''

JANUS_MODEL = '''
import torch
import torch.nn as nn
from transformers.modeling_outputs import BaseModelOutput


class JanusDNAModel(nn.Module):
    def __init__(self, config):
        super().__init__()
        assert isinstance(config.bidirectional, bool)
        self.config = config
        self.emb = nn.Embedding(config.vocab_size, config.hidden_size)
        self.mix = nn.Linear(2 * config.hidden_size, config.hidden_size)
        self.final_mlp = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, input_ids, attention_mask=None, return_dict=True):
        h = self.emb(input_ids)
        rev = torch.flip(torch.cumsum(torch.flip(h, [1]), 1), [1])
        h = torch.tanh(self.mix(torch.cat([h, rev], -1)))
        return BaseModelOutput(last_hidden_state=h + self.final_mlp(h))
'''

JANUS_TOKENIZER = '''
class CaduceusTokenizer:
    def __init__(self, model_max_length, padding_side="left", **kw):
        self.model_max_length = model_max_length
        self.vocab = {c: i + 7 for i, c in enumerate("ACGTN")}
        self.unk_token_id = 6

    def __call__(self, seq, add_special_tokens=True, truncation=False, max_length=None, **kw):
        ids = [self.vocab.get(c, 6) for c in seq] + ([1] if add_special_tokens else [])
        return {"input_ids": ids[:max_length] if truncation and max_length else ids}
'''


@pytest.mark.parametrize("with_mlp", [False, True])
def test_janusdna_checkpoint_cleaning_and_final_mlp(tmp_path, monkeypatch, with_mlp):
    code = tmp_path / "JanusDNA"
    for pkg, files in {"janusdna": {"configuration_janusdna.py": JANUS_CONFIG, "modeling_janusdna.py": JANUS_MODEL},
                       "caduceus": {"tokenization_caduceus.py": JANUS_TOKENIZER}}.items():
        (code / pkg).mkdir(parents=True)
        (code / pkg / "__init__.py").write_text("")
        for name, src in files.items():
            (code / pkg / name).write_text(textwrap.dedent(src))
    for m in [m for m in __import__("sys").modules if m.split(".")[0] in ("janusdna", "caduceus")]:
        monkeypatch.delitem(__import__("sys").modules, m)
    spec = spec_for("janusdna", "harvard-dataverse", model_id="JanusDNA_72_w", max_length=16,
                    special_tokens="none")
    cfg_mod = fc.import_from_checkout(code, "janusdna.configuration_janusdna", spec)
    model_mod = fc.import_from_checkout(code, "janusdna.modeling_janusdna", spec)
    torch.manual_seed(0)
    ref = model_mod.JanusDNAModel(cfg_mod.JanusDNAConfig(hidden_size=8, bidirectional=True)).eval()
    state = {f"model.model.{k}": v for k, v in ref.state_dict().items() if with_mlp or not k.startswith("final_mlp")}
    state["train_torchmetrics.acc.total"] = torch.tensor(3.0)
    wdir = tmp_path / "w"
    wdir.mkdir()
    torch.save({"state_dict": state}, wdir / "last.ckpt")
    (wdir / "config.json").write_text(json.dumps({"config": {"hidden_size": 8, "bidirectional": "true,"}}))
    monkeypatch.setenv("GENEB_WEIGHTS_JANUSDNA_72_W", str(wdir))
    monkeypatch.setenv("GENEB_CODE_JANUSDNA", str(code))
    a = make_adapter(spec)
    a.load()
    assert a.model_.config.use_mamba_kernels is False  # CPU: no kernels
    assert isinstance(a.model_.final_mlp, nn.Identity) is (not with_mlp)
    if not with_mlp:
        ref.final_mlp = nn.Identity()
    prepared = [a.prepare(s) for s in SEQS]
    assert len(a.prepare("A" * 40)) == 16
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            solo = ref(torch.tensor(p)[None]).last_hidden_state[0].mean(0)
        np.testing.assert_allclose(x, solo.numpy(), atol=1e-6)


# -- Genomics-FM (BERT, CLS) and DeepGene (RoFormer, manual CLS/SEP) from local dirs ------


def _wordlevel_tokenizer(with_template: bool):
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "A", "C", "G", "T", "N"])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    if with_template:
        tok.post_processor = processors.TemplateProcessing(
            single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)])
    return PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]",
                                   cls_token="[CLS]", sep_token="[SEP]", mask_token="[MASK]")


def _save(model, tok, d):
    model.eval().save_pretrained(d)
    tok.save_pretrained(d)
    return d


def test_genomics_fm_local_bert_cls(tmp_path, monkeypatch):
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=10, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=32, max_position_embeddings=64)
    d = _save(transformers.BertModel(cfg), _wordlevel_tokenizer(True), tmp_path / "gfm")
    spec = spec_for("genomics-fm", "google-drive", model_id="genomics-fm", pooling="cls", max_length=8)
    with pytest.raises(ExtractError, match="GENEB_WEIGHTS_GENOMICS_FM"):
        make_adapter(spec).load()
    monkeypatch.setenv("GENEB_WEIGHTS_GENOMICS_FM", str(d))
    a = make_adapter(spec)
    a.load()
    assert a.describe()["revision"].startswith("local:")
    long_ids = a.prepare("ACGT" * 10).tolist()
    assert len(long_ids) == 8 and long_ids[0] == 2 and long_ids[-1] == 3
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            solo = a.model_(input_ids=torch.tensor(p)[None]).last_hidden_state[0, 0]
        np.testing.assert_allclose(x, solo.numpy(), atol=1e-5)


def test_deepgene_local_roformer_manual_cls_sep(tmp_path, monkeypatch):
    torch.manual_seed(0)
    cfg = transformers.RoFormerConfig(vocab_size=10, hidden_size=16, embedding_size=16, num_hidden_layers=2,
                                      num_attention_heads=2, intermediate_size=32, max_position_embeddings=64)
    d = _save(transformers.RoFormerModel(cfg), _wordlevel_tokenizer(False), tmp_path / "deepgene")
    monkeypatch.setenv("GENEB_WEIGHTS_DEEPGENE", str(d))
    spec = spec_for("deepgene", "google-drive", model_id="deepgene", max_length=6,
                    special_tokens="include-manual-cls-sep")
    a = make_adapter(spec)
    a.load()
    assert a.prepare("ACGTACGT").tolist() == [2, 5, 6, 7, 8, 3]  # [CLS] 4 bases [SEP]
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            solo = a.model_(input_ids=torch.tensor(p)[None]).last_hidden_state[0].mean(0)
        np.testing.assert_allclose(x, solo.numpy(), atol=1e-5)


# -- SPACE: authors' `model` package from a checkout, TrainingSpace key prefix ------------

SPACE_CONFIG = '''
from transformers import PretrainedConfig


class SpaceConfig(PretrainedConfig):
    model_type = "space"

    def __init__(self, dim=8, num_downsamples=2, target_length=2, output_heads=None, **kw):
        super().__init__(**kw)
        self.dim, self.num_downsamples, self.target_length = dim, num_downsamples, target_length
        self.output_heads = output_heads or {"human": 3, "mouse": 2}
'''

SPACE_MODEL = '''
import torch
import torch.nn as nn
import torch.nn.functional as F


class Space(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        self.species = list(config.output_heads)
        self.stem = nn.Conv1d(4, config.dim, 3, padding=1)
        self.species_emb = nn.Embedding(len(self.species), config.dim)
        self.final = nn.Linear(config.dim, 2 * config.dim)

    def forward(self, x, return_only_embeddings=False, species="human", target_length=896):
        oh = F.one_hot(x, 5)[..., :4].float().transpose(1, 2)
        h = F.avg_pool1d(torch.relu(self.stem(oh)), 2 ** self.config.num_downsamples).transpose(1, 2)
        h = h + self.species_emb.weight[self.species.index(species)] + h.mean(1, keepdim=True)
        if target_length != -1:
            trim = (h.shape[1] - target_length) // 2
            h = h[:, trim:trim + target_length]
        x = torch.tanh(self.final(h))
        return x, {"gates": None}
'''


def test_space_from_checkout_with_prefixed_checkpoint(tmp_path, monkeypatch):
    from geneb.extract.adapters.space import SpaceAdapter

    # the authors' checkout imports wandb, pandas, polars and pyfaidx at module level (the
    # `space` extra); this stand-in does not, so the test needs only what it imports
    monkeypatch.setattr(SpaceAdapter, "requires", ("torch", "transformers", "einops"))
    code = tmp_path / "SPACE"
    (code / "model").mkdir(parents=True)
    (code / "model" / "__init__.py").write_text("")
    (code / "model" / "config_space.py").write_text(SPACE_CONFIG)
    (code / "model" / "modeling_space.py").write_text(SPACE_MODEL)
    for m in [m for m in __import__("sys").modules if m == "model" or m.startswith("model.")]:
        monkeypatch.delitem(__import__("sys").modules, m)
    spec = spec_for("space", str(tmp_path / "w"), max_length=32, length_unit="bases", pooling="spatial-mean",
                    special_tokens="none")
    cfg_mod = fc.import_from_checkout(code, "model.config_space", spec)
    mod = fc.import_from_checkout(code, "model.modeling_space", spec)
    torch.manual_seed(0)
    cfg = cfg_mod.SpaceConfig()
    ref = mod.Space(cfg).eval()
    (tmp_path / "w").mkdir()
    cfg.save_pretrained(tmp_path / "w")
    torch.save({f"model.{k}": v for k, v in ref.state_dict().items()}, tmp_path / "w" / "pytorch_model.bin")
    with pytest.raises(ExtractError, match="GENEB_CODE_SPACE"):
        make_adapter(spec).load()
    monkeypatch.setenv("GENEB_CODE_SPACE", str(code))
    a = make_adapter(spec)
    a.load()
    assert a.dim_ == 16 and a._target == 2
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            solo = ref(torch.tensor(p)[None], return_only_embeddings=True, target_length=2)[0][0].mean(0)
        np.testing.assert_allclose(x, solo.numpy(), atol=1e-6)
    bad = make_adapter(spec_for("space", str(tmp_path / "w"), max_length=32, length_unit="bases",
                                config={"species": "zebrafish"}))
    with pytest.raises(ExtractError, match="species 'zebrafish' not in"):
        bad.load()
