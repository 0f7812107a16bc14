"""`geneb models --check --deep` (geneb/extract/preflight.py), offline.

The hub download is replaced by a function returning a local directory in the hub layout:
the remote-code fixture `tests/fixtures/remote/nt-v2` (NT v2's auto_map, remote
`EsmForMaskedLM` with the bias-free SwiGLU) and `nt-v1` (native ESM), each with fake weight
files added that must never be copied. A good model loads and embeds; a copy whose
modeling file imports a module that does not exist is reported broken and the CLI exits 1;
without the injected directory and with the hub offline, "needs hub access". Runs under
transformers 5.x (`.venv`) and 4.x (`.venv-tf4`).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from geneb.catalog import get_model
from geneb.cli import main
from geneb.extract import preflight

NT_V2 = "nucleotide-transformer-v2-50m-multi-species"  # catalog: remote code, trust_remote_code
NT_V1 = "nucleotide-transformer-2.5b-multi-species"  # catalog: native ESM checkpoint
FIXTURES = Path(__file__).parent / "fixtures" / "remote"


def _hub_dir(tmp: Path, name: str) -> Path:
    """A fixture as a hub snapshot: its files plus weight files that must not be fetched."""
    d = tmp / "hub" / name
    shutil.copytree(FIXTURES / name, d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "README.md"))
    (d / "model.safetensors").write_bytes(b"not weights")
    (d / "pytorch_model.bin").write_bytes(b"not weights")
    (d / "model.safetensors.index.json").write_text('{"weight_map": {"x": "model-00001.safetensors"}}')
    return d


class FakeHub:
    """`download` stand-in: repo id -> local directory; records every call."""

    def __init__(self, repos: dict[str, Path]):
        self.repos = repos
        self.calls: list[tuple[str, str | None, tuple[str, ...], tuple[str, ...]]] = []

    def __call__(self, repo_id, revision, allow, ignore):
        self.calls.append((repo_id, revision, tuple(allow), tuple(ignore)))
        return self.repos[repo_id]


def _check(tmp: Path, model_id: str, hub_dir: Path, **kw):
    spec = get_model(model_id)
    hub = FakeHub({spec.weights: hub_dir})
    (res,) = preflight.deep_check([spec], download=hub, **kw)
    return res, hub, spec


# -- a good model ------------------------------------------------------------------------------


def test_nt_v2_remote_code_loads_and_embeds(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from safetensors import safe_open

    work = tmp_path / "work"
    res, hub, spec = _check(tmp_path, NT_V2, _hub_dir(tmp_path, "nt-v2"), work_dir=work)
    assert res.status == "ok", res
    assert res.loads is True and res.embeds is True and not res.failed and res.error == ""
    assert res.dim == 32  # the fixture's width (already below the shrink width)
    assert res.tokens == "a c g n t -> unk"  # NT's vocabulary has N but no lower case
    assert res.source == f"{spec.weights}@{spec.revision}"
    # one download, at the pinned revision, for config/tokenizer/code only
    [(repo, rev, allow, ignore)] = hub.calls
    assert (repo, rev) == (spec.weights, spec.revision)
    assert "*.json" in allow and "*.py" in allow and "*.safetensors" in ignore and "*.bin" in ignore
    # the weights on the "hub" were never copied; the random ones are the remote class's
    d = work / preflight._safe(NT_V2)
    assert not (d / "pytorch_model.bin").exists() and not (d / "model.safetensors.index.json").exists()
    with safe_open(str(d / "model.safetensors"), "pt") as f:
        keys = set(f.keys())
        w = f.get_tensor("esm.encoder.layer.0.intermediate.dense.weight")
    cfg = json.loads((d / "config.json").read_text())
    assert w.shape == (2 * cfg["intermediate_size"], cfg["hidden_size"])  # SwiGLU: native ESM is (I, H)
    assert "esm.encoder.layer.0.intermediate.dense.bias" not in keys and "lm_head.dense.weight" in keys
    assert cfg["num_hidden_layers"] == 2 and cfg["num_attention_heads"] == 2


def test_nt_v1_native_esm_loads_and_embeds(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    res, _, _ = _check(tmp_path, NT_V1, _hub_dir(tmp_path, "nt-v1"))
    assert (res.status, res.loads, res.embeds) == ("ok", True, True), res
    assert res.dim and res.tokens.endswith("-> unk")


# -- broken models -------------------------------------------------------------------------------


def _broken_import(tmp: Path) -> Path:
    d = _hub_dir(tmp, "nt-v2")
    p = d / "modeling_esm.py"
    p.write_text("import geneb_no_such_module_4711  # noqa\n" + p.read_text())
    return d


def test_modeling_file_that_cannot_import_is_broken(tmp_path):
    pytest.importorskip("transformers")
    res, _, _ = _check(tmp_path, NT_V2, _broken_import(tmp_path))
    assert res.status == "broken" and res.failed
    assert res.loads is False and res.embeds is None and res.stage == "build"
    assert "geneb_no_such_module_4711" in res.error and len(res.error) <= 200


def test_broken_tokenizer_fails_in_the_adapter_load(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    d = _hub_dir(tmp_path, "nt-v2")
    tc = json.loads((d / "tokenizer_config.json").read_text())
    tc["tokenizer_class"] = "GenebNoSuchTokenizer"
    (d / "tokenizer_config.json").write_text(json.dumps(tc))
    res, _, _ = _check(tmp_path, NT_V2, d)
    assert (res.status, res.stage, res.loads) == ("broken", "load", False), res
    assert "tokenizer" in res.error.lower()


def test_cli_reports_broken_and_good_and_exits_nonzero(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    good, bad = get_model(NT_V1), get_model(NT_V2)
    hub = FakeHub({good.weights: _hub_dir(tmp_path / "a", "nt-v1"), bad.weights: _broken_import(tmp_path / "b")})
    monkeypatch.setattr(preflight, "hub_download", hub)
    assert main(["models", "--check", "--deep", "--models", f"{NT_V1},{NT_V2}", "--json"]) == 1
    rows = {r["model_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows[NT_V1]["status"] == "ok" and rows[NT_V1]["loads"] and rows[NT_V1]["embeds"]
    assert rows[NT_V2]["status"] == "broken" and rows[NT_V2]["loads"] is False
    # the good one alone passes; the table names the columns a user reads
    assert main(["models", "--check", "--deep", "--models", NT_V1]) == 0
    out = capsys.readouterr().out
    for col in ("model_id", "status", "loads", "embeds", "error"):
        assert col in out.splitlines()[0]
    assert NT_V1 in out and "1 ok" in out


def test_model_file_selects_its_models(tmp_path, monkeypatch, capsys):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    hub = FakeHub({"me/my-ntv2": _hub_dir(tmp_path, "nt-v2")})
    monkeypatch.setattr(preflight, "hub_download", hub)
    mf = tmp_path / "m.toml"
    mf.write_text('["my-ntv2"]\nweights = "me/my-ntv2"\nrevision = "abc123"\nfamily = "nucleotide-transformer"\n'
                  "trust_remote_code = true\nmax_length = 64\n")
    assert main(["models", "--check", "--deep", "--model-file", str(mf), "--json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["model_id"] == "my-ntv2" and row["status"] == "ok"
    assert [c[:2] for c in hub.calls] == [("me/my-ntv2", "abc123")]


# -- no hub access ---------------------------------------------------------------------------------


def _offline(monkeypatch, tmp: Path) -> None:
    hf = pytest.importorskip("huggingface_hub")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(hf.constants, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(hf.constants, "HF_HUB_CACHE", str(tmp / "empty-hf-cache"))


def test_offline_reports_needs_hub_access(tmp_path, monkeypatch):
    _offline(monkeypatch, tmp_path)
    (res,) = preflight.deep_check([get_model(NT_V2)])
    assert res.status == "needs hub access" and res.failed and res.loads is None
    assert get_model(NT_V2).weights in res.error and "hub" in res.error


def test_offline_cli_says_so_without_a_traceback(tmp_path, monkeypatch, capsys):
    _offline(monkeypatch, tmp_path)
    assert main(["models", "--check", "--deep", "--models", f"{NT_V2},kmer-3"]) == 1
    cap = capsys.readouterr()
    assert "needs hub access" in cap.out and "Traceback" not in cap.out + cap.err
    assert "1 needs hub access, 1 skipped" in cap.out


# -- what is not checked -----------------------------------------------------------------------------


def _no_download(*a):
    raise AssertionError("nothing should be downloaded")


@pytest.mark.parametrize("model_id, why", [
    ("kmer-3", "built-in"),
    ("evo-1-131k-base", "attn_layer_idxs"),
    ("enformer-official-rough", "enformer-pytorch"),
    ("LucaOne-default-step36M", "lucaone package"),
    ("dna_gpt0.1b_h", "Google Drive"),
    ("JanusDNA_72_w", "Dataverse"),
    ("deepgene", "not on the Hugging Face hub"),
])
def test_non_hub_families_are_skipped_with_the_reason(model_id, why, monkeypatch):
    monkeypatch.delenv("GENEB_WEIGHTS_DEEPGENE", raising=False)
    (res,) = preflight.deep_check([get_model(model_id)], download=_no_download)
    assert res.status == "skipped" and not res.failed and why in res.error
    assert res.loads is None and res.embeds is None


def test_gpu_only_family_is_skipped_on_cpu():
    from geneb.extract.adapters.base import cuda_available

    if cuda_available():
        pytest.skip("a CUDA GPU is present: Caduceus is checkable here")
    (res,) = preflight.deep_check([get_model("PlantCaduceus_l32")], download=_no_download)
    assert res.status == "skipped" and "CUDA" in res.error


# -- the shrink ---------------------------------------------------------------------------------------


def test_shrink_keeps_configs_consistent():
    llama = {"num_hidden_layers": 28, "hidden_size": 2048, "intermediate_size": 5632, "num_attention_heads": 32,
             "num_key_value_heads": 8, "head_dim": 64, "layer_types": ["full_attention"] * 28, "vocab_size": 4128,
             "max_position_embeddings": 16384, "rope_scaling": {"factor": 2.0}}
    assert preflight.shrink_config(llama) == 2
    assert (llama["num_hidden_layers"], llama["hidden_size"], llama["intermediate_size"]) == (2, 64, 128)
    assert (llama["num_attention_heads"], llama["num_key_value_heads"], llama["head_dim"]) == (2, 1, 32)
    assert llama["layer_types"] == ["full_attention"] * 2
    assert llama["vocab_size"] == 4128 and llama["max_position_embeddings"] == 16384  # tokenizer and positions kept
    gpt2 = {"n_layer": 12, "n_embd": 768, "n_head": 12, "n_inner": None, "n_positions": 1024}
    preflight.shrink_config(gpt2)
    assert (gpt2["n_layer"], gpt2["n_embd"], gpt2["n_head"], gpt2["n_inner"]) == (2, 64, 2, None)
    small = {"num_hidden_layers": 1, "hidden_size": 30, "num_attention_heads": 3, "num_key_value_heads": 3}
    preflight.shrink_config(small)  # never enlarged; heads still divide the width
    assert (small["num_hidden_layers"], small["hidden_size"], small["num_attention_heads"]) == (1, 30, 2)
    assert small["num_key_value_heads"] == 2
    nested = {"n_layer": 8, "d_model": 256, "ssm_cfg": {"d_model": 256}}
    preflight.shrink_config(nested)
    assert nested["ssm_cfg"]["d_model"] == 64


def test_only_config_tokenizer_and_code_files_are_wanted():
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "merges.txt", "spm.model",
                 "modeling_esm.py", "special_tokens_map.json", "sub/config.json"):
        assert preflight.wanted(name), name
    for name in ("model.safetensors", "pytorch_model.bin", "model-00001-of-00002.safetensors", "flax_model.msgpack",
                 "model.safetensors.index.json", "tf_model.h5", "weights.pt", "README.md", "tokenizer.pkl"):
        assert not preflight.wanted(name), name


def test_the_build_does_not_mask_what_the_adapter_lacks(tmp_path, monkeypatch):
    """The random weights are built with every 4.x piece; the adapter must still bring its own."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    if int(transformers.__version__.split(".")[0]) < 5:
        pytest.skip("transformers 4.x: NT v2's code runs without the 5.x config defaults")
    from geneb.extract.adapters import nucleotide_transformer as nt

    kept = tuple(d for d in nt.NucleotideTransformerAdapter.differences if d != "config-4x-defaults")
    monkeypatch.setattr(nt.NucleotideTransformerAdapter, "differences", kept)
    res, _, _ = _check(tmp_path, NT_V2, _hub_dir(tmp_path, "nt-v2"))
    assert (res.status, res.stage, res.loads) == ("broken", "load", False), res
    assert "is_decoder" in res.error
