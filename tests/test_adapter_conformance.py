"""Every model family keeps the adapter contract (`geneb.testing.adapters.check_adapter`,
like scikit-learn's `check_estimator`): parametrised over the catalog's FAMILIES, so a new
family is checked as soon as it exists. The check itself is shown to catch each kind of
break, and a family added from outside (one module plus one model row) passes it and runs."""

from __future__ import annotations

import json
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import geneb.catalog.models as catalog_models
import geneb.extract.adapters as adapters
from geneb.catalog import FAMILIES, all_models
from geneb.catalog.models import load_model_file, model_from_harness, model_from_path
from geneb.extract.adapters.base import Adapter
from geneb.testing.adapters import check_adapter

ADAPTERS_DIR = Path(adapters.__file__).parent
HARNESS = Path(__file__).parent / "fixtures" / "harness_extractors" / "kmer4.py"


@pytest.fixture(scope="module")
def specs_without_catalog_rows(tmp_path_factory) -> dict[str, list]:
    """hf-auto and harness models are declared by users (a directory, an extractor file)."""
    d = tmp_path_factory.mktemp("hf-auto-bert")
    (d / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8, "num_hidden_layers": 1,
                                              "num_attention_heads": 2, "intermediate_size": 16, "vocab_size": 12}))
    return {"hf-auto": [model_from_path(d)], "harness": [model_from_harness(f"{HARNESS.with_suffix('')}.py:Kmer4Extractor")]}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_family_keeps_the_adapter_contract(family, specs_without_catalog_rows):
    assert check_adapter(family, specs_without_catalog_rows.get(family)) == []


def test_every_adapter_module_is_a_family_and_back():
    modules = {p.stem for p in ADAPTERS_DIR.glob("*.py") if "\nADAPTER = " in p.read_text()}
    assert modules == {f.replace("-", "_") for f in FAMILIES}


def test_catalog_models_cover_the_families():
    """Every family but the user-declared ones has a catalog model the check runs on."""
    have = {s.family for s in all_models().values()}
    assert set(FAMILIES) - have <= {"hf-auto", "harness"}


# -- the check catches what it claims to ----------------------------------------------------
def _kmer_spec():
    return all_models()["kmer-4"]


def _broken(**attrs: Any) -> type:
    from geneb.extract.adapters.kmer import KmerAdapter

    return type("Broken", (KmerAdapter,), {"family": "kmer", **attrs})


def test_check_catches_an_unknown_difference():
    got = check_adapter(_broken(differences=("no-such-difference",)), [_kmer_spec()])
    assert any("'no-such-difference' is not registered" in p for p in got)


def test_check_catches_describe_needing_load():
    def describe(self):
        return {"weights": self.model_.name}  # set by load(): fails before it

    got = check_adapter(_broken(describe=describe), [_kmer_spec()])
    assert any("describe() before load() raised AttributeError" in p for p in got)


def test_check_catches_a_key_blind_to_the_revision():
    spec = all_models()["DNABERT-S"]
    cls = adapters.adapter_class(spec.family)

    def describe(self):
        return {**cls.describe(self), "revision": "pinned-forever", "tokenizer": "the-same"}

    got = check_adapter(type("Blind", (cls,), {"describe": describe}), [spec])
    assert any("ignores the revision" in p for p in got)


def test_check_catches_active_differences_left_out_of_the_key():
    spec = all_models()["MutBERT"]
    cls = adapters.adapter_class(spec.family)

    def describe(self):
        return {k: v for k, v in cls.describe(self).items() if k != "compat"}

    got = check_adapter(type("Silent", (cls,), {"describe": describe}), [spec])
    assert any("must enter the cache key" in p for p in got)


def test_check_catches_a_missing_extra_and_a_wrong_install_hint():
    from geneb.extract.adapters.base import Problem

    @classmethod
    def check(cls, spec):
        return [Problem("package", "needs foo: pip install 'geneb[no-such-extra]'")]

    got = check_adapter(_broken(extra="nope", check=check), [_kmer_spec()])
    assert any("extra 'nope' is not an extra of geneb" in p for p in got)
    assert any("names extra 'no-such-extra'" in p for p in got)


def test_check_catches_a_wrong_availability_contract():
    @classmethod
    def check_available(cls, spec):
        return True, "ok"

    @classmethod
    def check(cls, spec):
        return ["not a Problem"]

    got = check_adapter(_broken(check_available=check_available, check=check,
                                blocking=frozenset({"weights"})), [_kmer_spec()])
    assert any("override check_available: override check (and source)" in p for p in got)
    assert any("check must return a list of Problem" in p for p in got)
    assert any("blocking must be a frozenset" in p for p in got)


def test_a_family_numerics_version_enters_the_key_only_when_bumped():
    import geneb.extract.cache_key as ck
    from geneb.extract.adapters import ExtractOptions

    spec = _kmer_spec()
    v1, v2 = _broken(), _broken(numerics=2)
    key1 = ck.build_cache_key(spec, v1(spec, ExtractOptions(), "cpu"), "t", "h")
    assert "family_numerics" not in key1["extra"]  # version 1: keys stored before the field still match
    key2 = ck.build_cache_key(spec, v2(spec, ExtractOptions(), "cpu"), "t", "h")
    assert key2["extra"]["family_numerics"] == 2 and key1 != key2  # a bump re-embeds only this family
    assert any("numerics must be a version number" in p for p in check_adapter(_broken(numerics=0), [spec]))


