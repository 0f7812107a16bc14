"""Extractor core units: pooling, batching plans, windows, options, registry, family
detection, devices; and the Nucleotide Transformer 6-mer tokenizer path end to end."""

from __future__ import annotations

import json
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from geneb.catalog import ModelSpec, get_model
from geneb.extract import ExtractError, ExtractOptions, MissingExtraError, adapter_class, can_run
from geneb.extract.batching import pieces_for, plan_batches, reverse_complement, window_starts
from geneb.extract.runner import resolve_device, store_model_id


# -- batching ----------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(1, 3000), min_size=0, max_size=200), st.integers(1, 20000))
def test_plan_batches_covers_each_item_once_within_budget(lengths, budget):
    batches = plan_batches(lengths, budget, max_batch=64)
    flat = np.concatenate(batches) if batches else np.array([], dtype=np.int64)
    assert sorted(flat.tolist()) == list(range(len(lengths)))
    for b in batches:
        width = max(lengths[i] for i in b)
        assert len(b) <= 64
        assert len(b) == 1 or len(b) * width <= budget
    # longest first, so padding inside a batch is minimal
    widths = [max(lengths[i] for i in b) for b in batches]
    assert widths == sorted(widths, reverse=True)
    assert [x.tolist() for x in plan_batches(lengths, budget, 64)] == [x.tolist() for x in batches]


def test_plan_batches_rejects_bad_budget():
    with pytest.raises(ValueError, match="token budget"):
        plan_batches([1, 2], 0)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 500), st.integers(1, 100), st.data())
def test_windows_cover_the_sequence(length, window, data):
    stride = data.draw(st.integers(1, window))
    starts = window_starts(length, window, stride)
    covered = np.zeros(length, dtype=bool)
    for a in starts:
        covered[a : a + window] = True
        assert 0 <= a and (a + window <= length or (a == 0 and length <= window))
    assert covered.all()
    assert starts == sorted(set(starts))


def test_pieces_and_reverse_complement():
    assert reverse_complement("AACGTN") == "NACGTT"
    p = pieces_for(["ACGTAC", "GG"], window=4, stride=2, rc=True)
    assert [(x.row, x.seq) for x in p] == [
        (0, "ACGT"), (0, "ACGT"), (0, "GTAC"), (0, "GTAC"), (1, "GG"), (1, "CC")]
    assert [x.seq for x in pieces_for(["ACGTAC"], None, None, False)] == ["ACGTAC"]


# -- options -----------------------------------------------------------------------------------
@pytest.mark.parametrize("kw,msg", [
    (dict(pooling="max"), "unknown pooling"), (dict(dtype="int8"), "storage dtype"),
    (dict(compute_dtype="fp8"), "compute dtype"), (dict(window=0), "window must be a positive"),
    (dict(stride=5), "stride needs window"), (dict(window=10, stride=20), "larger than window"),
    (dict(max_length=-3), "max_length must be"),
])
def test_bad_options_are_clear(kw, msg):
    with pytest.raises(ExtractError, match=msg):
        ExtractOptions(**kw)


def test_resolve_device():
    assert resolve_device("cpu") == "cpu"
    assert resolve_device("auto") in ("cpu", "cuda")
    with pytest.raises(ExtractError, match="unknown device"):
        resolve_device("tpu")


# -- registry and availability -----------------------------------------------------------------
def test_registry_maps_families_to_modules():
    assert adapter_class("kmer").family == "kmer"
    assert adapter_class("hf-causal-lm").__module__ == "geneb.extract.adapters.hf_causal_lm"
    with pytest.raises(ExtractError, match="unknown adapter family"):
        adapter_class("no-such-family")


def test_missing_family_module_is_a_missing_extra(monkeypatch):
    import importlib

    real = importlib.import_module

    def fake(name, *a, **k):
        if name == "geneb.extract.adapters.evo":
            raise ModuleNotFoundError("No module named 'stripedhyena'", name="stripedhyena")
        return real(name, *a, **k)

    monkeypatch.setattr(importlib, "import_module", fake)
    with pytest.raises(MissingExtraError, match="stripedhyena"):
        adapter_class("evo")


def test_can_run_builtins_and_hub_models(monkeypatch):
    assert can_run(get_model("kmer-3")) == (True, "ok")
    pytest.importorskip("torch")
    assert can_run(get_model("random-bert-xs"))[0]
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    ok, why = can_run(get_model("GROVER"))
    assert not ok and "HF_HUB_OFFLINE" in why


