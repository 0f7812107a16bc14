"""GENERator family on its authors' hub layout (remote `DNAKmerTokenizer`, Llama checkpoint
saved from the remote `GENERatorForCausalLM`).

Fixture: `tests/fixtures/remote/generator` (hub `config.json` with `model_type: llama` and only
an `AutoModelForCausalLM` auto_map entry; `tokenizer_config.json` with the real auto_map,
`<oov>` unk and `add_bos_token`; byte-identical `vocab.txt`: ATCG 6-mers, no N; a stand-in
`tokenizer.py` that sets `bos_token`/`eos_token` before `super().__init__()`). Runs under
transformers 5.x (`.venv`) and 4.x (`.venv-tf4`).

The reference is the authors' recipe, built here independently of geneb's loader: the remote
tokenizer, the model card's `tokenizer.bos_token + sequence` with `add_special_tokens=False`
after the GENEB reference's right-trim to a multiple of 6, truncation to the token limit,
`AutoModelForCausalLM.from_pretrained(..., trust_remote_code=True)` (the remote class),
`hidden_states[-1]` and the attention-mask mean. On transformers 5 the remote tokenizer cannot
be constructed unaided; the reference then builds it with this file's own minimal workaround.

Set GENEB_GENERATOR_UPSTREAM to a directory holding the real hub `tokenizer.py` and
`modeling_generator.py` to run the same checks on them (config and vocabulary from the fixture).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import remote_fixtures  # noqa: E402
from remote_fixtures import checkpoint, embed_in_batches, fixture_dir, max_rel_error, model_file  # noqa: E402

from geneb.catalog.models import load_model_file  # noqa: E402
from geneb.extract import compat  # noqa: E402
from geneb.extract.adapters import ExtractOptions, make_adapter  # noqa: E402
from geneb.extract.adapters.generator import trim_to_kmers  # noqa: E402

TF5 = int(transformers.__version__.split(".")[0]) >= 5
DIFF = "tokenizer-special-tokens-before-init"
MAX_TOKENS = 12  # BOS + 11 tokens: the long sequences below are truncated
SEQS = [
    "ACGTACGTTTGACC",  # 14 bases -> 2 whole 6-mers
    "ACG",  # shorter than a k-mer: BOS alone
    "ACGTNACGTNACGTN",  # the GENEB oracle's input 0: two 6-mers with N -> <oov> <oov>
    "AAAAAATTTTTTGG",  # the oracle's input 1: AAAAAA TTTTTT
    "acgtACGTACGTTTG",  # lower case: one <oov> per character, then a partial run
    "ACGTnACGTTAGCATG",
    "NNNNNN",
    "GATTACA" * 9,  # 63 bases, ends mid k-mer
    "ACGTTGCANNACGTAGCTAGCTAGGATCCAGT" * 7,  # 224 bases: truncated to MAX_TOKENS tokens
    "acgt" * 30,  # 120 lower-case characters = 120 tokens: truncated in tokens
]


def _sources() -> list:
    params = [pytest.param(None, id="fixture")]
    up = os.environ.get("GENEB_GENERATOR_UPSTREAM")
    if up:
        params.append(pytest.param(Path(up), id="upstream"))
    return params


def _checkpoint(tmp: Path, upstream: Path | None = None) -> Path:
    src = None
    if upstream is not None:
        src = tmp / "generator-upstream-src"
        shutil.copytree(fixture_dir("generator"), src, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
        for name in ("tokenizer.py", "modeling_generator.py"):
            shutil.copy(upstream / name, src / name)
    return checkpoint("generator", tmp / "gen", save_from="AutoModelForCausalLM", source=src)


def _spec(tmp: Path, d: Path, **kw):
    fields = dict(family="generator", trust_remote_code=True, max_length=MAX_TOKENS, length_unit="tokens",
                  length_policy="tokenizer-truncate", pooling="mean", special_tokens="include")
    fields.update(kw)
    mf = model_file(tmp / "models.toml", "generator-tiny", d, **fields)
    (spec,) = load_model_file(mf)
    return spec, mf


def _adapter(tmp: Path, d: Path, **kw):
    spec, _ = _spec(tmp, d, **kw)
    return make_adapter(spec, ExtractOptions(dtype="float32"), "cpu")


# -- the reference: the authors' recipe, with this test's own transformers-5 workaround -------
def _reference_tokenizer(d: Path):
    if not TF5:
        return transformers.AutoTokenizer.from_pretrained(str(d), trust_remote_code=True)
    from transformers.dynamic_module_utils import get_class_from_dynamic_module

    cls = get_class_from_dynamic_module("tokenizer.DNAKmerTokenizer", str(d))

    class Patched(cls):  # the two containers transformers 5 creates first, created earlier
        def __init__(self, *a, **kw):
            object.__setattr__(self, "_special_tokens_map", dict.fromkeys(self.SPECIAL_TOKENS_ATTRIBUTES))
            object.__setattr__(self, "_extra_special_tokens", [])
            super().__init__(*a, **kw)

    return Patched.from_pretrained(str(d))


def _reference_model(d: Path):
    return transformers.AutoModelForCausalLM.from_pretrained(str(d), trust_remote_code=True).eval()


def _recipe(tok, model, seqs, max_tokens: int = MAX_TOKENS) -> np.ndarray:
    texts = [tok.bos_token + s[: len(s) // 6 * 6] for s in seqs]  # the card: BOS, whole 6-mers only
    return remote_fixtures.masked_mean_reference(tok, model, texts, max_tokens, tokenize={"add_special_tokens": False})


# -- 1. the construct: plain AutoTokenizer fails on transformers 5, geneb's load does not -----
def test_plain_autotokenizer_fails_on_transformers_5_and_geneb_loads(tmp_path):
    d = _checkpoint(tmp_path)
    if TF5:
        with pytest.raises(AttributeError, match="_special_tokens_map"):
            transformers.AutoTokenizer.from_pretrained(str(d), trust_remote_code=True)
    else:
        transformers.AutoTokenizer.from_pretrained(str(d), trust_remote_code=True)  # 4.x constructs it
    ad = _adapter(tmp_path, d)
    assert ad.describe().get("compat", []) == ([DIFF] if TF5 else [])
    ad.load()
    tok = ad.tokenizer_
    assert type(tok).__name__ == "DNAKmerTokenizer" and type(tok).__module__.startswith("transformers_modules.")
    # the hub contract (recorded by the GENEB oracle on transformers 4.57.3)
    assert (tok.unk_token, tok.unk_token_id, tok.bos_token_id, tok.eos_token_id, tok.pad_token_id,
            tok.mask_token_id) == ("<oov>", 0, 1, 2, 3, 4)
    assert len(tok) == tok.vocab_size == 4128 and tok.k == 6 and tok.add_bos_token and not tok.add_eos_token
    assert not any("N" in t for t in tok.get_vocab() if not t.startswith("<"))  # no k-mer with N
    enc = tok(tok.bos_token + "ACGTNACGTNAC")
    assert list(enc) == ["input_ids", "attention_mask"] and enc["input_ids"] == [1, 1, 0, 0]
    assert tok(tok.bos_token + "AAAAAATTTTTT")["input_ids"] == [1, 1, 32, 1397]
    ref = _reference_tokenizer(d)
    for s in SEQS:
        assert tok(s, add_special_tokens=False)["input_ids"] == ref(s, add_special_tokens=False)["input_ids"], s


def test_the_remote_model_class_and_what_automodel_builds(tmp_path, capsys):
    d = _checkpoint(tmp_path)
    card = _reference_model(d)
    assert type(card).__name__ == "GENERatorForCausalLM" and isinstance(card, transformers.LlamaForCausalLM)
    # its from_pretrained loads the remote tokenizer and swallows the failure on transformers 5
    assert hasattr(card, "_kmer_ids") is (not TF5)
    if TF5:
        assert "_special_tokens_map" in capsys.readouterr().out
    ad = _adapter(tmp_path, d)
    ad.load()
    assert type(ad.model_) is transformers.LlamaModel  # model_type llama, no AutoModel entry


# -- 2. the vectors: the authors' recipe within 1e-5 -------------------------------------------
@pytest.mark.parametrize("upstream", _sources())
def test_vectors_match_the_authors_recipe(tmp_path, upstream):
    torch.set_num_threads(1)
    d = _checkpoint(tmp_path, upstream)
    ad = _adapter(tmp_path, d)
    X = embed_in_batches(ad, SEQS, split=4)
    tok, card = _reference_tokenizer(d), _reference_model(d)
    ref = _recipe(tok, card, SEQS)
    assert X.shape == ref.shape == (len(SEQS), card.config.hidden_size) and X.dtype == np.float32
    assert max_rel_error(X, ref) <= 1e-5, max_rel_error(X, ref)

    # the fixture exercises what it claims
    ids = [ad.prepare(s).tolist() for s in SEQS]
    assert all(i[0] == tok.bos_token_id and tok.eos_token_id not in i for i in ids)
    assert tok.convert_ids_to_tokens(ids[0][1:]) == ["ACGTAC", "GTTTGA"]
    assert ids[1] == [tok.bos_token_id]
    assert ids[2] == [1, 0, 0] and ids[3] == [1, 32, 1397]  # N k-mers are <oov>, as the oracle records
    assert ids[4] == [1, 0, 0, 0, 0, tok.convert_tokens_to_ids("ACGTAC"), 0]  # a c g t ACGTAC GT
    assert ids[6] == [1, 0]
    assert len(ids[7]) == 1 + 63 // 6 < MAX_TOKENS
    assert len(ids[8]) == len(ids[9]) == MAX_TOKENS and set(ids[9][1:]) == {0}
    # one sequence alone equals its place in a padded batch
    np.testing.assert_allclose(ad.embed([ad.prepare(SEQS[3])])[0], X[3], rtol=1e-5, atol=1e-6)


def test_truncation_keeps_whole_kmers_and_the_limit(tmp_path):
    d = _checkpoint(tmp_path)
    ad = _adapter(tmp_path, d, max_length=3)
    ad.load()
    ids = ad.prepare("ACGTAC" * 10 + "GG").tolist()
    assert ids == [1] + [ad.tokenizer_.convert_tokens_to_ids("ACGTAC")] * 2
    assert trim_to_kmers("ACGTACGTA") == "ACGTAC" and trim_to_kmers("ACGTA") == ""


# -- 3. unknown bases: counted as the tokenizer hides them ---------------------------------------
def test_audit_counts_the_bases_inside_oov_tokens(tmp_path):
    d = _checkpoint(tmp_path)
    ad = _adapter(tmp_path, d)
    ad.load()
    a = ad.audit(["ACGTACGTACGT", "ACGTNACGTNACGTN", "GGGGGGNNNNNNA"], "t/train")
    # row 1: trimmed to ACGTNA CGTNAC (12 bases in two <oov>); row 2: GGGGGG NNNNNN (6)
    assert a.characters == {"N": "unknown"} and a.unknown_bases == 12 + 6
    assert a.sequences_affected == 2 and a.sequences == 3 and a.dropped_bases == 0
    assert a.describe_first() == "t/train: row 1: character 'N' at position 5 is unknown to the tokenizer"
    low = ad.audit(["acgtACGTACGTTTG"], "t/test")  # a c g t (4) + GT (2), ACGTAC is known
    assert low.unknown_bases == 6 and low.characters == {c: "unknown" for c in "acgt"}
    assert ad.audit(["ACGTAC", "ACGTACG"], "t/x").unknown_bases == 0  # the trimmed tail is never a token


def test_geneb_embed_cli_stores_the_recipe_vectors_and_counts_unknown_bases(tmp_path):
    from geneb.cli import main
    from geneb.data import load_task
    from geneb.extract.runner import store_model_id
    from geneb.store import open_store

    torch.set_num_threads(1)
    d = _checkpoint(tmp_path)
    spec, mf = _spec(tmp_path, d)
    data = tmp_path / "data"
    data.mkdir()
    rows = SEQS[:9]
    with open(data / "t.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "split"])
        for i, s in enumerate(rows * 2):
            w.writerow([s, i % 2, "train" if i < len(rows) else "test"])
    store = tmp_path / "s.zarr"
    rc = main(["embed", "--model-file", str(mf), "--models", "generator-tiny", "--data", str(data), "--tasks", "t",
               "--store", str(store), "--device", "cpu", "--no-progress"])
    assert rc == 0
    st = open_store(store)
    mid = store_model_id(spec)
    seqs = load_task("t", data).train.sequences  # upper-cased by the task loader
    assert list(seqs) == [s.upper() for s in rows]
    ref = _recipe(_reference_tokenizer(d), _reference_model(d), seqs)
    for split in ("train", "test"):
        X = st.X(mid, "t", split)
        assert X.dtype == np.float32 and max_rel_error(X, ref) <= 1e-5, (split, max_rel_error(X, ref))
    tok = st.provenance(mid, "t")["tokenization"]
    hidden = sum(6 * sum("N" in s[i:i + 6] for i in range(0, len(s) // 6 * 6, 6)) for s in seqs)
    assert tok["characters"] == {"N": "unknown"} and tok["unknown_bases"] == 2 * hidden > 0


def test_difference_is_registered_for_transformers_5_only():
    d = compat.difference(DIFF)
    assert d.stage == "tokenizer" and "GENERator" in d.upstream
    assert compat.applies(DIFF, "5.25.0") and not compat.applies(DIFF, "4.57.6")
