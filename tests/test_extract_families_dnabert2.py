"""DNABERT-2 / DNABERT-S: the triton import guard, the plain-attention fallback and repad,
on a small inline stand-in. The faithful fixture of the real remote code (ALiBi as a plain
attribute computed in `__init__`, the meta-device failure, the model card's vectors) is
tests/fixtures/remote/dnabert2, tested in tests/test_family_dnabert2.py.

The stand-in reproduces the quirks of zhihan1996/DNABERT-2-117M's `bert_layers.py` that
the adapter must survive: auto_map config class != the model's declared config class, a
top-level `import triton` in `flash_attn_triton.py` guarded in `bert_layers.py`, a
module-global `flash_attn_qkvpacked_func` whose presence selects the triton path, encoder
blocks working on unpadded token rows, and a non-persistent ALiBi buffer.
"""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from test_extract_families_support import spec_for  # noqa: E402

from geneb.extract.adapters import ExtractError, ExtractOptions, make_adapter  # noqa: E402
from geneb.extract.adapters.dnabert2 import repad  # noqa: E402

CONFIGURATION = '''
from transformers import BertConfig as _HFBertConfig


class BertConfig(_HFBertConfig):
    def __init__(self, alibi_starting_size=8, **kwargs):
        super().__init__(**kwargs)
        self.alibi_starting_size = alibi_starting_size
'''

FLASH = '''
import triton  # the real module needs triton at import time


def flash_attn_qkvpacked_func(qkv, bias=None, causal=False, softmax_scale=None):
    raise NotImplementedError
'''

BERT_LAYERS = '''
import math

import torch
import torch.nn as nn
from transformers import BertConfig as HFBertConfig
from transformers import PreTrainedModel

try:
    from .flash_attn_triton import flash_attn_qkvpacked_func
except ImportError:
    flash_attn_qkvpacked_func = None


class UnpadAttentionLayer(nn.Module):
    def __init__(self, config):
        super().__init__()
        d = config.hidden_size
        self.nh = config.num_attention_heads
        self.Wqkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, rows, mask, bias):
        b, t = mask.shape
        d = rows.shape[-1]
        flat = mask.reshape(-1).bool()
        padded = rows.new_zeros(b * t, d)
        padded[flat] = rows
        qkv = self.Wqkv(padded.view(b, t, d)).view(b, t, 3, self.nh, d // self.nh)
        if flash_attn_qkvpacked_func is not None:
            ctx = flash_attn_qkvpacked_func(qkv, bias)
        else:
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            scores = q @ k.transpose(-1, -2) / math.sqrt(q.shape[-1]) + bias
            scores = scores.masked_fill(~mask.bool()[:, None, None, :], float("-inf"))
            ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        return rows + torch.tanh(self.out(ctx.reshape(b * t, d)[flat]))


class BertEncoder(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.num_attention_heads = config.num_attention_heads
        self.layer = nn.ModuleList(UnpadAttentionLayer(config) for _ in range(config.num_hidden_layers))
        self._current_alibi_size = int(config.alibi_starting_size)
        self.rebuild_alibi_tensor(size=config.alibi_starting_size)

    def rebuild_alibi_tensor(self, size, device=None):
        pos = torch.arange(size, device=device)
        slopes = torch.tensor([2.0 ** -(i + 1) for i in range(self.num_attention_heads)], device=device)
        alibi = -(pos[None, :] - pos[:, None]).abs()[None].float() * slopes[:, None, None]
        self._current_alibi_size = size
        self.register_buffer("alibi", alibi, persistent=False)

    def forward(self, hidden, mask):
        b, t, d = hidden.shape
        if t > self._current_alibi_size:
            self.rebuild_alibi_tensor(size=t, device=hidden.device)
        flat = mask.reshape(-1).bool()
        rows = hidden.reshape(-1, d)[flat]
        for layer in self.layer:
            rows = layer(rows, mask, self.alibi[None, :, :t, :t])
        out = rows.new_zeros(b * t, d)
        out[flat] = rows
        return out.view(b, t, d)


class BertPreTrainedModel(PreTrainedModel):
    config_class = HFBertConfig  # what the real remote code declares (not the auto_map class)
    base_model_prefix = "bert"


class BertModel(BertPreTrainedModel):
    def __init__(self, config, add_pooling_layer=True):
        super().__init__(config)
        self.embeddings = nn.Embedding(config.vocab_size, config.hidden_size)
        self.norm = nn.LayerNorm(config.hidden_size)
        self.encoder = BertEncoder(config)
        self.post_init()

    def forward(self, input_ids, attention_mask=None, output_all_encoded_layers=False, **kwargs):
        if attention_mask is None:
            attention_mask = torch.ones_like(input_ids)
        h = self.norm(self.embeddings(input_ids))
        return self.encoder(h, attention_mask), None
'''

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "A", "C", "G", "T", "N"]
D, LAYERS, HEADS = 16, 2, 2


def _weights() -> dict:
    g = torch.Generator().manual_seed(0)
    w = {
        "embeddings.weight": torch.randn(len(VOCAB), D, generator=g),
        "norm.weight": torch.ones(D),
        "norm.bias": torch.zeros(D),
    }
    for i in range(LAYERS):
        w[f"encoder.layer.{i}.Wqkv.weight"] = torch.randn(3 * D, D, generator=g) * 0.3
        w[f"encoder.layer.{i}.Wqkv.bias"] = torch.zeros(3 * D)
        w[f"encoder.layer.{i}.out.weight"] = torch.randn(D, D, generator=g) * 0.3
        w[f"encoder.layer.{i}.out.bias"] = torch.zeros(D)
    return w


