"""The built-in geneb-mini suite: shipped files load with the official loader, cover every
GENEB category, stay within the size budget, and rebuild byte-identically (slow test)."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from geneb.catalog import category_order
from geneb.catalog.tasks import mini_tasks
from geneb.data import load_task, mini_dir

REPO = Path(__file__).resolve().parent.parent
BUILD_SCRIPT = REPO / "scripts" / "build_mini.py"
SIZE_BUDGET_BYTES = 3_000_000
MINI = mini_tasks()
IDS = [t.task_id for t in MINI]


def test_catalog_lists_at_least_13_tasks_covering_every_category():
    assert len(MINI) >= 13
    assert len(set(IDS)) == len(IDS)
    assert {t.category for t in MINI} == set(category_order())
    assert all(t.suite == "mini" for t in MINI)


def test_catalog_order_follows_category_order():
    rank = {c: i for i, c in enumerate(category_order())}
    ranks = [rank[t.category] for t in MINI]
    assert ranks == sorted(ranks)


def test_catalog_records_provenance_and_simulated_flag():
    raw = list(
        csv.DictReader(
            open(REPO / "geneb" / "catalog" / "data" / "mini_tasks.csv", encoding="utf-8")
        )
    )
    assert [r["task_id"] for r in raw] == IDS
    for row, spec in zip(raw, MINI, strict=True):
        assert row["simulated"] in ("true", "false"), row["task_id"]
        assert spec.simulated == (row["simulated"] == "true")
        assert "seed=" in spec.provenance and len(spec.provenance) > 40, spec.task_id
        assert spec.source_collection.startswith("geneb-mini")
    # the suite is mostly real data; simulated tasks are the exception, and say so
    assert sum(not t.simulated for t in MINI) >= 7
    assert all("(sim" in t.label for t in MINI if t.simulated)


def test_every_catalog_task_has_a_file_and_no_stray_files():
    files = sorted(p.name for p in mini_dir().iterdir() if p.name.endswith(".csv.gz"))
    assert files == sorted(f"{i}.csv.gz" for i in IDS)


def test_total_shipped_size_within_budget():
    total = sum(p.stat().st_size for p in mini_dir().glob("*.csv.gz"))
    assert 0 < total <= SIZE_BUDGET_BYTES, f"mini suite is {total} bytes"


def test_files_are_reproducible_gzip_with_flat_header():
    for tid in IDS:
        raw = (mini_dir() / f"{tid}.csv.gz").read_bytes()
        assert raw[:2] == b"\x1f\x8b", tid
        assert raw[4:8] == b"\x00\x00\x00\x00", (
            f"{tid}: gzip mtime must be 0 for byte-identical rebuilds"
        )
        header = gzip.decompress(raw).split(b"\n", 1)[0]
        assert header == b"text,label,split", tid


@pytest.mark.parametrize("task_id", IDS)
def test_task_loads_with_official_loader(task_id):
    task = load_task(task_id)
    train, test = task.train, task.test
    assert len(train) >= 200 and len(test) >= 50
    n = len(train) + len(test)
    assert 300 <= n <= 2500
    assert 0.2 <= len(test) / n <= 0.3
    classes = np.unique(train.labels)
    assert len(classes) >= 2
    assert classes.tolist() == list(range(len(classes)))  # labels 0..C-1
    assert set(np.unique(test.labels).tolist()) == set(classes.tolist())  # every class is tested
    counts = np.bincount(train.labels)
    assert counts.min() / counts.max() >= 0.5  # roughly balanced
    for split in (train, test):
        for s in split.sequences:
            assert set(s) <= set("ACGTN")
        assert 50 <= split.lengths.min() and split.lengths.max() <= 1000
    assert not set(train.sequences) & set(test.sequences), "a sequence is in both splits"


def test_suite_shape_matches_its_promise():
    specs = {t.task_id: t for t in MINI}
    tasks = [load_task(t) for t in IDS]
    n_classes = [len(np.unique(t.train.labels)) for t in tasks]
    assert sum(c > 2 for c in n_classes) >= 2  # multi-class tasks
    lengths = [int(np.median(t.train.lengths)) for t in tasks]
    assert min(lengths) <= 80 and max(lengths) >= 900  # short and long tasks
    assert any(not specs[i].simulated and specs[i].category == "TF Binding" for i in IDS)


def test_content_hash_is_stable_across_loads():
    tid = IDS[0]
    assert load_task(tid).content_hash == load_task(tid).content_hash


def _downloads_available() -> str | None:
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        return "apt-get/dpkg-deb not available (not a Debian-like system)"
    try:
        probe = subprocess.run(
            ["apt-cache", "show", "bowtie2-examples"], capture_output=True, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired):
        return "apt-cache not usable"
    if probe.returncode != 0:
        return "the Debian package index lacks bowtie2-examples (run apt-get update)"
    if importlib.util.find_spec("pip") is None:
        return "pip not available"
    return None


@pytest.mark.slow
def test_rebuild_is_byte_identical(tmp_path):
    reason = _downloads_available()
    if reason:
        pytest.skip(f"cannot rebuild the mini suite here: {reason}")
    out, catalog = tmp_path / "mini", tmp_path / "mini_tasks.csv"
    proc = subprocess.run(
        [
            sys.executable,
            str(BUILD_SCRIPT),
            "--cache",
            str(tmp_path / "cache"),
            "--out",
            str(out),
            "--catalog",
            str(catalog),
            "--no-sanity",
        ],
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if proc.returncode == 2 and "could not download" in proc.stderr:
        pytest.skip(f"source packages could not be downloaded: {proc.stderr.strip()[:300]}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    shipped = sorted(p.name for p in mini_dir().glob("*.csv.gz"))
    assert sorted(p.name for p in out.glob("*.csv.gz")) == shipped
    for name in shipped:
        assert (out / name).read_bytes() == (mini_dir() / name).read_bytes(), (
            f"{name} differs from the shipped file"
        )
    assert (
        catalog.read_bytes()
        == (REPO / "geneb" / "catalog" / "data" / "mini_tasks.csv").read_bytes()
    )


# --- the build helpers (scripts/mini), on small synthetic inputs -------------------------------

sys.path.insert(0, str(REPO / "scripts"))
from mini import jaspar, seqops, splice, write  # noqa: E402
from mini.sanity import kmer_counts, kmer_mcc  # noqa: E402


def _random_dna(rng: np.random.Generator, n: int, p_gc: float = 0.4) -> str:
    p = [(1 - p_gc) / 2, p_gc / 2, p_gc / 2, (1 - p_gc) / 2]
    return "".join(np.array(list("ACGT"))[rng.choice(4, size=n, p=p)])


def test_write_task_is_byte_identical_and_readable_by_the_loader(tmp_path):
    from geneb.data import read_flat_file

    train = [("ACGTACGT", 0), ("TTTTGGGG", 1)]
    test = [("CCCCAAAA", 1), ("GGGGTTTT", 0)]
    a, b = tmp_path / "a" / "t.csv.gz", tmp_path / "b" / "t.csv.gz"
    write.write_task(a, train, test)
    write.write_task(b, train, test)
    assert a.read_bytes() == b.read_bytes()
    task = read_flat_file(a, "t")
    assert task.train.sequences == ("ACGTACGT", "TTTTGGGG")
    assert task.test.labels.tolist() == [1, 0]


def test_sample_windows_stays_in_region_and_never_repeats():
    rng = np.random.default_rng(0)
    genome = _random_dna(rng, 20_000)
    first = seqops.sample_windows([genome], 200, 100, rng, (0.0, 0.5))
    second = seqops.sample_windows([genome], 200, 100, rng, (0.5, 1.0))
    assert len(set(first)) == 200 and all(len(w) == 100 for w in first)
    assert all(genome.find(w) + 100 <= 10_000 for w in first)
    assert all(genome.find(w) >= 10_000 for w in second)


def test_sample_windows_skips_ambiguous_bases():
    rng = np.random.default_rng(1)
    genome = _random_dna(rng, 500) + "N" * 1000 + _random_dna(rng, 500)
    assert all("N" not in w for w in seqops.sample_windows([genome], 50, 60, rng))


def test_gc_match_matches_bins_without_reuse():
    rng = np.random.default_rng(2)
    targets = [_random_dna(rng, 200, 0.6) for _ in range(50)]
    pool = [_random_dna(rng, 200, g) for g in np.linspace(0.2, 0.8, 2000)]
    picked = seqops.gc_match(targets, pool, rng)
    assert len(set(picked)) == 50
    assert (
        abs(np.mean([seqops.gc(s) for s in picked]) - np.mean([seqops.gc(s) for s in targets]))
        < 0.01
    )


def test_gc_balance_gives_identical_histograms():
    rng = np.random.default_rng(3)
    a = [_random_dna(rng, 100, 0.3) for _ in range(400)]
    b = [_random_dna(rng, 100, 0.45) for _ in range(400)]
    sa, sb = seqops.gc_balance(a, b, rng, n_max=1000)
    assert len(sa) == len(sb) > 20
    assert sorted(int(seqops.gc(s) / 0.02) for s in sa) == sorted(
        int(seqops.gc(s) / 0.02) for s in sb
    )


def test_split_rows_is_stratified_and_disjoint():
    rng = np.random.default_rng(4)
    rows = {0: [f"A{i}" for i in range(100)], 1: [f"C{i}" for i in range(40)]}
    train, test = seqops.split_rows(rows, 0.25, rng)
    assert sorted(y for _, y in test).count(1) == 10 and len(test) == 35
    assert not {s for s, _ in train} & {s for s, _ in test}


def test_revcomp():
    assert seqops.revcomp("AACGTN") == "NACGTT"


def _toy_motif() -> jaspar.Motif:
    probs = np.array([[0.97, 0.01, 0.01, 0.01], [0.01, 0.97, 0.01, 0.01], [0.01, 0.01, 0.97, 0.01]])
    return jaspar.Motif("MA0000.1", "toy", probs)


def test_sample_site_follows_the_matrix_on_both_strands():
    rng = np.random.default_rng(5)
    sites = [jaspar.sample_site(_toy_motif(), rng) for _ in range(400)]
    assert all(len(s) == 3 for s in sites)
    forward, reverse = sites.count("ACG"), sites.count("CGT")
    assert forward > 120 and reverse > 120 and forward + reverse > 350


def test_plant_many_keeps_length_and_places_every_site():
    rng = np.random.default_rng(6)
    bg = "T" * 200
    out = jaspar.plant_many(bg, ["AAAAAAAA", "CCCCCCCC", "GGGGGGGG"], rng)
    assert len(out) == 200
    assert all(site in out for site in ("AAAAAAAA", "CCCCCCCC", "GGGGGGGG"))
    with pytest.raises(ValueError, match="does not fit"):
        jaspar.plant("ACGT", "AAAAAA", 0)


def test_load_motifs_reads_a_jaspar_style_database(tmp_path):
    import sqlite3

    db = tmp_path / "j.sqlite"
    con = sqlite3.connect(db)
    con.execute(
        "CREATE TABLE MATRIX (ID INTEGER, COLLECTION TEXT, BASE_ID TEXT, VERSION INTEGER, NAME TEXT)"
    )
    con.execute("CREATE TABLE MATRIX_DATA (ID INTEGER, row TEXT, col INTEGER, val REAL)")
    con.execute("INSERT INTO MATRIX VALUES (1, 'CORE', 'MA0001', 2, 'TOY')")
    for col, counts in enumerate([(10, 0, 0, 0), (0, 0, 10, 0)], start=1):
        for base, val in zip("ACGT", counts, strict=True):
            con.execute("INSERT INTO MATRIX_DATA VALUES (1, ?, ?, ?)", (base, col, val))
    con.commit()
    con.close()
    motif = jaspar.load_motifs(db, ["MA0001.2"])["MA0001.2"]
    assert motif.name == "TOY" and len(motif) == 2
    assert motif.probs[0].argmax() == 0 and motif.probs[1].argmax() == 2
    np.testing.assert_allclose(motif.probs.sum(axis=1), 1.0)
    with pytest.raises(KeyError, match="MA9999.1"):
        jaspar.load_motifs(db, ["MA9999.1"])


def _toy_gene(rng: np.random.Generator) -> tuple[str, str, int, int]:
    """A genome with one two-exon gene; returns (genome, mRNA, intron start, intron end)."""
    left, exon1, exon2, right = (_random_dna(rng, n) for n in (3000, 300, 300, 3000))
    exon1 = exon1[:-2] + "CA"  # the intron's GT must not extend the exon match ambiguously
    intron = "GTAAGT" + _random_dna(rng, 150, 0.2) + "TTTCAG"
    exon2 = "GA" + exon2[2:]
    genome = left + exon1 + intron + exon2 + right
    start = len(left) + len(exon1)
    return genome, exon1 + exon2, start, start + len(intron)


def test_spliced_alignment_recovers_the_exact_junction_on_both_strands():
    rng = np.random.default_rng(7)
    genome, mrna, a, b = _toy_gene(rng)
    filler = _random_dna(rng, 5000)
    index = splice.GenomeIndex([genome, filler])
    # the same cDNA given in antisense orientation must be recognised and re-oriented
    result = splice.align_cdnas(index, [mrna, seqops.revcomp(mrna)])
    assert [(j.intron_start, j.intron_end, j.strand) for j in result.junctions] == [(a, b, "+")]
    assert result.sense_cdnas == [mrna, mrna]
    assert result.sense_loci == [a, a]
    # a gene on the minus strand: the reverse-complemented genome
    rc_index = splice.GenomeIndex([seqops.revcomp(genome)])
    rc = splice.align_cdnas(rc_index, [mrna])
    n = len(genome)
    assert [(j.intron_start, j.intron_end, j.strand) for j in rc.junctions] == [(n - b, n - a, "-")]
    assert rc.sense_cdnas == [mrna]
    donor = splice.site_window(rc_index.genome, n - a, 20, "-")
    assert donor[10:12] == "GT" and donor[:10] == mrna[290:300]


def test_spliced_alignment_ignores_unspliced_and_unmatched_cdnas():
    rng = np.random.default_rng(8)
    genome, mrna, _, _ = _toy_gene(rng)
    index = splice.GenomeIndex([genome])
    unspliced = genome[100:700]
    foreign = _random_dna(rng, 600)
    result = splice.align_cdnas(index, [unspliced, foreign])
    assert result.junctions == [] and result.sense_cdnas == []


def test_kmer_counts_and_sanity_baseline():
    counts = kmer_counts(["AAAAA", "ACGTN"])
    assert counts.shape == (2, 256)
    assert counts[0].sum() == 2 and counts[0, 0] == 2  # AAAA twice
    assert counts[1].sum() == 1  # CGTN skipped
    rng = np.random.default_rng(9)
    rows = [(_random_dna(rng, 100, 0.3), 0) for _ in range(120)] + [
        (_random_dna(rng, 100, 0.6), 1) for _ in range(120)
    ]
    order = rng.permutation(len(rows))
    rows = [rows[i] for i in order]
    assert kmer_mcc(rows[:180], rows[180:]) > 0.8
    noise = [(_random_dna(rng, 100), int(i % 2)) for i in range(240)]
    assert abs(kmer_mcc(noise[:180], noise[180:])) < 0.35


def test_build_script_check_rejects_broken_tasks():
    spec = importlib.util.spec_from_file_location("build_mini", BUILD_SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    good = [("ACGT", 0), ("CCGT", 1)]
    mod._check("t", good, [("GGGT", 0)])
    with pytest.raises(RuntimeError, match="duplicate"):
        mod._check("t", good, [("ACGT", 0)])
    with pytest.raises(RuntimeError, match="0..C-1"):
        mod._check("t", [("ACGT", 0), ("CCGT", 2)], [("GGGT", 0)])
    with pytest.raises(RuntimeError, match="not A/C/G/T/N"):
        mod._check("t", [("ACGU", 0), ("CCGT", 1)], [("GGGT", 0)])
    with pytest.raises(RuntimeError, match="absent from train"):
        mod._check("t", good, [("GGGT", 2)])


def test_fetch_refuses_a_cached_package_whose_checksum_differs(tmp_path):
    from mini import sources

    first = next(iter(sources.PACKAGES.values()))
    (tmp_path / first.filename).write_bytes(b"not the pinned package")
    with pytest.raises(sources.SourceError, match=rf"{first.name}.*sha256|sha256.*{first.name}"):
        sources.fetch_all(tmp_path, verify=True)


def test_read_fasta_handles_gzip_case_and_multiple_records(tmp_path):
    from mini import sources

    plain = tmp_path / "a.fa"
    plain.write_text(">one desc\nacgt\nNNAC\n\n>two\nGGGG\n")
    gz = tmp_path / "a.fa.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    for path in (plain, gz):
        assert sources.read_fasta(path) == [("one desc", "ACGTNNAC"), ("two", "GGGG")]
    empty = tmp_path / "empty.fa"
    empty.write_text("")
    with pytest.raises(sources.SourceError, match="no FASTA records"):
        sources.read_fasta(empty)


def test_every_task_definition_is_documented():
    from mini.tasks import TASKS

    doc = (REPO / "docs" / "mini_suite.md").read_text(encoding="utf-8")
    assert [t.task_id for t in TASKS] == IDS
    for t in TASKS:
        assert f"`{t.task_id}`" in doc, f"{t.task_id} missing from docs/mini_suite.md"
        assert t.build.__doc__, f"{t.task_id}: builder has no docstring"
