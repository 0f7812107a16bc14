"""LucaOne through the `lucaone` package on a tiny random LucaGPLM config."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
lucaone = pytest.importorskip("lucaone", reason="the 'lucaone' extra is not installed")

from test_extract_families_support import spec_for  # noqa: E402

from geneb.extract.adapters import ExtractOptions, make_adapter  # noqa: E402


@pytest.fixture(scope="module")
def luca_dir(tmp_path_factory):
    torch.manual_seed(0)
    cfg = lucaone.LucaGPLMConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, ffn_dim=64,
                                 max_position_embeddings=64)
    d = tmp_path_factory.mktemp("lucaone")
    lucaone.LucaGPLMModel(cfg).eval().save_pretrained(d)
    return d


def _solo(a, p, **kw):
    with torch.no_grad():
        return a.model_(input_ids=torch.tensor(p)[None], token_type_ids=torch.zeros(1, len(p), dtype=torch.long),
                       **kw)


def test_gene_tokens_with_cls_sep_and_truncation_keeping_sep(luca_dir):
    a = make_adapter(spec_for("lucaone", str(luca_dir), max_length=5, length_unit="tokens"))
    a.load()
    tok = a.tokenizer_
    ids = a.prepare("ACGTNACGT").tolist()
    assert len(ids) == 5 and ids[0] == tok.cls_idx and ids[-1] == tok.eos_idx
    full = make_adapter(spec_for("lucaone", str(luca_dir)))
    full.load()
    # A, C, G, T, N as LucaOne nucleotide symbols 1, 3, 4, 2, 5
    assert full.prepare("ACGTN").tolist()[1:-1] == [tok.get_idx(c) for c in "13425"]


def test_lucaone_matches_solo_forward_every_record(luca_dir):
    a = make_adapter(spec_for("lucaone", str(luca_dir)))
    a.load()
    seqs = ["ACGTN", "ACGTTTGCAAGTCCA", "GG"]
    prepared = [a.prepare(s) for s in seqs]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        np.testing.assert_allclose(x, _solo(a, p).last_hidden_state[0].mean(0).numpy(), atol=1e-5)
    b = make_adapter(spec_for("lucaone", str(luca_dir)), ExtractOptions(layer=1))
    b.load()
    for p, x in zip(prepared, b.embed(prepared), strict=True):
        hs = _solo(b, p, output_hidden_states=True).hidden_states
        np.testing.assert_allclose(x, hs[1][0].mean(0).numpy(), atol=1e-5)


def test_uninitialised_rotary_buffer_is_recomputed(luca_dir, caplog):
    a = make_adapter(spec_for("lucaone", str(luca_dir)))
    a.load()
    rot = a.model_.encoder.layers[0].self_attn.rot_emb
    good = rot.inv_freq.clone()
    rot.inv_freq.fill_(float("nan"))
    a._check_rotary()
    assert "inv_freq was not loaded correctly" in caplog.text
    np.testing.assert_allclose(rot.inv_freq.numpy(), good.numpy(), rtol=1e-6)