def test_problems_of_a_blocking_kind_stop_a_run_before_any_work():
    from geneb.extract.adapters.base import ExtractError, MissingExtraError, Problem

    found: list[Problem] = []

    @classmethod
    def check(cls, spec):
        return list(found)

    cls = _broken(check=check, blocking=frozenset({"package", "gpu", "weights"}))
    found[:] = [Problem("code", "no checkout")]
    cls.ensure_available(_kmer_spec())  # not a blocking kind: left for load() to report
    assert cls.check_available(_kmer_spec()) == (False, "no checkout")
    found[:] = [Problem("weights", "no weights here"), Problem("code", "no checkout")]
    with pytest.raises(ExtractError, match="no weights here") as err:
        cls.ensure_available(_kmer_spec())
    assert not isinstance(err.value, MissingExtraError) and "no checkout" not in str(err.value)
    found[:] = [Problem("weights", "no weights here"), Problem("package", "needs foo")]
    with pytest.raises(MissingExtraError, match=r"\(family 'kmer'\): needs foo"):
        cls.ensure_available(_kmer_spec())
    found[:] = []
    assert cls.check_available(_kmer_spec()) == (True, "ok")


def test_check_catches_a_bad_declaration():
    got = check_adapter(_broken(requires=["torch"], neural="yes"), [_kmer_spec()])
    assert any("requires must be a tuple" in p for p in got) and any("neural must be a bool" in p for p in got)


# -- a new family: one module plus one model row ------------------------------------------
class GcContentAdapter(Adapter):
    """A toy family: (GC fraction, length / 1000) per sequence."""

    family = "gc-content"
    requires: ClassVar[tuple[str, ...]] = ("numpy",)
    neural = False

    def _load(self) -> None:
        self.dim_ = 2

    def prepare(self, seq: str) -> np.ndarray:
        s = seq[: self.max_length] if self.max_length else seq
        return np.array([(s.count("G") + s.count("C")) / max(1, len(s)), len(s) / 1000], dtype=np.float32)

    def n_tokens(self, prepared: Any) -> int:
        return 1

    def embed(self, batch: list[np.ndarray]) -> np.ndarray:
        return np.stack(batch)

    def describe(self) -> dict[str, Any]:
        return {"weights": "", "revision": "", "tokenizer": "bases"}


def test_a_new_family_is_one_module_plus_a_model_row(tmp_path, monkeypatch):
    module = types.ModuleType(adapters.module_name("gc-content"))
    module.ADAPTER = GcContentAdapter
    monkeypatch.setitem(sys.modules, module.__name__, module)
    for where in (catalog_models, adapters):
        monkeypatch.setattr(where, "FAMILIES", FAMILIES | {"gc-content"})
    (tmp_path / "models.toml").write_text('[gc]\nfamily = "gc-content"\nweights = ""\nlength_unit = "bases"\n')
    (spec,) = load_model_file(tmp_path / "models.toml")
    try:
        assert check_adapter("gc-content", [spec]) == []
        a = adapters.make_adapter(spec)
        assert a.load() is a and a.dim_ == 2  # load() returns self, the learned width ends in _
        got = a.embed([a.prepare(s) for s in ("GGCC", "ATAT")])
        np.testing.assert_allclose(got, [[1.0, 0.004], [0.0, 0.004]], rtol=1e-6)
    finally:
        catalog_models._user_models.pop("gc", None)


def test_a_family_overriding_load_is_told_to_implement_load_instead():
    with pytest.raises(TypeError, match=r"OldStyle.*implement _load\(\)"):
        class OldStyle(GcContentAdapter):  # the contract before load() returned self
            def load(self) -> None:
                self.dim_ = 2


def test_geneb_families_prints_each_declaration(capsys):
    from geneb.cli import main
    from geneb.extract import compat

    assert main(["families", "--json"]) == 0
    rows = {r["family"]: r for r in json.loads(capsys.readouterr().out)}
    assert set(rows) == set(FAMILIES)
    d2 = rows["dnabert2"]
    from geneb.catalog import all_models

    n_dnabert2 = sum(m.family == "dnabert2" for m in all_models().values())  # user models of other tests count
    assert d2["requires"] == ["torch", "transformers"] and d2["models"] == n_dnabert2 >= 2
    by_name = {d["name"]: d for d in d2["differences"]}
    assert set(by_name) == set(adapters.adapter_class("dnabert2").differences)
    cfg = by_name["config-4x-defaults"]
    assert cfg["transformers"] == compat.difference("config-4x-defaults").transformers
    assert cfg["active"] == compat.applies("config-4x-defaults")  # True on transformers 5, False on 4.57
    assert "hf_olmo" in rows["omni-dna"]["hand_installed"] and "ai2-olmo" in rows["omni-dna"]["install_hint"]
    assert rows["dna-gpt"]["blocking"] == ["code", "gpu", "package", "weights"]  # local files: checked up front
    assert rows["dnabert2"]["blocking"] == ["gpu", "package"]  # hub weights: fetched while loading
    cad = rows["caduceus"]
    assert cad["takes_attention_mask"] is False and cad["measure_width"] is True  # Mamba, RC-equivariant width
    assert rows["dnabert2"]["takes_attention_mask"] is True and rows["kmer"]["takes_attention_mask"] is None
    assert main(["families", "--family", "kmer"]) == 0
    out = capsys.readouterr().out
    assert "kmer" in out and "numpy" in out and "dnabert2" not in out
    assert main(["families", "--family", "nope"]) == 2
