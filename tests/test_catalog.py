"""The catalog: the published 40 models and 100 tasks, built-ins, user specs, protocols."""

from __future__ import annotations

import json

import pytest

from geneb import catalog
from geneb.catalog import CatalogError
from geneb.cli import main

PUBLISHED_COUNTS = [30, 22, 8, 8, 7, 6, 5, 5, 3, 2, 2, 1, 1]


def test_100_tasks_in_official_order_with_category_counts():
    tasks = catalog.geneb_tasks()
    assert len(tasks) == 100
    assert [t.index for t in tasks] == list(range(1, 101))
    assert tasks[0].task_id == "InstaDeepAI_nucleotide_transformer_downstream_tasks_H3"
    order = catalog.category_order()
    assert len(order) == 13
    counts = [sum(t.category == c for t in tasks) for c in order]
    assert counts == PUBLISHED_COUNTS


def test_40_geneb_models_with_params():
    models = catalog.geneb_models()
    assert len(models) == 40
    assert len({m.model_id for m in models}) == 40
    by_id = {m.model_id: m for m in models}
    assert by_id["caduceus-ps_seqlen-131k_d_model-256_n_layer-16"].params == 8_000_000
    assert by_id["caduceus-ps_seqlen-131k_d_model-256_n_layer-16"].params_v1 == 1_930_000
    assert by_id["DNABERT-S"].pooling == "cls"
    assert by_id["enformer-official-rough"].pooling == "spatial-mean"
    # defects of the reference extractors are recorded, the intended pooling is used
    assert by_id["METAGENE-1"].reference_pooling == "unmasked-mean-all-token-rows"
    assert by_id["METAGENE-1"].pooling == "mean"
    for m in models:
        assert m.family in catalog.FAMILIES
        assert m.params > 0 and m.params_v1 > 0


def test_builtin_models_need_no_weights():
    builtins = catalog.builtin_models()
    assert any(m.family == "kmer" for m in builtins)
    assert catalog.default_models(), "the default pipeline needs at least one built-in model"
    for m in builtins:
        assert m.source == "builtin"


def test_protocol_geneb_v1_is_the_published_one():
    p = catalog.get_protocol("geneb-v1")
    assert p.seeds == (13, 17, 42, 123, 997)
    assert p.regimes == ("full", "10shot", "1shot")
    assert p.k_for("full") is None and p.k_for("10shot") == 10 and p.k_for("1shot") == 1
    assert p.probe_params["max_iter"] == 1000 and p.probe_params["C"] == 1.0
    assert not p.scale_features


def test_unknown_ids_name_the_id():
    with pytest.raises(KeyError, match="nope-model"):
        catalog.get_model("nope-model")
    with pytest.raises(KeyError, match="nope-task"):
        catalog.get_task("nope-task")
    with pytest.raises(KeyError, match="nope-bench"):
        catalog.get_benchmark("nope-bench")


def test_user_model_file_toml_and_yaml(tmp_path):
    toml = tmp_path / "models.toml"
    toml.write_text('[my-bert]\nweights = "/data/my-bert"\nfamily = "hf-encoder"\npooling = "cls"\nparams = 1000\n')
    (spec,) = catalog.load_model_file(toml)
    assert spec.model_id == "my-bert" and spec.source == "user" and spec.pooling == "cls"
    assert catalog.get_model("my-bert") == spec
    yml = tmp_path / "models.yaml"
    yml.write_text("my-gpt:\n  weights: org/my-gpt\n  family: hf-causal-lm\n  revision: abc123\n")
    (spec2,) = catalog.load_model_file(yml)
    assert spec2.revision == "abc123"


@pytest.mark.parametrize(
    "body, message",
    [
        ('[x1]\nweights = "a"\nfamily = "no-such-family"\n', "unknown family 'no-such-family'"),
        ('[x2]\nweights = "a"\nfamily = "hf-encoder"\ncolour = "red"\n', r"unknown field\(s\) \['colour'\]"),
        ('[x3]\nweights = "a"\nfamily = "hf-encoder"\npooling = "max"\n', "unknown pooling 'max'"),
        ('[x4]\nweights = "a"\nfamily = "hf-encoder"\nparams = "lots"\n', "'params' must be an integer"),
        ('[DNABERT-S]\nweights = "a"\nfamily = "hf-encoder"\n', "already used by a catalog model"),
        ("[x5\n", "invalid TOML"),
    ],
)
def test_bad_user_model_file_names_the_entry(tmp_path, body, message):
    f = tmp_path / "bad.toml"
    f.write_text(body)
    with pytest.raises(CatalogError, match=message) as exc:
        catalog.load_model_file(f)
    assert "bad.toml" in str(exc.value)


def test_path_model_requires_a_config(tmp_path):
    with pytest.raises(CatalogError, match="no config.json"):
        catalog.get_model(f"path:{tmp_path}")
    (tmp_path / "config.json").write_text("{}")
    spec = catalog.get_model(f"path:{tmp_path}")
    assert spec.family == "hf-auto" and spec.pooling == "mean"


def test_user_benchmark_file(tmp_path):
    f = tmp_path / "bench.toml"
    ids = [t.task_id for t in catalog.geneb_tasks()[:3]]
    f.write_text(f"[my-three]\ntasks = {json.dumps(ids)}\n")
    catalog.load_benchmark_file(f)
    assert catalog.get_benchmark("my-three").task_ids == tuple(ids)
    f.write_text('[broken]\ntasks = ["not-a-task"]\n')
    with pytest.raises(CatalogError, match="unknown task id 'not-a-task'"):
        catalog.load_benchmark_file(f)


def test_cli_tasks_json(capsys):
    assert main(["tasks", "--json", "--benchmark", "geneb"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["task_id"] for r in rows] == [t.task_id for t in catalog.geneb_tasks()]
    order = catalog.category_order()
    assert [sum(r["category"] == c for r in rows) for c in order] == PUBLISHED_COUNTS


def test_cli_models_json(capsys):
    assert main(["models", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    geneb_rows = [r for r in rows if r["source"] == "geneb"]
    assert len(geneb_rows) == 40
    assert all(isinstance(r["params"], int) and r["params"] > 0 for r in geneb_rows)
    assert any(r["source"] == "builtin" for r in rows)


def test_cli_models_filters(capsys):
    assert main(["models", "--family", "hyenadna", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["model_id"] for r in rows} == {"hyenadna-large-1m-seqlen-hf", "hyenadna-medium-160k-seqlen-hf"}


def test_cli_unknown_benchmark_is_a_clean_error(capsys):
    assert main(["tasks", "--benchmark", "nope"]) == 2
    assert "unknown benchmark 'nope'" in capsys.readouterr().err


def test_embed_model_aliases_expand():
    from geneb.cli.embed_cmd import resolve_models

    assert [m.model_id for m in resolve_models(["geneb"])] == [m.model_id for m in catalog.geneb_models()]
    assert {m.model_id for m in resolve_models([])} == {m.model_id for m in catalog.default_models()}
    assert len(resolve_models(["builtin", "kmer-3"])) == len(catalog.builtin_models())