@pytest.fixture(scope="module")
def mosaic_dir(tmp_path_factory):
    from safetensors.torch import save_file
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    d = tmp_path_factory.mktemp("dnabert2")
    (d / "configuration_bert.py").write_text(CONFIGURATION)
    (d / "flash_attn_triton.py").write_text(FLASH)
    (d / "bert_layers.py").write_text(BERT_LAYERS)
    cfg = {
        "architectures": ["BertForMaskedLM"], "model_type": "bert",
        "auto_map": {"AutoConfig": "configuration_bert.BertConfig", "AutoModel": "bert_layers.BertModel"},
        "vocab_size": len(VOCAB), "hidden_size": D, "num_hidden_layers": LAYERS,
        "num_attention_heads": HEADS, "intermediate_size": 32, "alibi_starting_size": 8,
    }
    (d / "config.json").write_text(json.dumps(cfg))
    save_file(_weights(), str(d / "model.safetensors"), metadata={"format": "pt"})
    tok = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 2), ("[SEP]", 3)]
    )
    PreTrainedTokenizerFast(
        tokenizer_object=tok, unk_token="[UNK]", pad_token="[PAD]", cls_token="[CLS]", sep_token="[SEP]"
    ).save_pretrained(d)
    return d


def _spec(d, **kw):
    return spec_for("dnabert2", str(d), trust_remote_code=True, **kw)


def _solo(a, ids: np.ndarray) -> torch.Tensor:
    with torch.no_grad():
        return a.model_(input_ids=torch.tensor(ids)[None])[0][0]


SEQS = ["ACGTACGTTTGACCA", "ACG", "GGGGCCCCAATTACGATCGATCG"]


def test_triton_is_hidden_from_the_remote_import_check_only_while_loading(mosaic_dir):
    from transformers import dynamic_module_utils as dmu

    from geneb.extract.adapters.dnabert2 import without_triton_import_check

    f = str(mosaic_dir / "flash_attn_triton.py")
    assert "triton" in dmu.get_imports(f)
    with without_triton_import_check():
        assert "triton" not in dmu.get_imports(f)
    assert "triton" in dmu.get_imports(f)


def test_dnabert2_loads_and_matches_solo_forward(mosaic_dir):
    a = make_adapter(_spec(mosaic_dir))
    a.load()
    assert a._remote.flash_attn_qkvpacked_func is None  # plain attention on CPU
    assert not any(b.is_meta for b in a.model_.buffers())
    prepared = [a.prepare(s) for s in SEQS]
    assert prepared[1].tolist() == [2, 5, 6, 7, 3]  # [CLS] A C G [SEP]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        np.testing.assert_allclose(x, _solo(a, p).mean(0).numpy(), atol=1e-5)  # specials included


def test_dnabert_s_cls_pooling(mosaic_dir):
    a = make_adapter(_spec(mosaic_dir, pooling="cls"))
    a.load()
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        np.testing.assert_allclose(x, _solo(a, p)[0].numpy(), atol=1e-5)


def test_triton_failure_falls_back_to_plain_attention(mosaic_dir, caplog):
    a = make_adapter(_spec(mosaic_dir))
    a.load()
    prepared = [a.prepare(s) for s in SEQS]
    expected = a.embed(prepared)

    def broken(*args, **kwargs):
        raise TypeError("dot() got an unexpected keyword argument 'trans_b'")

    a._remote.flash_attn_qkvpacked_func = broken  # as on a GPU with a newer triton
    with caplog.at_level(logging.WARNING):
        got = a.embed(prepared)
    assert "falling back to plain attention" in caplog.text
    assert a._remote.flash_attn_qkvpacked_func is None
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_errors_that_are_not_triton_are_not_swallowed(mosaic_dir):
    a = make_adapter(_spec(mosaic_dir))
    a.load()
    with pytest.raises(IndexError):
        a.embed([np.array([2, 99, 3])])  # id outside the vocabulary


def test_intermediate_layer_from_unpadded_block_output(mosaic_dir):
    a = make_adapter(_spec(mosaic_dir), ExtractOptions(layer=1))
    a.load()
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        ids = torch.tensor(p)[None]
        with torch.no_grad():
            h = a.model_.norm(a.model_.embeddings(ids))[0]
            mask = torch.ones(1, len(p), dtype=torch.long)
            rows = a.model_.encoder.layer[0](h, mask, a.model_.encoder.alibi[None, :, : len(p), : len(p)])
        np.testing.assert_allclose(x, rows.mean(0).numpy(), atol=1e-5)
    with pytest.raises(ExtractError, match="layer 0 is not available"):
        b = make_adapter(_spec(mosaic_dir), ExtractOptions(layer=0))
        b.load()
        b.embed(prepared[:1])


def test_refuses_to_load_without_trust_remote_code(mosaic_dir):
    a = make_adapter(spec_for("dnabert2", str(mosaic_dir), trust_remote_code=False))
    with pytest.raises(ExtractError, match="trust_remote_code = true"):
        a.load()


def test_repad_scatters_rows_in_mask_order():
    mask = torch.tensor([[1, 1, 1], [1, 1, 0]])
    rows = torch.arange(5, dtype=torch.float32)[:, None]
    assert repad(rows, mask)[..., 0].tolist() == [[0, 1, 2], [3, 4, 0]]
    with pytest.raises(RuntimeError, match="4 rows for 5 real tokens"):
        repad(rows[:4], mask)


def test_short_sequence_vector_uses_a_valid_alibi(mosaic_dir):
    a = make_adapter(_spec(mosaic_dir))
    a.load()
    x = a.embed([a.prepare("ACG")])
    assert np.isfinite(x).all()
