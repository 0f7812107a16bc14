"""Availability of the long-tail families: what is missing is named precisely (package +
extra, CUDA, local weights, upstream code), nothing is loaded to find out, and a run with
a missing extra fails before anything is written."""

from __future__ import annotations

import importlib.util
import os

import pytest

from geneb.catalog import geneb_models
from geneb.extract.adapters import MissingExtraError, adapter_class, make_adapter
from geneb.extract.adapters import _families_common as fc
from geneb.extract.adapters import base as adapter_base
from geneb.extract.availability import can_run

FAMILIES = (
    "dnabert2", "hyenadna", "caduceus", "mutbert", "lucaone", "generator", "evo", "eccdnamamba",
    "biofm", "enformer", "space", "dna-gpt", "genomics-fm", "deepgene", "janusdna",
)
HAS_MAMBA = importlib.util.find_spec("mamba_ssm") is not None
HAS_FLASH = importlib.util.find_spec("flash_attn") is not None


@pytest.fixture(autouse=True)
def _no_weight_env(monkeypatch):
    for k in list(os.environ):
        if k.startswith((fc.WEIGHTS_ENV_PREFIX, fc.CODE_ENV_PREFIX)):
            monkeypatch.delenv(k)


def _catalog(family: str):
    return [m for m in geneb_models() if m.family == family]


@pytest.mark.parametrize("family", FAMILIES)
def test_every_family_has_an_adapter_and_a_reason(family):
    cls = adapter_class(family)
    assert cls.family == family
    for spec in _catalog(family):
        ok, why = can_run(spec)
        assert isinstance(ok, bool) and why and "check failed" not in why


def test_catalog_covers_all_fifteen_families():
    assert {m.family for m in geneb_models()} >= set(FAMILIES) - {"hf-auto"}


def test_env_var_names():
    assert fc.weights_env_var("dna_gpt0.1b_h") == "GENEB_WEIGHTS_DNA_GPT0_1B_H"
    assert fc.weights_env_var("JanusDNA_72_w") == "GENEB_WEIGHTS_JANUSDNA_72_W"
    assert fc.code_env_var("dna-gpt") == "GENEB_CODE_DNA_GPT"


@pytest.mark.skipif(HAS_MAMBA, reason="mamba_ssm is installed here")
@pytest.mark.parametrize("family", ["caduceus", "eccdnamamba"])
def test_mamba_families_fail_at_once_naming_the_extra(family):
    spec = _catalog(family)[0]
    ok, why = can_run(spec)
    assert not ok and "mamba_ssm" in why and "geneb[mamba]" in why
    with pytest.raises(MissingExtraError, match=rf"{spec.model_id}.*geneb\[mamba\]"):
        make_adapter(spec)


@pytest.mark.skipif(HAS_FLASH, reason="flash_attn is installed here")
def test_evo_fails_at_once_naming_the_extra():
    spec = _catalog("evo")[0]
    with pytest.raises(MissingExtraError, match=r"evo-1-131k-base.*flash_attn.*geneb\[evo\]"):
        make_adapter(spec)


def test_cuda_only_families_say_so_when_packages_are_there(monkeypatch):
    monkeypatch.setattr(adapter_base, "missing_modules", lambda mods: [])
    monkeypatch.setattr(adapter_base, "cuda_available", lambda: False)
    for family in ("caduceus", "eccdnamamba", "evo"):
        spec = _catalog(family)[0]
        ok, why = adapter_class(family).check_available(spec)
        assert not ok and "CUDA GPU" in why
        with pytest.raises(MissingExtraError, match="CUDA GPU"):
            make_adapter(spec)


@pytest.mark.parametrize(
    "model_id, env",
    [("dna_gpt0.1b_h", "GENEB_WEIGHTS_DNA_GPT0_1B_H"), ("genomics-fm", "GENEB_WEIGHTS_GENOMICS_FM"),
     ("deepgene", "GENEB_WEIGHTS_DEEPGENE"), ("JanusDNA_72_w", "GENEB_WEIGHTS_JANUSDNA_72_W")],
)
def test_non_hub_models_say_how_to_point_at_weights(model_id, env):
    spec = next(m for m in geneb_models() if m.model_id == model_id)
    ok, why = can_run(spec)
    assert not ok
    assert env in why and "--model-file" in why and f'family = "{spec.family}"' in why


def test_weights_env_var_wins_and_is_checked_for_existence(monkeypatch, tmp_path):
    spec = next(m for m in geneb_models() if m.model_id == "genomics-fm")
    monkeypatch.setenv("GENEB_WEIGHTS_GENOMICS_FM", str(tmp_path / "nope"))
    assert fc.local_weights(spec) is None
    monkeypatch.setenv("GENEB_WEIGHTS_GENOMICS_FM", str(tmp_path))
    assert fc.local_weights(spec) == tmp_path.resolve()
    ok, why = can_run(spec)
    assert not ok and "no config.json" in why
    (tmp_path / "config.json").write_text("{}")
    assert can_run(spec) == (True, f"local weights at {tmp_path.resolve()}")


