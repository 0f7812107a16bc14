"""Extractor core: batched/sorted/padded vectors equal single-sequence HF forward passes,
resume is bit-identical, user errors write nothing, options enter the cache key."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")
torch.set_num_threads(1)

from _tiny_models import build_tiny, write_task  # noqa: E402

from geneb.catalog import builtin_models, get_model  # noqa: E402
from geneb.data import load_task  # noqa: E402
from geneb.extract import (  # noqa: E402
    ExtractOptions,
    MissingExtraError,
    UnsupportedSequenceError,
    embed,
    embed_pair,
    make_adapter,
)
from geneb.extract.batching import plan_batches, reverse_complement  # noqa: E402
from geneb.extract.runner import store_model_id  # noqa: E402
from geneb.store import CacheKeyMismatch, open_store  # noqa: E402


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    cache: dict[str, object] = {}

    def get(kind: str):
        if kind not in cache:
            cache[kind] = build_tiny(kind, root / kind)
        return cache[kind]

    return get


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("data")
    write_task(d, "eq", 24, 12, min_len=5, max_len=250, seed=1)
    write_task(d, "small", 30, 10, min_len=20, max_len=120, seed=2)
    write_task(d, "withn", 10, 6, min_len=20, max_len=60, seed=3, alphabet="ACGTN")
    return d


def _reference(model_dir, seqs, pooling: str) -> np.ndarray:
    """A plain HF forward pass of each sequence alone (no padding), pooled by hand."""
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    out = []
    with torch.no_grad():
        for s in seqs:
            enc = tok(s, return_tensors="pt")
            h = model(**enc).last_hidden_state[0]
            out.append({"mean": h.mean(0), "cls": h[0], "last-token": h[-1]}[pooling].numpy())
    return np.stack(out)


CASES = [("bert", "mean"), ("bert", "cls"), ("esm", "mean"), ("gpt2", "mean"), ("gpt2", "last-token"),
         ("llama", "mean"), ("mistral", "mean"), ("olmo", "mean")]


@pytest.mark.parametrize("kind,pooling", CASES)
def test_stored_vectors_equal_single_sequence_forward(kind, pooling, tiny, data_dir, tmp_path):
    spec = get_model(f"path:{tiny(kind)}")
    task = load_task("eq", data_dir)
    budget = 600  # forces many multi-sequence, padded batches over mixed lengths
    lengths = [len(s) + 2 for s in task.train.sequences]
    assert any(len(b) > 1 and len({lengths[i] for i in b}) > 1 for b in plan_batches(lengths, budget))
    store = tmp_path / "s.zarr"
    summary = embed([spec], ["eq"], store, data_dir=data_dir, device="cpu",
                    options=ExtractOptions(dtype="float32", pooling=pooling), token_budget=budget,
                    progress=False, block_rows=16)
    assert [p.status for p in summary.pairs] == ["embedded"]
    st = open_store(store)
    mid = store_model_id(spec)
    assert st.cache_key(mid, "eq")["extra"]["adapter"]["detected_family"] == {
        "bert": "hf-encoder", "esm": "nucleotide-transformer"}.get(kind, "hf-causal-lm")
    for split in ("train", "test"):
        X = st.X(mid, "eq", split)
        ref = _reference(tiny(kind), task.split(split).sequences, pooling)
        assert X.dtype == np.float32 and X.shape == ref.shape
        rel = np.linalg.norm(X - ref, axis=1) / np.linalg.norm(ref, axis=1)
        assert rel.max() <= 1e-5, (kind, pooling, split, rel.max())
        np.testing.assert_array_equal(st.y(mid, "eq", split), task.split(split).labels)


def test_other_layer_taps_hidden_states(tiny, data_dir, tmp_path):
    from transformers import AutoModel, AutoTokenizer

    d = tiny("bert")
    spec = get_model(f"path:{d}")
    embed([spec], ["small"], tmp_path / "s.zarr", data_dir=data_dir, device="cpu",
          options=ExtractOptions(dtype="float32", layer=1), progress=False)
    X = open_store(tmp_path / "s.zarr").X(store_model_id(spec), "small", "test")
    tok, model = AutoTokenizer.from_pretrained(d), AutoModel.from_pretrained(d).eval()
    seqs = load_task("small", data_dir).test.sequences
    with torch.no_grad():
        ref = np.stack([model(**tok(s, return_tensors="pt"), output_hidden_states=True).hidden_states[1][0].mean(0).numpy()
                        for s in seqs])
    np.testing.assert_allclose(X, ref, rtol=1e-4, atol=1e-5)


def test_bad_layer_is_a_clear_error(tiny, data_dir, tmp_path):
    spec = get_model(f"path:{tiny('bert')}")
    with pytest.raises(ValueError, match="layer 7 does not exist"):
        embed([spec], ["small"], tmp_path / "s.zarr", data_dir=data_dir, device="cpu",
              options=ExtractOptions(layer=7), progress=False)


# -- built-in models --------------------------------------------------------------------------
RANDOM = [m for m in builtin_models() if m.family == "random-init"]


@pytest.mark.parametrize("spec", RANDOM, ids=lambda m: m.model_id)
def test_random_init_params_and_determinism(spec):
    a, b = make_adapter(spec), make_adapter(spec)
    ma, mb = a.build_model(), b.build_model()
    assert sum(p.numel() for p in ma.parameters()) == spec.params
    assert spec.untrained and spec.embedding_dim == ma.config.hidden_size
    for (na, pa), (nb, pb) in zip(ma.state_dict().items(), mb.state_dict().items(), strict=True):
        assert na == nb and torch.equal(pa, pb)
    g = torch.random.get_rng_state()
    a.build_model()
    assert torch.equal(g, torch.random.get_rng_state()), "building must not touch the global RNG"


def test_random_init_weights_are_pinned():
    """Same seed, same torch minor version -> the same network on every machine."""
    if not torch.__version__.startswith("2.13"):
        pytest.skip("golden values recorded with torch 2.13")
    m = make_adapter(get_model("random-bert-xs")).build_model()
    w = m.embeddings.word_embeddings.weight.detach()
    assert float(w[5, 0]) == pytest.approx(-0.06791048496961594, rel=1e-6)
    assert float(w.sum()) == pytest.approx(0.23643793165683746, rel=1e-5)
    assert float(m.encoder.layer[1].output.dense.weight.detach().sum()) == pytest.approx(-1.1129920482635498, rel=1e-5)


def test_default_models_include_a_network():
    from geneb.catalog import default_models

    fams = {m.family for m in default_models()}
    assert {"kmer", "random-init"} <= fams


def test_kmer_frequencies_match_naive_count():
    from itertools import product

    from geneb.extract.adapters.kmer import kmer_frequencies

    rng = np.random.default_rng(0)
    for k in (1, 2, 3):
        for _ in range(20):
            s = "".join(rng.choice(list("ACGTN"), size=int(rng.integers(0, 40)), p=[.23, .23, .23, .23, .08]))
            kmers = ["".join(p) for p in product("ACGT", repeat=k)]
            counts = np.array([sum(s[i:i + k] == km for i in range(len(s) - k + 1)) for km in kmers], float)
            want = counts / counts.sum() if counts.sum() else counts
            np.testing.assert_allclose(kmer_frequencies(s, k), want, atol=1e-7)


# -- options ----------------------------------------------------------------------------------
def _vec(adapter, seq: str) -> np.ndarray:
    return adapter.embed([adapter.prepare(seq)])[0].astype(np.float64)


def test_reverse_complement_and_windows_average_pieces(data_dir, tmp_path):
    spec = get_model("random-bert-xs")
    seqs = load_task("small", data_dir).test.sequences
    plain = make_adapter(spec)
    plain.load()
    embed([spec], ["small"], tmp_path / "rc.zarr", data_dir=data_dir, device="cpu",
          options=ExtractOptions(dtype="float32", reverse_complement=True), progress=False)
    X = open_store(tmp_path / "rc.zarr").X("random-bert-xs", "small", "test")
    want = np.stack([(_vec(plain, s) + _vec(plain, reverse_complement(s))) / 2 for s in seqs])
    np.testing.assert_allclose(X, want, rtol=1e-5, atol=1e-6)

    embed([spec], ["small"], tmp_path / "w.zarr", data_dir=data_dir, device="cpu",
          options=ExtractOptions(dtype="float32", window=50, stride=30), progress=False)
    X = open_store(tmp_path / "w.zarr").X("random-bert-xs", "small", "test")
    from geneb.extract.batching import window_starts

    want = np.stack([np.mean([_vec(plain, s[a:a + 50]) for a in window_starts(len(s), 50, 30)], axis=0)
                     for s in seqs])
    np.testing.assert_allclose(X, want, rtol=1e-5, atol=1e-6)


def test_every_option_changes_the_cache_key(data_dir):
    from geneb.extract import build_cache_key
    from geneb.store import cache_key_hash

    spec = get_model("random-bert-xs")
    task = load_task("small", data_dir)
    variants = [ExtractOptions(), ExtractOptions(layer=1), ExtractOptions(pooling="cls"),
                ExtractOptions(max_length=100), ExtractOptions(window=50),
                ExtractOptions(window=50, stride=25), ExtractOptions(reverse_complement=True),
                ExtractOptions(dtype="float16"), ExtractOptions(compute_dtype="bfloat16")]
    hashes = {cache_key_hash(build_cache_key(spec, make_adapter(spec, o), "small", task.content_hash))
              for o in variants}
    assert len(hashes) == len(variants)
    a = make_adapter(spec)
    assert build_cache_key(spec, a, "small", "x") != build_cache_key(spec, a, "small", "y")
    key = build_cache_key(spec, a, "small", task.content_hash)
    assert key["extractor_version"] and key["tokenizer"] and key["revision"].startswith("seed0-torch")


# -- resume -----------------------------------------------------------------------------------
def test_interrupted_run_resumes_bit_identical(data_dir, tmp_path, monkeypatch):
    from geneb.extract.adapters.random_init import RandomInitAdapter

    spec = get_model("random-gpt2-xs")
    kw = dict(data_dir=data_dir, device="cpu", progress=False, block_rows=8, token_budget=500)
    embed([spec], ["small"], tmp_path / "clean.zarr", **kw)

    real = RandomInitAdapter.embed
    calls = {"n": 0}

    def flaky(self, batch):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt  # like Ctrl-C in the middle of a block
        return real(self, batch)

    monkeypatch.setattr(RandomInitAdapter, "embed", flaky)
    with pytest.raises(KeyboardInterrupt):
        embed([spec], ["small"], tmp_path / "cut.zarr", **kw)
    st = open_store(tmp_path / "cut.zarr")
    assert st.status("random-gpt2-xs", "small") == "partial"
    done = st.done_blocks("random-gpt2-xs", "small", "train")
    assert 0 < sum(done) < len(done)
    monkeypatch.setattr(RandomInitAdapter, "embed", real)
    s = embed([spec], ["small"], tmp_path / "cut.zarr", **kw)
    assert [p.status for p in s.pairs] == ["resumed"]
    assert s.pairs[0].rows < 40
    a, b = open_store(tmp_path / "clean.zarr"), open_store(tmp_path / "cut.zarr")
    for split in ("train", "test"):
        xa, xb = a.X("random-gpt2-xs", "small", split), b.X("random-gpt2-xs", "small", split)
        assert xa.tobytes() == xb.tobytes()
    assert embed([spec], ["small"], tmp_path / "cut.zarr", **kw).pairs[0].status == "skipped"
    prov = b.provenance("random-gpt2-xs", "small")
    flat = str(prov)
    assert "seq_per_s" in flat and "peak_memory_bytes" in flat and "tokens_per_s" in flat


# -- user errors write nothing ----------------------------------------------------------------
def test_unknown_model_id_writes_nothing(data_dir, tmp_path):
    with pytest.raises(KeyError, match="no-such-model"):
        embed(["kmer-3", "no-such-model"], ["small"], tmp_path / "s.zarr", data_dir=data_dir, progress=False)
    assert not (tmp_path / "s.zarr").exists()


def test_unknown_bases_are_embedded_counted_and_recorded(tmp_path, data_dir, caplog):
    """N outside the vocabulary becomes the unknown token (as the authors' tokenizers do):
    the pair is embedded, a warning gives the count, and the provenance records it."""
    d = build_tiny("bert", tmp_path / "no-n-bert", alphabet_without="N")
    spec = get_model(f"path:{d}")
    with caplog.at_level("WARNING", logger="geneb.extract.runner"):
        s = embed([spec], ["withn"], tmp_path / "s.zarr", data_dir=data_dir, device="cpu", progress=False)
    assert [p.status for p in s.pairs] == ["embedded"]
    st = open_store(tmp_path / "s.zarr")
    tok = st.provenance(store_model_id(spec), "withn")["tokenization"]
    task = load_task("withn", data_dir)
    n_count = sum(q.count("N") for sp in ("train", "test") for q in task.split(sp).sequences)
    assert n_count > 0
    assert tok["unknown_bases"] == n_count and tok["dropped_bases"] == 0 and tok["characters"] == {"N": "unknown"}
    warned = [r.getMessage() for r in caplog.records if "not represented by the tokenizer" in r.getMessage()]
    assert len(warned) == 1 and f"{n_count:,} base(s)" in warned[0]


def test_silently_dropped_bases_are_detected(tmp_path, data_dir):
    """GPT2-Gene's BPE has no N and no unknown token (its unk id is the pad id): N vanishes
    from the token stream. geneb embeds what the tokenizer gives, like the authors' recipe,
    and counts the dropped bases."""
    import torch

    d = build_tiny("gpt2", tmp_path / "drop-n-gpt2", alphabet_without="N", drop_unknown=True)
    spec = get_model(f"path:{d}")
    from geneb.extract.adapters import make_adapter

    auto = make_adapter(spec, ExtractOptions(dtype="float32"))
    assert auto.load() is auto and auto.model_ is auto.inner.model_ and auto.dim_ == auto.inner.dim_
    a = auto.inner  # path: models detect their family (hf-causal-lm here)
    assert a.tokenizer_.unk_token_id == a.tokenizer_.pad_token_id
    ids = a.prepare("ACGTNNACGT").tolist()
    assert a.tokenizer_.convert_ids_to_tokens(ids) == list("ACGTACGT")
    audit = a.audit(["ACGT", "ACNNGT"], "t/train")
    assert audit.characters == {"N": "dropped"} and audit.dropped_bases == 2 and audit.unknown_bases == 0
    with torch.no_grad():  # the authors' recipe: tokenizer, forward, masked mean
        enc = a.tokenizer_("ACGTNNACGT", return_tensors="pt")
        ref = a.model_(**enc).last_hidden_state[0].mean(0).numpy()
    np.testing.assert_allclose(a.embed([a.prepare("ACGTNNACGT")])[0], ref, rtol=1e-5, atol=1e-6)
    auto.close()  # the runner's step to the next model: nothing may keep the weights alive
    assert auto.model_ is None and auto.tokenizer_ is None and a.model_ is None
    s = embed([spec], ["withn"], tmp_path / "s.zarr", data_dir=data_dir, device="cpu", progress=False)
    tok = open_store(tmp_path / "s.zarr").provenance(s.pairs[0].model, "withn")["tokenization"]
    assert tok["dropped_bases"] > 0 and tok["unknown_bases"] == 0


def test_strict_tokens_refuses_and_writes_nothing(tmp_path, data_dir):
    d = build_tiny("bert", tmp_path / "no-n-bert", alphabet_without="N")
    spec = get_model(f"path:{d}")
    with pytest.raises(UnsupportedSequenceError, match=r"task 'withn'.*row \d+: character 'N' at position \d+ is unknown"):
        embed([spec], ["withn"], tmp_path / "s.zarr", data_dir=data_dir, device="cpu", progress=False,
              strict_tokens=True)
    st = open_store(tmp_path / "s.zarr") if (tmp_path / "s.zarr").exists() else None
    assert st is None or st.status(store_model_id(spec), "withn") == "missing"


def test_missing_extra_fails_at_once(monkeypatch, data_dir, tmp_path):
    from geneb.extract.adapters.random_init import RandomInitAdapter

    monkeypatch.setattr(RandomInitAdapter, "requires", ("torch", "geneb_no_such_package"))
    with pytest.raises(MissingExtraError, match=r"geneb_no_such_package.*pip install 'geneb\[extract\]'"):
        embed(["kmer-3", "random-bert-xs"], ["small"], tmp_path / "s.zarr", data_dir=data_dir, progress=False)
    assert not (tmp_path / "s.zarr").exists()
    from geneb.extract import can_run

    ok, why = can_run(get_model("random-bert-xs"))
    assert not ok and "geneb[extract]" in why


def test_same_pair_under_another_cache_key_is_refused(data_dir, tmp_path):
    store = tmp_path / "s.zarr"
    embed(["kmer-3"], ["small"], store, data_dir=data_dir, progress=False)
    before = open_store(store).X("kmer-3", "small", "train")
    with pytest.raises(CacheKeyMismatch, match="dtype"):
        embed(["kmer-3"], ["small"], store, data_dir=data_dir, progress=False,
              options=ExtractOptions(dtype="float16"))
    st = open_store(store)
    assert st.status("kmer-3", "small") == "complete"
    assert st.X("kmer-3", "small", "train").tobytes() == before.tobytes()
    s = embed(["kmer-3"], ["small"], store, data_dir=data_dir, progress=False, overwrite=True,
              options=ExtractOptions(dtype="float16"))
    assert s.pairs[0].status == "embedded"
    assert open_store(store).cache_key("kmer-3", "small")["dtype"] == "float16"


def test_embed_pair_is_self_contained(data_dir, tmp_path):
    r = embed_pair(str(tmp_path / "s.zarr"), "kmer-4", "small", data_dir=data_dir)
    assert r.status == "embedded" and r.rows == 40
    X = open_store(tmp_path / "s.zarr").X("kmer-4", "small", "train")
    assert X.shape == (30, 256)
    np.testing.assert_allclose(X.sum(axis=1), 1.0, atol=2e-3)


def test_cli_embed_and_errors(data_dir, tmp_path, capsys):
    from geneb.cli import main

    store = str(tmp_path / "c.zarr")
    assert main(["embed", "--models", "kmer-3", "--data", str(data_dir), "--tasks", "small",
                 "--store", store, "--no-progress"]) == 0
    assert "1 embedded" in capsys.readouterr().out
    assert main(["embed", "--models", "nope", "--data", str(data_dir), "--store", store]) == 2
    assert "unknown model id 'nope'" in capsys.readouterr().err
    assert main(["embed", "--models", "kmer-3", "--data", str(data_dir), "--tasks", "small",
                 "--store", store, "--dtype", "float16", "--no-progress"]) == 2
    assert "under another cache key (dtype" in capsys.readouterr().err


def test_cli_help_documents_every_option(capsys):
    from geneb.cli import main

    with pytest.raises(SystemExit):
        main(["embed", "--help"])
    out = capsys.readouterr().out
    for opt in ("--models", "--tasks", "--benchmark", "--data", "--store", "--device", "--dtype",
                "--token-budget", "--overwrite", "--model-file", "--layer", "--pooling", "--max-length",
                "--window", "--stride", "--reverse-complement", "--trust-remote-code", "--block-rows",
                "--dask", "--threads", "--compute-dtype"):
        assert opt in out



@pytest.mark.parametrize("model_id", ["random-esm-xs", "random-mamba-xs"])
def test_builtin_networks_batched_equal_single(model_id):
    """Padding and sorting change nothing for the built-in ESM and Mamba (state-space) nets."""
    from geneb.extract.runner import embed_rows

    a = make_adapter(get_model(model_id))
    a.load()
    rng = np.random.default_rng(0)
    seqs = ["".join(rng.choice(list("ACGT"), size=int(n))) for n in rng.integers(5, 120, size=12)]
    X, _ = embed_rows(a, seqs, 300)
    single = np.stack([a.embed([a.prepare(s)])[0] for s in seqs])
    rel = np.linalg.norm(X - single, axis=1) / np.linalg.norm(single, axis=1)
    assert rel.max() <= 1e-5


def test_tasks_beyond_the_memory_budget_are_reread_not_held(data_dir, tmp_path, monkeypatch):
    """embed() validates every task first, but holds only TASK_CACHE_BASES of sequence
    across models; the rest are re-read per pair, with the same vectors."""
    from geneb.extract import runner

    full = embed(["kmer-3", "kmer-4"], ["eq", "small"], tmp_path / "a.zarr", data_dir=data_dir, progress=False)
    loads: list[str] = []
    real_load = runner.load_task

    def counting_load(task_id, d=None):
        loads.append(task_id)
        return real_load(task_id, d)

    monkeypatch.setattr(runner, "load_task", counting_load)
    monkeypatch.setattr(runner, "TASK_CACHE_BASES", 0)
    lean = embed(["kmer-3", "kmer-4"], ["eq", "small"], tmp_path / "b.zarr", data_dir=data_dir, progress=False)
    assert loads == ["eq", "small"] * 3  # validation pass, then once per (model, task)
    assert [p.status for p in lean.pairs] == [p.status for p in full.pairs]
    a, b = open_store(tmp_path / "a.zarr"), open_store(tmp_path / "b.zarr")
    for m in ("kmer-3", "kmer-4"):
        for t in ("eq", "small"):
            np.testing.assert_array_equal(a.X(m, t, "test"), b.X(m, t, "test"))


def test_default_storage_is_the_computed_float32_bit_for_bit(data_dir, tmp_path):
    """geneb-v1 is exact by default: what the probe reads is what the model computed (k-mer
    vectors are batch-independent, so the comparison can be bitwise)."""
    assert ExtractOptions().dtype == "float32"
    spec = get_model("kmer-4")
    task = load_task("eq", data_dir)
    store = tmp_path / "s.zarr"
    embed([spec], ["eq"], store, data_dir=data_dir, device="cpu", progress=False, block_rows=16)
    st = open_store(store)
    mid = store_model_id(spec)
    assert not np.array_equal(st.X(mid, "eq", "train"), st.X(mid, "eq", "train").astype(np.float16))
    assert st.cache_key(mid, "eq")["dtype"] == "float32"
    adapter = make_adapter(spec)
    adapter.load()
    for split in ("train", "test"):
        seqs = task.split(split).sequences
        direct = np.concatenate([np.asarray(adapter.embed([adapter.prepare(s)]), dtype=np.float32) for s in seqs])
        X = st.X(mid, "eq", split)
        assert X.dtype == np.float32
        np.testing.assert_array_equal(X, direct)
