"""Family adapters built on transformers: the stored vector equals a plain forward pass of
that sequence alone with the same pooling (tiny random models; the real HyenaDNA code)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from remote_fixtures import checkpoint  # noqa: E402
from test_extract_families_support import (  # noqa: E402
    anticapt_hyena_dir,
    build_biofm_dir,
    spec_for,
)

from geneb.extract.adapters import ExtractOptions, make_adapter  # noqa: E402

SEQS = ["ACGTACGTTTGACC", "ACG", "GGGGCCCCAATTACGATCGATCGATCGATTTAC", "TTTTTTA"]


@pytest.fixture(scope="module")
def tiny_dirs(tmp_path_factory):
    root = tmp_path_factory.mktemp("families")
    return {"biofm": build_biofm_dir(root)}


# -- HyenaDNA: the real pretrained checkpoint with its real remote code -----------------


@pytest.fixture(scope="module")
def hyena_dir():
    d, why = anticapt_hyena_dir()
    if d is None:
        pytest.skip(why)
    return d


def test_hyenadna_real_checkpoint_matches_solo_forward(hyena_dir):
    spec = spec_for("hyenadna", str(hyena_dir), trust_remote_code=True, special_tokens="none")
    a = make_adapter(spec)
    a.load()
    prepared = [a.prepare(s) for s in SEQS]
    # character tokens, no special tokens (catalog policy "none")
    assert [len(p) for p in prepared] == [len(s) for s in SEQS]
    X = a.embed(prepared)
    assert X.shape == (len(SEQS), 128) and X.dtype == np.float32
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            h = a.model_(input_ids=torch.tensor(p)[None]).last_hidden_state[0]
        np.testing.assert_allclose(x, h.mean(0).numpy(), atol=1e-5)


def test_hyenadna_differs_from_reference_left_padding_defect(hyena_dir):
    """The reference padded left and ignored the mask: pads leak into real positions of a
    causal model. Our right-padded masked mean does not depend on batch neighbours."""
    spec = spec_for("hyenadna", str(hyena_dir), trust_remote_code=True, special_tokens="none")
    a = make_adapter(spec)
    a.load()
    short, long_ = a.prepare("ACG"), a.prepare("ACGTTGCA" * 4)
    ours = a.embed([short, long_])[0]
    alone = a.embed([short])[0]
    np.testing.assert_allclose(ours, alone, atol=1e-5)
    pad = a.tokenizer_.pad_token_id
    left = torch.tensor([[pad] * (len(long_) - len(short)) + short.tolist()])
    with torch.no_grad():
        h = a.model_(input_ids=left).last_hidden_state[0, -len(short):].mean(0).numpy()
    assert np.abs(h - alone).max() > 1e-3


def test_hyenadna_layer_tap_and_bad_layer(hyena_dir):
    spec = spec_for("hyenadna", str(hyena_dir), trust_remote_code=True, special_tokens="none")
    a = make_adapter(spec, ExtractOptions(layer=1))
    a.load()
    p = [a.prepare("ACGTAC")]
    with torch.no_grad():
        hs = a.model_(input_ids=torch.tensor(p[0])[None], output_hidden_states=True).hidden_states
    np.testing.assert_allclose(a.embed(p)[0], hs[1][0].mean(0).numpy(), atol=1e-5)
    bad = make_adapter(spec, ExtractOptions(layer=40))
    bad.load()
    with pytest.raises(ValueError, match="layer 40 does not exist"):
        bad.embed([bad.prepare("ACGT")])


def test_hyenadna_counts_unknown_characters_naming_the_row(hyena_dir):
    spec = spec_for("hyenadna", str(hyena_dir), trust_remote_code=True, special_tokens="none")
    a = make_adapter(spec)
    a.load()
    audit = a.audit(["ACGT", "ACXGTX"], "task-x/train")
    assert audit.characters == {"X": "unknown"} and audit.unknown_bases == 2 and audit.sequences_affected == 1
    assert audit.describe_first() == "task-x/train: row 1: character 'X' at position 3 is unknown to the tokenizer"
    ids = a.prepare("ACXGT")  # passed through as the tokenizer's unknown token, like the authors' recipe
    assert a.tokenizer_.unk_token_id in ids.tolist()


# -- BioFM: BioToken characters, [CLS] ... [SEP], last base ------------------------------


def test_biofm_tokens_and_last_base_pooling(tiny_dirs):
    spec = spec_for("biofm", str(tiny_dirs["biofm"]), pooling="penultimate-token",
                    special_tokens="include-cls-and-sep-select-last-payload")
    a = make_adapter(spec)
    a.load()
    assert a.prepare("ACGTN").tolist() == [6, 0, 1, 2, 3, 4, 7]
    assert len(a.prepare("A" * 40)) == 16  # model_max_length from tokenizer_config, specials kept
    prepared = [a.prepare(s) for s in SEQS]
    X = a.embed(prepared)
    for p, x in zip(prepared, X, strict=True):
        with torch.no_grad():
            h = a.model_(input_ids=torch.tensor(p)[None]).last_hidden_state[0]
        np.testing.assert_allclose(x, h[-2].numpy(), atol=1e-5)  # the last base, before [SEP]


def test_biofm_unknown_base_becomes_the_unknown_token(tiny_dirs):
    a = make_adapter(spec_for("biofm", str(tiny_dirs["biofm"])))
    a.load()
    assert a.tokenizer_.unk_token_id in a.prepare("ACGRT").tolist()
    assert a.audit(["ACGRT"], "t/train").characters == {"R": "unknown"}


# -- end to end: through the runner into a store --------------------------------------------


def _tiny_task(tmp_path, n=14):
    rng = np.random.default_rng(0)
    rows = ["text,label,split"]
    for i in range(n):
        seq = "".join(rng.choice(list("ACGT"), size=int(rng.integers(3, 40))))
        rows.append(f"{seq},{i % 2},{'train' if i < n - 4 else 'test'}")
    d = tmp_path / "data"
    d.mkdir()
    (d / "tiny_task.csv").write_text("\n".join(rows) + "\n")
    return d


@pytest.mark.parametrize("family", [pytest.param("hyenadna", marks=pytest.mark.slow), "generator"])
def test_stored_vectors_equal_solo_forward(family, tmp_path, tiny_dirs, request):
    from geneb.data import load_task
    from geneb.extract.runner import embed, store_model_id
    from geneb.store import open_store

    if family == "hyenadna":
        d = request.getfixturevalue("hyena_dir")
        spec = spec_for("hyenadna", str(d), trust_remote_code=True, special_tokens="none")
    else:
        # the faithful GENERator hub-layout fixture (the family itself: tests/test_family_generator.py)
        d = checkpoint("generator", tmp_path / "generator", save_from="AutoModelForCausalLM")
        spec = spec_for("generator", str(d), trust_remote_code=True)
    data = _tiny_task(tmp_path)
    store_path = tmp_path / "s.zarr"
    embed([spec], ["tiny_task"], str(store_path), data_dir=data, device="cpu",
          options=ExtractOptions(dtype="float32"), token_budget=48, progress=False)
    store = open_store(str(store_path))
    task = load_task("tiny_task", data)
    ref = make_adapter(spec)
    ref.load()
    for split in ("train", "test"):
        X = store.X(store_model_id(spec), "tiny_task", split)
        seqs = task.split(split).sequences
        assert X.shape == (len(seqs), ref.dim_)
        for row, seq in enumerate(seqs):  # row order = file order
            with torch.no_grad():
                h = ref.model_(input_ids=torch.tensor(ref.prepare(seq))[None]).last_hidden_state[0]
            np.testing.assert_allclose(X[row], h.mean(0).numpy(), atol=1e-5)