def test_code_checkout_is_required_and_named(monkeypatch, tmp_path):
    spec = next(m for m in geneb_models() if m.model_id == "space")
    ok, why = can_run(spec)
    assert not ok and "GENEB_CODE_SPACE" in why and "github.com/ZhuJiwei111/SPACE" in why
    monkeypatch.setenv("GENEB_CODE_SPACE", str(tmp_path))
    assert fc.code_dir(spec) == tmp_path.resolve()


def test_space_names_the_packages_its_checkout_imports(monkeypatch, tmp_path):
    """model/modeling_space.py and model/modules.py (ZhuJiwei111/SPACE @ 323d89c) import
    wandb and pandas, model/data.py polars and pyfaidx: a missing one is named with the extra."""
    from geneb.extract.adapters.base import missing_modules
    from geneb.extract.adapters.space import SpaceAdapter

    spec = next(m for m in geneb_models() if m.model_id == "space")
    monkeypatch.setenv("GENEB_CODE_SPACE", str(tmp_path))
    assert {"wandb", "pandas", "polars", "pyfaidx", "einops"} <= set(SpaceAdapter.requires)
    lacking = missing_modules(SpaceAdapter.requires)
    if not lacking:
        pytest.skip("every package of the space extra is installed here")
    ok, why = SpaceAdapter.check_available(spec)
    assert not ok and "geneb[space]" in why and all(m in why for m in lacking)


def test_checks_load_nothing_for_non_hub_models():
    """check_available must not load weights: for local-weight families it touches only the
    filesystem, so neither torch nor transformers gets imported (fresh interpreter)."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from geneb.catalog import geneb_models\n"
        "from geneb.extract.availability import can_run\n"
        "ids = ('dna_gpt0.1b_h', 'genomics-fm', 'deepgene', 'JanusDNA_72_w', 'space')\n"
        "res = [can_run(m)[0] for m in geneb_models() if m.model_id in ids]\n"
        "assert res == [False] * 5, res\n"
        "heavy = [m for m in ('torch', 'transformers') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GENEB_WEIGHTS_", "GENEB_CODE_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr


@pytest.mark.skipif(HAS_MAMBA, reason="mamba_ssm is installed here")
def test_run_with_missing_extra_writes_nothing(tmp_path):
    pytest.importorskip("torch")
    from geneb.catalog import get_benchmark
    from geneb.extract.runner import embed

    task = get_benchmark("geneb-mini").task_ids[0]
    store = tmp_path / "s.zarr"
    spec = _catalog("caduceus")[0]
    with pytest.raises(MissingExtraError, match=r"geneb\[mamba\]"):
        embed([spec.model_id], [task], str(store), device="cpu", progress=False)
    assert not store.exists() or not any(store.rglob("*"))


def test_run_with_missing_local_weights_fails_before_any_work(tmp_path):
    pytest.importorskip("torch")
    from geneb.catalog import get_benchmark
    from geneb.extract.adapters import ExtractError
    from geneb.extract.runner import embed

    task = get_benchmark("geneb-mini").task_ids[0]
    store = tmp_path / "s.zarr"
    for mid in ("genomics-fm", "dna_gpt0.1b_h", "JanusDNA_72_w"):
        with pytest.raises(ExtractError, match=fc.weights_env_var(mid)):
            embed(["kmer-3", mid], [task], str(store), device="cpu", progress=False)
        assert not store.exists() or not any(store.rglob("*"))  # kmer-3 came first, yet nothing ran


def test_non_hub_checks_list_every_missing_piece():
    spec = next(m for m in geneb_models() if m.model_id == "dna_gpt0.1b_h")
    ok, why = can_run(spec)
    assert not ok and "GENEB_WEIGHTS_DNA_GPT0_1B_H" in why and "GENEB_CODE_DNA_GPT" in why


@pytest.mark.parametrize("model_id", ["dna_gpt0.1b_h", "JanusDNA_72_w", "eccdnamamba_weights", "enformer-official-rough"])
def test_layer_taps_a_family_cannot_give_fail_before_loading(model_id, monkeypatch):
    from geneb.extract.adapters import ExtractError, ExtractOptions

    spec = next(m for m in geneb_models() if m.model_id == model_id)
    cls = adapter_class(spec.family)
    with pytest.raises(ExtractError, match="layer -1"):
        cls(spec, ExtractOptions(layer=3), "cpu")


def test_check_says_needs_hub_access_for_uncached_hub_weights(tmp_path, monkeypatch, capsys):
    """An HF-hub model whose files are not in the local cache cannot run on an offline
    machine: its status is "needs hub access", not "yes"; built-in models run anywhere."""
    import json

    from geneb.catalog import all_models
    from geneb.cli import main
    from geneb.extract.availability import NEEDS_HUB, run_status

    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    spec = all_models()["nucleotide-transformer-v2-50m-multi-species"]
    ok, _ = can_run(spec)
    status, why = run_status(spec)
    assert status == (NEEDS_HUB if ok else "no")
    if ok:
        assert spec.weights in why
    assert run_status(all_models()["kmer-3"]) == ("yes", run_status(all_models()["kmer-3"])[1])
    assert main(["models", "--check", "--source", "builtin", "--json"]) == 0
    assert {r["runs_here"] for r in json.loads(capsys.readouterr().out)} == {"yes"}