def test_store_model_id():
    assert store_model_id(get_model("kmer-3")) == "kmer-3"
    spec = ModelSpec(model_id="path:/x/my model!", display="m", family="hf-auto", weights="/x/my model!")
    assert store_model_id(spec) == "my_model_"


# -- hf-auto family detection ------------------------------------------------------------------
@pytest.mark.parametrize("cfg,family,remote", [
    ({"model_type": "bert"}, "hf-encoder", False),
    ({"model_type": "esm"}, "nucleotide-transformer", False),
    ({"model_type": "llama"}, "hf-causal-lm", False),
    ({"model_type": "olmo"}, "hf-causal-lm", False),
    ({"model_type": "bert", "auto_map": {"AutoModel": "bert_layers.BertModel"}}, "dnabert2", True),
    ({"model_type": "hyenadna", "auto_map": {"AutoModel": "modeling_hyena.HyenaDNAModel"}}, "hyenadna", True),
    ({"model_type": "caduceus", "auto_map": {"AutoModel": "modeling_caduceus.Caduceus"}}, "caduceus", True),
])
def test_detect_family(tmp_path, cfg, family, remote):
    from geneb.extract.adapters.hf_auto import detect_family

    (tmp_path / "config.json").write_text(json.dumps(cfg))
    assert detect_family(tmp_path) == (family, remote)


def test_detect_family_errors(tmp_path):
    from geneb.extract.adapters.hf_auto import detect_family

    (tmp_path / "config.json").write_text(json.dumps({"model_type": "weird"}))
    with pytest.raises(ExtractError, match="'weird' is not one geneb knows"):
        detect_family(tmp_path)
    (tmp_path / "config.json").write_text("{nope")
    with pytest.raises(ExtractError, match="invalid JSON"):
        detect_family(tmp_path)


def test_remote_code_directory_needs_explicit_trust(tmp_path):
    from geneb.extract import make_adapter

    (tmp_path / "config.json").write_text(json.dumps(
        {"model_type": "bert", "auto_map": {"AutoModel": "bert_layers.BertModel"}}))
    spec = get_model(f"path:{tmp_path}")
    try:
        make_adapter(spec)
    except MissingExtraError:
        pytest.skip("the dnabert2 family cannot run here")
    except ExtractError as exc:
        assert "--trust-remote-code" in str(exc)
    else:
        pytest.fail("a directory with auto_map ran without trust_remote_code")


# -- pooling -----------------------------------------------------------------------------------
def test_pooling_rules_ignore_padding_side():
    torch = pytest.importorskip("torch")
    from geneb.extract.pooling import pool

    g = torch.Generator().manual_seed(0)
    h = torch.randn(3, 6, 4, generator=g)
    lens = [6, 3, 1]
    right = torch.tensor([[1] * n + [0] * (6 - n) for n in lens])
    h_left = torch.zeros_like(h)
    for i, n in enumerate(lens):
        h_left[i, 6 - n:] = h[i, :n]
    left = torch.flip(right, dims=[1])
    for rule in ("mean", "cls", "last-token"):
        a, b = pool(rule, h, right), pool(rule, h_left, left)
        torch.testing.assert_close(a, b)
    torch.testing.assert_close(pool("mean", h, right)[1], h[1, :3].mean(0))
    torch.testing.assert_close(pool("cls", h, right)[2], h[2, 0])
    torch.testing.assert_close(pool("last-token", h, right)[1], h[1, 2])
    torch.testing.assert_close(pool("penultimate-token", h[:2], right[:2])[1], h[1, 1])
    with pytest.raises(ValueError, match="too short"):
        pool("penultimate-token", h, right)
    assert pool("mean", h.to(torch.bfloat16), right).dtype == torch.float32
    torch.testing.assert_close(pool("spatial-mean", h, None), h.mean(1))


