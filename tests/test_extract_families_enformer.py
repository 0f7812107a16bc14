"""Enformer through enformer-pytorch on a tiny random config (skipped without the extra)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("enformer_pytorch", reason="the 'enformer' extra is not installed")

from test_extract_families_support import spec_for  # noqa: E402

from geneb.extract.adapters import (  # noqa: E402
    ExtractError,
    ExtractOptions,
    UnsupportedSequenceError,
    make_adapter,
)

WINDOW = 128  # 3 downsamplings -> 16 bins, cropped to the 8 central ones


@pytest.fixture(scope="module")
def enformer_dir(tmp_path_factory):
    from enformer_pytorch import Enformer

    torch.manual_seed(0)
    m = Enformer.from_hparams(dim=48, depth=1, heads=2, output_heads={"human": 4}, target_length=8,
                              num_downsamples=3, dim_divisible_by=4, attn_dim_key=8)
    d = tmp_path_factory.mktemp("enformer")
    # the hub checkpoint's layout: config.json + pytorch_model.bin (transformers 5's
    # save_pretrained refuses Enformer's aliased `_trunk` modules)
    m.config.save_pretrained(d)
    torch.save(m.state_dict(), d / "pytorch_model.bin")
    return d


def _spec(d, **kw):
    base = dict(max_length=WINDOW, length_unit="bases", pooling="spatial-mean", special_tokens="none")
    base.update(kw)
    return spec_for("enformer", str(d), **base)


def test_centred_n_padding():
    a = make_adapter(_spec("/nonexistent"))
    x = a.prepare("acgtA")
    assert x.shape == (WINDOW,)
    left = (WINDOW - 5) // 2
    assert x[left : left + 5].tolist() == [0, 1, 2, 3, 0]
    assert set(x[:left].tolist()) == {4} and set(x[left + 5 :].tolist()) == {4}
    assert a.prepare("C" * 300).tolist() == [1] * WINDOW  # truncated to the window


def test_matches_solo_forward_and_spatial_mean(enformer_dir):
    a = make_adapter(_spec(enformer_dir))
    a.load()
    assert a.dim_ == 96
    seqs = ["ACGTTGCAAC", "GGGCCCAAATTTGGG" * 3, "A" * 200]
    prepared = [a.prepare(s) for s in seqs]
    X = a.embed(prepared)
    assert X.shape == (3, 96) and X.dtype == np.float32
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            emb = a.model_(torch.tensor(p)[None], return_only_embeddings=True, target_length=8)[0]
        assert emb.shape == (8, 96)
        np.testing.assert_allclose(x, emb.mean(0).numpy(), atol=1e-5)


def test_rejects_non_bases_naming_row(enformer_dir):
    a = make_adapter(_spec(enformer_dir))
    with pytest.raises(UnsupportedSequenceError, match="t/test: row 1: character 'X'"):
        a.validate(["ACGT", "AXGT"], "t/test")


def test_tf_gamma_needs_the_full_window(enformer_dir):
    a = make_adapter(_spec(enformer_dir, config={"use_tf_gamma": True}))
    with pytest.raises(ExtractError, match="196608-bp window"):
        a.load()


def test_options_that_do_not_apply_fail_at_once(enformer_dir):
    with pytest.raises(ExtractError, match="layer -1"):
        make_adapter(_spec(enformer_dir), ExtractOptions(layer=2))
    with pytest.raises(ExtractError, match="spatial-mean"):
        make_adapter(_spec(enformer_dir), ExtractOptions(pooling="cls"))
    with pytest.raises(ExtractError, match="max_length in bases"):
        make_adapter(_spec(enformer_dir, length_unit="tokens")).prepare("ACGT")


def test_checkpoint_with_deduplicated_aliases_loads_and_a_truncated_one_fails(enformer_dir, tmp_path):
    import shutil

    state = torch.load(enformer_dir / "pytorch_model.bin", weights_only=True)
    dedup = tmp_path / "dedup"
    dedup.mkdir()
    shutil.copy(enformer_dir / "config.json", dedup)
    torch.save({k: v for k, v in state.items() if not k.startswith("_trunk.")}, dedup / "pytorch_model.bin")
    a = make_adapter(_spec(dedup))
    a.load()
    ref = make_adapter(_spec(enformer_dir))
    ref.load()
    p = [a.prepare("ACGTTGCA")]
    np.testing.assert_allclose(a.embed(p), ref.embed(p), atol=1e-6)

    broken = tmp_path / "broken"
    broken.mkdir()
    shutil.copy(enformer_dir / "config.json", broken)
    torch.save({k: v for k, v in state.items() if "stem.0" not in k and "_trunk.1.0" not in k},
               broken / "pytorch_model.bin")
    with pytest.raises(ExtractError, match=r"checkpoint lacks 4 tensors, e.g. \['_trunk.1.0.bias'"):
        make_adapter(_spec(broken)).load()
    with pytest.raises(ExtractError, match="(?i)cannot load enformer weights.*has no config.json"):
        make_adapter(_spec(tmp_path / "dedup" / "..")).load()  # a directory without config.json
