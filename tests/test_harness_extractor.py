"""GENEB harness extractors through geneb (`harness:PATH.py:CLASS`, family `harness`).

The reference is the GENEB harness's procedure (`harness/run_GENEB.py`, chenkenbio/GENEB),
written out below from that file: read the flat CSV with `csv.DictReader`, hand each
split's text verbatim to `extract_embeddings(texts, batch_size)`, fit
`LogisticRegression(max_iter=1000, n_jobs=..., random_state=seed)` per seed on the full set
and on the k-shot draws, average MCC/accuracy/macro-F1 over the five seeds and round to 4
decimals. geneb, with its default settings, must give the same numbers in the exported
submission, and store the vectors one harness-style call gives. The real harness and its
real example extractor are run against geneb by `test_upstream_harness_equals_geneb`, with
GENEB_HARNESS_UPSTREAM pointing at a checkout of the GENEB repository.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geneb.cli import main
from geneb.probe.submission import geneb_task_ids

FIX = Path(__file__).parent / "fixtures" / "harness_extractors"
SEEDS = [13, 17, 42, 123, 997]
LOGREG = {"max_iter": 1000, "n_jobs": 32}  # benchmark_spec.json protocol.logreg


def _harness_class(module: str, name: str):
    """The class imported the way run_GENEB.py imports it (`extractors.<module>`)."""
    import importlib

    sys.path.insert(0, str(FIX.parent))
    try:
        return getattr(importlib.import_module(f"harness_extractors.{module}"), name)
    finally:
        sys.path.remove(str(FIX.parent))


# -- the harness's procedure ----------------------------------------------------------------
def harness_read(path: Path):
    rows = list(csv.DictReader(open(path)))
    tr = [r for r in rows if r["split"] == "train"]
    te = [r for r in rows if r["split"] == "test"]
    return ([r["text"] for r in tr], np.array([int(r["label"]) for r in tr]),
            [r["text"] for r in te], np.array([int(r["label"]) for r in te]))


def harness_evaluate(extractor, path: Path, batch_size: int = 8) -> dict:
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score, matthews_corrcoef

    Xtr_seq, ytr, Xte_seq, yte = harness_read(path)
    Etr = extractor.extract_embeddings(Xtr_seq, batch_size)
    Ete = extractor.extract_embeddings(Xte_seq, batch_size)

    def pick(k):
        def f(seed):
            rng = np.random.RandomState(seed)
            return np.concatenate([rng.choice(np.where(ytr == c)[0], size=min(k, int((ytr == c).sum())), replace=False)
                                   for c in np.unique(ytr)])
        return f

    def fit_eval(idx=None):
        mc, ac, f1 = [], [], []
        for seed in SEEDS:
            xs, ys = (Etr, ytr) if idx is None else (Etr[idx(seed)], ytr[idx(seed)])
            p = LogisticRegression(**LOGREG, random_state=seed).fit(xs, ys).predict(Ete)
            mc.append(matthews_corrcoef(yte, p))
            ac.append(accuracy_score(yte, p))
            f1.append(f1_score(yte, p, average="macro"))
        return {"MCC": round(float(np.mean(mc)), 4), "Acc": round(float(np.mean(ac)), 4),
                "F1": round(float(np.mean(f1)), 4)}

    return {"full": fit_eval(), "10shot": fit_eval(pick(10)), "1shot": fit_eval(pick(1))}


# -- task files ---------------------------------------------------------------------------
MOTIFS = ["ACGTAC", "GGGCCC", "TATATA", "CAGCAG"]


def write_task(path: Path, n_classes: int, n_train: int, n_test: int, seed: int, *, imbalanced=False,
               lower=False, n_rate=0.0, iupac=False) -> Path:
    """A flat harness CSV whose classes differ in motif content; optional lower case, N, IUPAC."""
    rng = np.random.default_rng(seed)
    weights = np.arange(n_classes, 0, -1, dtype=float) ** 2 if imbalanced else np.ones(n_classes)
    weights /= weights.sum()
    rows = []
    for split, n in (("train", n_train), ("test", n_test)):
        labels = rng.choice(n_classes, size=n, p=weights)
        labels[:n_classes] = np.arange(n_classes)  # every class in both splits
        for y in labels:
            length = int(rng.integers(60, 140))
            seq = list(rng.choice(list("ACGT"), size=length))
            for _ in range(int(rng.integers(2, 6))):
                at = int(rng.integers(0, length - 6))
                seq[at : at + 6] = MOTIFS[y % len(MOTIFS)]
            for i in np.where(rng.random(length) < n_rate)[0]:
                seq[i] = "N"
            if iupac:
                seq[int(rng.integers(0, length))] = "R"
            text = "".join(seq)
            if lower and rng.random() < 0.5:
                text = text.lower() if rng.random() < 0.5 else text[:30].lower() + text[30:]
            rows.append((text, int(y), split))
    rng.shuffle(rows)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["text", "label", "split"])
        w.writerows(rows)
    return path


def _store_X(url: str, model: str, task: str, split: str) -> np.ndarray:
    from geneb.store import open_store

    return open_store(url).X(model, task, split)


# -- vectors: raw text and the harness's batches ------------------------------------------
@pytest.fixture()
def probe_task(tmp_path):
    d = tmp_path / "data"
    d.mkdir()
    write_task(d / "mixed.csv", 3, 100, 37, seed=3, lower=True, n_rate=0.05, iupac=True)
    return d


def test_vectors_equal_one_harness_call_per_split(tmp_path, probe_task):
    """Blocks of 20 rows (rounded to 40 for batch_size 8) and calls of 16 rows give the
    vectors of one call over each split: same raw text, same batches of 8."""
    url = str(tmp_path / "s.zarr")
    ref = f"harness:{FIX / 'input_probe.py'}:InputProbeExtractor:probe-weights"
    assert main(["embed", "--models", ref, "--data", str(probe_task), "--tasks", "mixed", "--store", url,
                 "--block-rows", "20", "--no-progress"]) == 0
    ext = _harness_class("input_probe", "InputProbeExtractor")("probe-weights")
    Xtr_seq, _, Xte_seq, _ = harness_read(probe_task / "mixed.csv")
    assert any(c.islower() for s in Xtr_seq for c in s) and any("R" in s for s in Xtr_seq)
    for split, seqs in (("train", Xtr_seq), ("test", Xte_seq)):
        want = ext.extract_embeddings(seqs, 8).astype(np.float32)
        np.testing.assert_array_equal(_store_X(url, "InputProbeExtractor", "mixed", split), want)

    from geneb.store import open_store

    st = open_store(url)
    key = st.cache_key("InputProbeExtractor", "mixed")
    assert key["extra"]["adapter"]["batch_size"] == 8 and key["extra"]["weights"] == "probe-weights"
    assert "raw_text_hash" in key["extra"], "raw text differs from the normalised one: it must enter the key"
    from geneb.data import load_task

    assert key["task_content_hash"] == load_task("mixed", str(probe_task)).content_hash  # the GENEB fingerprint


def test_model_file_batch_size_and_whole_split_calls(tmp_path, probe_task):
    """A model file (extractor path relative to it) with batch_size 6 and call_rows 0: one
    call per split, as the harness makes it."""
    mf_dir = tmp_path / "models"
    mf_dir.mkdir()
    shutil.copytree(FIX, mf_dir / "extractors")
    (mf_dir / "models.toml").write_text(
        '[my-probe]\nfamily = "harness"\nextractor = "extractors/input_probe.py:InputProbeExtractor"\n'
        'weights = "org/probe"\ndisplay = "My Probe"\nparams = 1234\n'
        '[my-probe.config]\nbatch_size = 6\ncall_rows = 0\n'
    )
    url = str(tmp_path / "s.zarr")
    assert main(["embed", "--model-file", str(mf_dir / "models.toml"), "--models", "my-probe",
                 "--data", str(probe_task), "--tasks", "mixed", "--store", url, "--no-progress"]) == 0
    ext = _harness_class("input_probe", "InputProbeExtractor")("org/probe")
    Xtr_seq, _, _, _ = harness_read(probe_task / "mixed.csv")
    np.testing.assert_array_equal(_store_X(url, "my-probe", "mixed", "train"),
                                  ext.extract_embeddings(Xtr_seq, 6).astype(np.float32))


def test_interrupted_run_resumes_to_the_same_vectors(tmp_path, probe_task, monkeypatch):
    from geneb.extract import embed

    ref = f"harness:{FIX / 'input_probe.py'}:InputProbeExtractor:w"
    full, cut = str(tmp_path / "full.zarr"), str(tmp_path / "cut.zarr")
    embed([ref], ["mixed"], full, data_dir=str(probe_task), block_rows=16, progress=False)
    monkeypatch.setenv("GENEB_TEST_HARNESS_FAIL_AFTER", "3")
    from geneb.catalog import get_model
    from geneb.extract.adapters import harness

    cls = harness.load_extractor_class(get_model(ref).extractor)
    cls.calls = 0
    with pytest.raises(RuntimeError, match="injected failure"):
        embed([ref], ["mixed"], cut, data_dir=str(probe_task), block_rows=16, progress=False)
    from geneb.store import open_store

    assert open_store(cut).status("InputProbeExtractor", "mixed") == "partial"
    monkeypatch.delenv("GENEB_TEST_HARNESS_FAIL_AFTER")
    embed([ref], ["mixed"], cut, data_dir=str(probe_task), block_rows=16, progress=False)
    for split in ("train", "test"):
        np.testing.assert_array_equal(_store_X(cut, "InputProbeExtractor", "mixed", split),
                                      _store_X(full, "InputProbeExtractor", "mixed", split))


def test_cache_key_follows_the_source_not_the_path(tmp_path):
    from geneb.catalog import get_model
    from geneb.extract.adapters import ExtractOptions, make_adapter
    from geneb.extract.cache_key import build_cache_key
    from geneb.store import cache_key_hash

    def key(folder: Path) -> str:
        spec = get_model(f"harness:{folder / 'kmer4.py'}:Kmer4Extractor")
        return cache_key_hash(build_cache_key(spec, make_adapter(spec, ExtractOptions()), "t", "h"))

    a, b = tmp_path / "a" / "extractors", tmp_path / "b" / "extractors"
    shutil.copytree(FIX, a)
    shutil.copytree(FIX, b)
    assert key(a) == key(b)  # a colleague's copy, another mount point: same vectors
    (b / "base.py").write_text((b / "base.py").read_text() + "\n# changed\n")
    c = tmp_path / "c" / "extractors"
    shutil.copytree(b, c)
    assert key(c) != key(a)  # the base class the extractor uses changed


# -- errors ---------------------------------------------------------------------------------
def test_bad_extractors_are_refused_with_a_clear_error(tmp_path, probe_task):
    from geneb.catalog import CatalogError, get_model
    from geneb.extract.adapters import ExtractError, ExtractOptions, make_adapter

    def run(ref: str, **kw):
        from geneb.extract import embed

        return embed([ref], ["mixed"], str(tmp_path / "s.zarr"), data_dir=str(probe_task), progress=False, **kw)

    with pytest.raises(ExtractError, match="no such file"):
        run(f"harness:{tmp_path / 'missing.py'}:X")
    with pytest.raises(ExtractError, match=r"no class 'Nope'.*InputProbeExtractor"):
        run(f"harness:{FIX / 'input_probe.py'}:Nope")
    with pytest.raises(ExtractError, match="has no extract_embeddings"):
        run(f"harness:{FIX / 'input_probe.py'}:NotAnExtractor")
    with pytest.raises(ExtractError, match=r"expected a numeric array of shape \(\d+, dim\)"):
        run(f"harness:{FIX / 'input_probe.py'}:WrongShapeExtractor")
    with pytest.raises(ExtractError, match=r"InputProbeExtractor\(name_model='refuse'.*weights for 'refuse' not found"):
        run(f"harness:{FIX / 'input_probe.py'}:InputProbeExtractor:refuse")
    bad = tmp_path / "broken.py"
    bad.write_text("import numpy\nraise ValueError('boom at import')\n")
    with pytest.raises(ExtractError, match="importing it failed: ValueError: boom at import"):
        run(f"harness:{bad}:X")
    with pytest.raises(CatalogError, match="path/to/module.py:ClassName"):
        get_model("harness:no-class-given")
    spec = get_model(f"harness:{FIX / 'kmer4.py'}:Kmer4Extractor")
    with pytest.raises(ExtractError, match="pooling, window cannot be applied"):
        make_adapter(spec, ExtractOptions(pooling="cls", window=100))
    from geneb.store import open_store

    assert not (tmp_path / "s.zarr").exists() or open_store(str(tmp_path / "s.zarr")).summary().height == 0


def test_model_file_validation(tmp_path):
    from geneb.catalog import CatalogError, load_model_file

    f = tmp_path / "m.toml"
    f.write_text('[x]\nfamily = "harness"\nweights = "w"\n')
    with pytest.raises(CatalogError, match="needs extractor"):
        load_model_file(f)
    f.write_text('[y]\nfamily = "hf-auto"\nweights = "w"\nextractor = "a.py:B"\n')
    with pytest.raises(CatalogError, match="'extractor' is for family 'harness'"):
        load_model_file(f)


# -- the published procedure, end to end ------------------------------------------------------
def _official_tasks(d: Path, n: int = 4) -> list[str]:
    """Task files named as the first GENEB tasks: 2-, 3- and 4-class, imbalanced, lower case, N."""
    ids = list(geneb_task_ids())[:n]
    kinds = [dict(n_classes=2, lower=True), dict(n_classes=3, imbalanced=True, n_rate=0.02),
             dict(n_classes=4, lower=True, n_rate=0.05), dict(n_classes=2, imbalanced=True)]
    for i, (tid, kw) in enumerate(zip(ids, kinds, strict=False)):
        write_task(d / f"{tid}.csv", n_train=90 + 20 * i, n_test=50, seed=10 + i, **kw)
    return ids


def _geneb_submission(tmp_path: Path, data: Path, models: list[str], model_file: Path | None = None,
                      export_args: tuple[str, ...] = ()) -> dict:
    url, res, out = str(tmp_path / "s.zarr"), str(tmp_path / "r.parquet"), tmp_path / "subs"
    mf = ["--model-file", str(model_file)] if model_file else []
    assert main(["embed", *mf, "--models", ",".join(models), "--data", str(data), "--store", url, "--no-progress"]) == 0
    assert main(["probe", "--store", url, "--out", res, "--no-progress"]) == 0
    assert main(["export-submission", *mf, "--results", res, "--out-dir", str(out), "--allow-partial",
                 *export_args]) == 0
    return {p.stem: json.loads(p.read_text()) for p in out.glob("*.json")}


@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
def test_harness_procedure_and_geneb_give_the_same_scores(tmp_path):
    """Defaults everywhere: geneb embed (float32 store) -> probe (sklearn) -> export equals
    the harness's procedure on every (task, regime) cell at its 4 decimals."""
    data = tmp_path / "data"
    data.mkdir()
    ids = _official_tasks(data)
    mf = tmp_path / "models.toml"
    mf.write_text(f'[my-kmer]\nfamily = "harness"\nextractor = "{FIX / "kmer4.py"}:Kmer4Extractor"\n'
                  'weights = "kmer-4"\ndisplay = "My k-mer"\nparams = 0\n')
    subs = _geneb_submission(tmp_path, data, ["my-kmer"], mf)
    sub = subs["my-kmer"]
    assert sub["meta"]["display"] == "My k-mer" and sub["meta"]["storage_dtype"] == "float32"
    ext = _harness_class("kmer4", "Kmer4Extractor")(name_model="kmer-4", device="cpu")
    for tid in ids:
        want = harness_evaluate(ext, data / f"{tid}.csv")
        for regime in ("full", "10shot", "1shot"):
            assert sub["results"][regime][tid] == want[regime], (tid, regime)
    assert len({sub["results"]["full"][t]["MCC"] for t in ids}) > 1  # not a degenerate table

    from geneb.probe.submission import validate_submission

    assert validate_submission(sub, task_ids=ids) == []


