"""Declared ablations (built-in data file and user files) and their per-category effects."""

from __future__ import annotations

import polars as pl
import pytest

from geneb.analysis import AnalysisError, ablation_effects, ablation_summary, load_ablations
from geneb.catalog import all_models
from geneb.testing import results_frame


def test_builtin_ablations_name_catalog_models():
    abls = load_ablations()
    ids = {a.ablation_id for a in abls}
    assert {"nt-v2-size-50m-100m", "hyenadna-size-medium-large", "generator-size-1200m-3b", "omni-dna-size-300m-1b",
            "genomeocean-size-500m-4b", "nt-v2-50m-tokenization-3mer-6mer", "janusdna-attention",
            "transformer-vs-state-space"} <= ids
    known = set(all_models())
    for a in abls:
        if not a.is_group:
            assert a.a in known and a.b in known, a


def _table():
    # A and B differ by one factor; C, D form groups by architecture.
    data = {"A": {"Promoters": 0.5, "Enhancers": 0.3}, "B": {"Promoters": 0.7, "Enhancers": 0.2},
            "C": {"Promoters": 0.4, "Enhancers": 0.4}, "D": {"Promoters": 0.6, "Enhancers": 0.0}}
    rows = [{"model": m, "task": f"t-{c}", "category": c, "regime": "full", "mcc": v} for m, d in data.items() for c, v in d.items()]
    arch = pl.DataFrame({"model": list("ABCD"), "architecture": ["T-enc", "T-enc", "Mamba", "Hyena"]})
    return results_frame(rows).join(arch, on="model")


def test_pair_and_group_effects_by_hand(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text(
        '[a-to-b]\nfactor = "size"\na = "A"\nb = "B"\n\n'
        '[tf-vs-ssm]\nfactor = "architecture"\na_where = ["architecture=T-enc"]\nb_where = "architecture=Mamba,Hyena"\n'
        '[absent]\nfactor = "size"\na = "A"\nb = "Zed"\n'
    )
    abls = load_ablations([f], builtin=False)
    eff = ablation_effects(_table(), abls)
    got = {(a, c): d for a, c, d in eff.select("ablation", "category", "diff").iter_rows()}
    assert got[("a-to-b", "Promoters")] == pytest.approx(0.2)
    assert got[("a-to-b", "Enhancers")] == pytest.approx(-0.1)
    assert got[("a-to-b", "macro")] == pytest.approx(0.05)  # .45 - .4
    # groups: T-enc mean P .6 E .25 ; SSM mean P .5 E .2
    assert got[("tf-vs-ssm", "Promoters")] == pytest.approx(-0.1)
    assert got[("tf-vs-ssm", "Enhancers")] == pytest.approx(-0.05)
    assert not any(a == "absent" for a, _ in got)  # models absent -> skipped
    s = ablation_summary(eff).filter(pl.col("ablation") == "a-to-b").row(0, named=True)
    assert s["n_b_better"] == 1 and s["best_category_for_b"] == "Promoters" and s["worst_category_for_b"] == "Enhancers"
    assert s["macro_diff"] == pytest.approx(0.05)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('[x]\nfactor = "s"\na = "A"\n', "either `a` and `b`"),
        ('[x]\na = "A"\nb = "A"\n', "same model"),
        ('[x]\na = "A"\nb = "B"\ncolour = 1\n', "unknown field"),
        ("[x\n", "invalid TOML"),
    ],
)
def test_bad_ablation_files_name_the_file(tmp_path, text, match):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(AnalysisError, match=match) as e:
        load_ablations([f], builtin=False)
    assert "bad.toml" in str(e.value)


def test_group_ablations_leave_untrained_baselines_out_unless_asked(tmp_path):
    df = _table().with_columns((pl.col("model") == "D").alias("untrained"))  # D: an untrained "Hyena"
    abl = load_ablations(builtin=False, paths=[_write(tmp_path, '[g]\na_where = ["architecture=T-enc"]\nb_where = ["architecture=Mamba,Hyena"]\n')])
    eff = ablation_effects(df, abl)
    assert eff.filter(pl.col("category") == "Promoters")["score_b"][0] == pytest.approx(0.4)  # C only
    asked = load_ablations(builtin=False, paths=[_write(tmp_path, '[g]\na_where = ["architecture=T-enc"]\nb_where = ["untrained=true"]\n')])
    assert ablation_effects(df, asked).filter(pl.col("category") == "Promoters")["score_b"][0] == pytest.approx(0.6)


def _write(tmp_path, text):
    f = tmp_path / "g.toml"
    f.write_text(text)
    return f


def test_user_ablation_id_may_not_shadow_a_builtin(tmp_path):
    f = tmp_path / "dup.toml"
    f.write_text('[janusdna-attention]\na = "A"\nb = "B"\n')
    with pytest.raises(AnalysisError, match="duplicate ablation id"):
        load_ablations([f])
