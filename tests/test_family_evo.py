"""Evo on the authors' real code: `stripedhyena` 0.2.2 and `evo-model` 0.5 from PyPI.

A shrunk random-weight StripedHyena (Hyena blocks only: the attention blocks need
flash-attention and a GPU) is saved in the hub layout (`config.json`, `model.safetensors`
with the wrapper's `backbone.` prefix and the tied unembedding stored once, as Evo-1's
checkpoints are). geneb's vectors must equal the authors' loader
(`evo.models.load_checkpoint`, run for real, with only the download and its YAML pointed
at the test model) followed by the GENEB reference's tap (final norm, mean), on sequences
with N and lower case. Nothing here goes through transformers, so the result is the same
on transformers 4.57 and 5.25.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from geneb.catalog import ModelSpec
from geneb.extract.adapters import MissingExtraError, UnsupportedSequenceError, make_adapter

torch = pytest.importorskip("torch")
pytest.importorskip("stripedhyena", reason="stripedhyena (Evo's model code) is not installed: tests/requirements-realcode.txt")
pytest.importorskip("safetensors")

from remote_fixtures import max_rel_error  # noqa: E402

SEQS = ["ACGTNNACGTacgt", "TTGACCA", "acgtnACGTTTGCA", "GGGCCCAATTNNNN", "A"]

# The fields of Evo-1's inference config (evo-model 0.5 configs/evo-1-131k-base_inference.yml),
# shrunk, with no attention blocks.
TINY = dict(
    vocab_size=512, hidden_size=32, num_filters=32, max_sequence_len=256, attn_layer_idxs=[],
    hyena_layer_idxs=[0, 1, 2], num_layers=3, short_filter_length=3, num_attention_heads=4,
    short_filter_bias=True, mlp_init_method="torch.nn.init.zeros_", mlp_output_init_method="torch.nn.init.zeros_",
    eps=1e-6, state_size=8, inner_size_multiple_of=16, smeared_gqa=False, make_vocab_size_divisible_by=8,
    log_intermediate_values=False, proj_groups=1, hyena_filter_groups=1, split_k0=True, model_parallel_size=1,
    pile_parallel_size=1, tie_embeddings=True, inner_mlp_size=None, mha_out_proj_bias=True, qkv_proj_bias=True,
    final_norm=True, rng_fork=False, use_flash_attn=True, use_flash_rmsnorm=False, use_flash_depthwise=False,
    use_flashfft=False, column_split=True, inference_mode=True, tokenizer_type="CharLevelTokenizer",
    prefill_style="fft", mlp_activation="gelu",
)


def build_checkpoint(dest, config=TINY, seed=0):
    """A random StripedHyena saved as the hub repo holds it."""
    from safetensors.torch import save_file
    from stripedhyena.model import StripedHyena
    from stripedhyena.utils import dotdict

    torch.manual_seed(seed)
    model = StripedHyena(dotdict(config))
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "poles" not in name and "residues" not in name:
                p.normal_(0.0, 0.3)
    state = {f"backbone.{k}": v.contiguous() for k, v in model.state_dict().items() if k != "unembed.weight"}
    dest.mkdir(parents=True, exist_ok=True)
    save_file(state, str(dest / "model.safetensors"))
    hub = {**config, "architectures": ["StripedHyenaModelForCausalLM"], "model_type": "stripedhyena",
           "auto_map": {"AutoConfig": "configuration_hyena.StripedHyenaConfig",
                        "AutoModelForCausalLM": "modeling_hyena.StripedHyenaModelForCausalLM"}}
    (dest / "config.json").write_text(json.dumps(hub))
    return dest


def spec(weights, **kw):
    base = dict(model_id="evo-test", display="Evo test", family="evo", weights=str(weights), source="user",
                revision="1.1_fix", trust_remote_code=True, special_tokens="none", max_length=64,
                length_unit="tokens", length_policy="reject", pooling="mean", layer=-1)
    base.update(kw)
    return ModelSpec(**base)


def authors_model(directory, monkeypatch):
    """`evo.models.load_checkpoint` itself, its download and YAML pointed at `directory`."""
    evo_models = pytest.importorskip("evo.models", reason="evo-model (Evo's loader) is not installed")
    import huggingface_hub
    import yaml

    monkeypatch.setattr(huggingface_hub, "snapshot_download", lambda name, revision=None, **k: str(directory))
    cfg = {k: v for k, v in json.loads((directory / "config.json").read_text()).items()
           if k not in ("architectures", "model_type", "auto_map")}
    monkeypatch.setattr(evo_models.pkgutil, "get_data", lambda pkg, path: yaml.safe_dump(cfg).encode())
    return evo_models.load_checkpoint(model_name="evo-1-131k-base", config_path="configs/x.yml", device="cpu").eval()


def reference_vectors(model, seqs, tap="norm"):
    """The GENEB reference's tap: the final norm's output (the unembedding's input), mean over tokens."""
    out = []
    module = model.norm if tap == "norm" else model.blocks[tap]
    got: list = []
    for s in seqs:
        h = module.register_forward_hook(lambda _m, _i, o: got.append(o[0] if isinstance(o, tuple) else o))
        with torch.no_grad():
            model(torch.tensor([list(s.encode())]))
        h.remove()
        out.append(got[-1][0].float().mean(0).numpy())
    return np.stack(out)


def test_geneb_equals_the_authors_loader_and_recipe(tmp_path, monkeypatch):
    d = build_checkpoint(tmp_path / "evo")
    a = make_adapter(spec(d))
    a.load()
    assert a.dim_ == 32 and a.prepare("ACGTN").tolist() == [65, 67, 71, 84, 78]
    X = np.concatenate([a.embed([a.prepare(s)]) for s in SEQS])  # one record per batch: the reference's shapes
    ref = reference_vectors(authors_model(d, monkeypatch), SEQS)
    assert max_rel_error(X, ref) < 1e-5
    # the weights are the authors' dtypes: bfloat16 except the poles and residues
    dtypes = {n: p.dtype for n, p in a.model_.named_parameters()}
    assert {d for n, d in dtypes.items() if "poles" in n or "residues" in n} == {torch.float32}
    assert {d for n, d in dtypes.items() if "poles" not in n and "residues" not in n} == {torch.bfloat16}


def test_padded_batches_leave_each_record_at_its_solo_value_within_bfloat16(tmp_path):
    """Causal model + zeroed pads: real positions never see a pad; the only difference is the
    FFT length of the long convolution, at bfloat16 rounding."""
    a = make_adapter(spec(build_checkpoint(tmp_path / "evo")))
    a.load()
    solo = np.concatenate([a.embed([a.prepare(s)]) for s in SEQS])
    batched = a.embed([a.prepare(s) for s in SEQS])
    assert max_rel_error(batched, solo) < 2e-2


def test_intermediate_layer_taps_its_block(tmp_path, monkeypatch):
    d = build_checkpoint(tmp_path / "evo")
    a = make_adapter(spec(d, layer=2))
    a.load()
    X = np.concatenate([a.embed([a.prepare(s)]) for s in SEQS])
    assert max_rel_error(X, reference_vectors(authors_model(d, monkeypatch), SEQS, tap=1)) < 1e-5


def test_tied_unembedding_and_a_mismatched_checkpoint(tmp_path):
    d = build_checkpoint(tmp_path / "evo")
    a = make_adapter(spec(d))
    a.load()
    assert a.model_.unembed.weight.data_ptr() == a.model_.embedding_layer.weight.data_ptr()
    cfg = json.loads((d / "config.json").read_text())
    (d / "config.json").write_text(json.dumps({**cfg, "hidden_size": 48, "num_filters": 48}))
    with pytest.raises(Exception, match="does not match its config"):
        make_adapter(spec(d)).load()


def test_reject_policy_names_the_row(tmp_path):
    a = make_adapter(spec(build_checkpoint(tmp_path / "evo"), max_length=24))
    with pytest.raises(UnsupportedSequenceError, match=r"t/train: row 1: 25 bases exceed the 24-token context"):
        a.validate(["ACGT", "A" * 25], "t/train")
    a.load()
    with pytest.raises(UnsupportedSequenceError, match="length_policy = reject"):
        a.prepare("A" * 25)


def test_attention_blocks_need_flash_attention_and_a_gpu(tmp_path, monkeypatch):
    """The catalog's Evo (attention at blocks 8, 16, 24) needs flash-attention and CUDA; a
    Hyena-only checkpoint needs neither."""
    import geneb.extract.adapters.base as adapter_base

    d = tmp_path / "evo"  # only the config: its attention blocks cannot even be built without flash-attention
    d.mkdir()
    (d / "config.json").write_text(json.dumps({**TINY, "attn_layer_idxs": [1], "hyena_layer_idxs": [0, 2]}))
    monkeypatch.setattr(adapter_base, "cuda_available", lambda: False)
    real_missing = adapter_base.missing_modules
    monkeypatch.setattr(adapter_base, "missing_modules", lambda mods: [m for m in real_missing(mods) if m != "flash_attn"])
    with pytest.raises(MissingExtraError, match="CUDA GPU"):
        make_adapter(spec(d))
    make_adapter(spec(build_checkpoint(tmp_path / "evo2")))  # Hyena-only: fine on this CPU


def test_hub_weights_come_from_the_pinned_revision_without_anything_else(tmp_path, monkeypatch):
    import huggingface_hub

    d = build_checkpoint(tmp_path / "evo")
    calls = []

    def fake_snapshot(repo, revision=None, allow_patterns=None, **kw):
        calls.append((repo, revision, tuple(allow_patterns or ())))
        return str(d)

    monkeypatch.setattr(huggingface_hub, "snapshot_download", fake_snapshot)
    from geneb.extract.adapters.evo import EvoAdapter

    # the hub's Evo has attention blocks (flash-attention, GPU); the file served here has none
    monkeypatch.setattr(EvoAdapter, "requirements", classmethod(lambda cls, s: (("torch",), False)))
    a = make_adapter(spec("togethercomputer/evo-1-131k-base"))
    a.load()
    repo, rev, patterns = calls[0]
    assert repo == "togethercomputer/evo-1-131k-base" and rev == "1.1_fix"
    assert patterns and all("safetensors" in p or p == "config.json" for p in patterns)