# -- the real GENEB harness -------------------------------------------------------------------
UPSTREAM = os.environ.get("GENEB_HARNESS_UPSTREAM")


@pytest.mark.skipif(not UPSTREAM, reason="GENEB_HARNESS_UPSTREAM (a checkout of the GENEB repository) not set")
@pytest.mark.filterwarnings("ignore::UserWarning", "ignore::FutureWarning")
def test_upstream_harness_equals_geneb(tmp_path):
    """The real `harness/run_GENEB.py` with its real `example_kmer.py`, and geneb running
    that same class through `harness:`, on the same task files: identical MCC, accuracy
    and F1 in every (task, regime) cell."""
    root = tmp_path / "GENEB"
    for sub in ("harness", "benchmark"):
        shutil.copytree(Path(UPSTREAM) / sub, root / sub)
    (root / "submissions").mkdir()
    spec_ids = [t["id"] for t in json.loads((root / "benchmark" / "benchmark_spec.json").read_text())["tasks"]]
    data = tmp_path / "data"
    data.mkdir()
    ids = _official_tasks(data)
    assert spec_ids[: len(ids)] == ids, "the catalog's task order is the official spec's"
    subprocess.run([sys.executable, str(root / "harness" / "run_GENEB.py"), "--extractor", "ExampleKmerExtractor",
                    "--module", "example_kmer", "--name_model", "kmer-4", "--model_id", "harness-kmer",
                    "--display", "k-mer", "--params", "0", "--data_dir", str(data), "--device", "cpu",
                    "--limit", str(len(ids))], check=True, cwd=root)
    official = json.loads((root / "submissions" / "harness-kmer.json").read_text())
    ref = f"harness:{root / 'harness' / 'extractors' / 'example_kmer.py'}:ExampleKmerExtractor:kmer-4"
    ours = _geneb_submission(tmp_path, data, [ref], export_args=("--display", "k-mer", "--params", "0"))
    ours = ours["ExampleKmerExtractor"]
    for regime in ("full", "10shot", "1shot"):
        for tid in ids:
            assert ours["results"][regime][tid] == official["results"][regime][tid], (tid, regime)


def test_on_dask_equals_in_process(tmp_path, probe_task):
    ref = f"harness:{FIX / 'input_probe.py'}:InputProbeExtractor:w"
    a, b = str(tmp_path / "a.zarr"), str(tmp_path / "b.zarr")
    common = ["--models", ref, "--data", str(probe_task), "--tasks", "mixed", "--block-rows", "24", "--no-progress"]
    assert main(["embed", *common, "--store", a]) == 0
    assert main(["embed", *common, "--store", b, "--dask", "local:1"]) == 0
    for split in ("train", "test"):
        np.testing.assert_array_equal(_store_X(a, "InputProbeExtractor", "mixed", split),
                                      _store_X(b, "InputProbeExtractor", "mixed", split))