# -- Nucleotide Transformer: 6-mer EsmTokenizer, ESM encoder ----------------------------------
def test_nucleotide_transformer_kmer_tokenizer_end_to_end(tmp_path):
    torch = pytest.importorskip("torch")
    import transformers
    from _tiny_models import write_task

    from geneb.extract import embed
    from geneb.store import open_store

    torch.set_num_threads(1)
    d = tmp_path / "nt"
    d.mkdir()
    vocab = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>"]
    vocab += ["".join(p) for p in product("ACGT", repeat=6)] + list("ACGTN")
    (d / "vocab.txt").write_text("\n".join(vocab))
    tok = transformers.EsmTokenizer(str(d / "vocab.txt"), unk_token="<unk>", pad_token="<pad>",
                                    mask_token="<mask>", cls_token="<cls>", eos_token="<eos>",
                                    model_max_length=40)
    tok.save_pretrained(d)
    cfg = transformers.EsmConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=4, intermediate_size=64, max_position_embeddings=64,
                                 pad_token_id=1, mask_token_id=2, position_embedding_type="rotary",
                                 token_dropout=True, emb_layer_norm_before=False)
    torch.manual_seed(0)
    transformers.EsmModel(cfg, add_pooling_layer=False).save_pretrained(d)
    data = tmp_path / "data"
    write_task(data, "nt", 12, 6, min_len=10, max_len=400, seed=4, alphabet="ACGTACGTN")
    spec = get_model(f"path:{d}")
    embed([spec], ["nt"], tmp_path / "s.zarr", data_dir=data, device="cpu", token_budget=120,
          options=ExtractOptions(dtype="float32"), progress=False)
    X = open_store(tmp_path / "s.zarr").X(store_model_id(spec), "nt", "train")
    from geneb.data import load_task

    model = transformers.EsmModel.from_pretrained(d).eval()
    ref_tok = transformers.AutoTokenizer.from_pretrained(d)
    with torch.no_grad():
        ref = np.stack([model(**ref_tok(s, return_tensors="pt", truncation=True, max_length=40))
                        .last_hidden_state[0].mean(0).numpy() for s in load_task("nt", data).train.sequences])
    rel = np.linalg.norm(X - ref, axis=1) / np.linalg.norm(ref, axis=1)
    assert rel.max() <= 1e-5


# -- out-of-memory: halve and retry ------------------------------------------------------------
def test_cuda_oom_halves_the_batch_and_gives_the_same_vectors():
    torch = pytest.importorskip("torch")
    from geneb.extract.adapters.kmer import KmerAdapter
    from geneb.extract.runner import _Budget, embed_rows

    class Flaky(KmerAdapter):
        sizes: list[int] = []

        def embed(self, batch):
            self.sizes.append(len(batch))
            if len(batch) > 3:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
            return super().embed(batch)

    spec = get_model("kmer-3")
    seqs = ["ACGT" * (i + 1) for i in range(10)]
    plain, _ = embed_rows(KmerAdapter(spec, ExtractOptions(), "cpu"), seqs, 10_000)
    flaky = Flaky(spec, ExtractOptions(), "cpu")
    budget = _Budget(10_000)
    got, _ = embed_rows(flaky, seqs, budget)
    np.testing.assert_array_equal(got, plain)
    assert budget.oom_halvings >= 1 and budget.tokens < 10_000
    assert max(s for s in flaky.sizes[1:]) <= 10 and 10 in flaky.sizes

    class Broken(KmerAdapter):
        def embed(self, batch):
            raise RuntimeError("some other failure")

    with pytest.raises(RuntimeError, match="some other failure"):
        embed_rows(Broken(spec, ExtractOptions(), "cpu"), seqs, 10_000)


def test_kmer_key_does_not_depend_on_device():
    from geneb.extract import build_cache_key
    from geneb.extract.adapters.kmer import KmerAdapter

    spec = get_model("kmer-4")
    a = build_cache_key(spec, KmerAdapter(spec, ExtractOptions(), "cpu"), "t", "h")
    b = build_cache_key(spec, KmerAdapter(spec, ExtractOptions(), "cuda"), "t", "h")
    assert a == b and a["extra"]["compute_dtype"] is None


def test_kmer_embeds_and_neural_models_fail_clearly_without_torch(tmp_path):
    import subprocess
    import sys

    from _tiny_models import write_task

    write_task(tmp_path / "d", "t", 6, 4, seed=5)
    code = (
        "import sys; sys.modules['torch'] = None; sys.modules['transformers'] = None\n"
        "from geneb.extract import embed, MissingExtraError\n"
        f"s = embed(['kmer-3'], ['t'], {str(tmp_path / 's.zarr')!r}, data_dir={str(tmp_path / 'd')!r}, progress=False)\n"
        "print(s)\n"
        "try:\n"
        f"    embed(['random-bert-xs'], ['t'], {str(tmp_path / 's.zarr')!r}, data_dir={str(tmp_path / 'd')!r})\n"
        "except MissingExtraError as e:\n"
        "    print('MISSING', e)\n"
        "assert 'torch' not in [m for m in sys.modules if sys.modules[m] is not None]\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert "1 embedded" in r.stdout
    assert "MISSING model 'random-bert-xs'" in r.stdout and "pip install 'geneb[extract]'" in r.stdout
