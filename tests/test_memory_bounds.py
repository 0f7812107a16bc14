"""Issue 8, memory bounds, each measured as the peak resident memory of a fresh process
(``geneb.dist.peakmem``) on generated inputs of two sizes:

- extraction streams a task: 4x the sequences costs far less than 4x the memory;
- the probe grid holds one (model, task) pair's arrays at a time, in-process and as units;
- the measurement itself sees linear growth when code does hold everything (control).
"""

from __future__ import annotations

import pytest

from geneb.dist.peakmem import measure_peak_rss
from geneb.testing import write_task_csv

MiB = 1 << 20
#: kmer-6: 4096-dim vectors, 16 KiB per row in float32, so holding a task's matrix
#: shows up at once, while the per-row cost of the sequences themselves stays small.
EMBED_MODEL, EMBED_DIM = "kmer-6", 4096
N_TRAIN, N_TEST = 6000, 1500  # N rows; the large input has 4N
EMBED_SETUP = "from geneb.extract import embed_pair\nimport geneb.store, zarr, numcodecs"


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    """Embed N and 4N generated sequences, each in a fresh process; keep peaks and stores."""
    root = tmp_path_factory.mktemp("embed-mem")
    out = {}
    for scale in (1, 4):
        task = f"gen{scale}x"
        write_task_csv(root / "data" / f"{task}.csv", N_TRAIN * scale, N_TEST * scale, length=100, seed=scale)
        store = root / f"s{scale}.zarr"
        peak = measure_peak_rss(
            f"res = embed_pair({str(store)!r}, {EMBED_MODEL!r}, {task!r}, "
            f"data_dir={str(root / 'data')!r}, device='cpu')\nRESULT = res.rows",
            setup=EMBED_SETUP,
        )
        assert peak.result == (N_TRAIN + N_TEST) * scale
        out[scale] = (peak, store, task)
    return out


def test_extraction_streams_each_task(embedded):
    small, large = embedded[1][0], embedded[4][0]
    extra_rows = 3 * (N_TRAIN + N_TEST)
    held = extra_rows * EMBED_DIM * 4  # what keeping the 3N extra float32 rows would cost
    growth = large.delta - small.delta
    assert growth < 0.15 * held, (
        f"embedding 4x the sequences raised peak memory by {growth / MiB:.0f} MiB "
        f"({small.delta / MiB:.0f} -> {large.delta / MiB:.0f} MiB); holding the extra rows "
        f"would be {held / MiB:.0f} MiB: extraction is not streaming"
    )


def test_measurement_sees_linear_growth(embedded):
    """Control: reading a whole matrix does grow with N, and the instrument sees it."""
    deltas = {}
    for scale, (_, store, task) in embedded.items():
        peak = measure_peak_rss(
            f"X = open_store({str(store)!r}).X({EMBED_MODEL!r}, {task!r}, 'train')\nRESULT = X.nbytes",
            setup="from geneb.store import open_store",
        )
        assert peak.result == N_TRAIN * scale * EMBED_DIM * 4
        deltas[scale] = peak.delta
        assert peak.delta >= peak.result  # at least the matrix itself
    assert deltas[4] - deltas[1] > 0.8 * 3 * N_TRAIN * EMBED_DIM * 4


# -- probes --------------------------------------------------------------------------------
PROBE_TASK = dict(n_train=2500, n_test=800, dim=2048)  # 26 MiB of float32 per pair
PAIR_BYTES = (PROBE_TASK["n_train"] + PROBE_TASK["n_test"]) * PROBE_TASK["dim"] * 4
PROBE_SETUP = (
    "from geneb.probe import run_probes\nfrom geneb.dist import probe_all\n"
    "import sklearn.linear_model, geneb.store, polars"
)


@pytest.fixture(scope="module")
def probe_stores(tmp_path_factory):
    from geneb.testing import SyntheticTask, write_synthetic_store

    root = tmp_path_factory.mktemp("probe-mem")
    out = {}
    for n_pairs in (2, 8):
        tasks = [SyntheticTask(f"t{i}", PROBE_TASK["n_train"], PROBE_TASK["n_test"], PROBE_TASK["dim"], 2, 1.0, i)
                 for i in range(n_pairs)]
        store = root / f"p{n_pairs}.zarr"
        write_synthetic_store(str(store), "syn", tasks, dtype="float16")
        out[n_pairs] = store
    return out


@pytest.mark.parametrize("runner", ["run_probes", "probe_all"])
def test_probe_grid_holds_one_pair_at_a_time(probe_stores, tmp_path, runner):
    """2 vs 8 pairs: the peak stays near one pair's arrays. The 1-shot regime keeps the
    fits tiny; every unit still loads its whole train and test matrices."""
    deltas = {}
    for n_pairs, store in probe_stores.items():
        out = tmp_path / f"{runner}-{n_pairs}.parquet"
        peak = measure_peak_rss(
            f"tab = {runner}({str(store)!r}, {str(out)!r}, backend='sklearn', regimes=['1shot'], "
            "progress=False)\nRESULT = tab.height",
            setup=PROBE_SETUP,
        )
        assert peak.result == n_pairs * 5
        deltas[n_pairs] = peak.delta
        assert peak.delta > PAIR_BYTES  # it did load a pair
    growth = deltas[8] - deltas[2]
    held = 6 * PAIR_BYTES
    assert growth < 0.15 * held, (
        f"{runner}: 4x the pairs raised peak memory by {growth / MiB:.0f} MiB "
        f"({deltas[2] / MiB:.0f} -> {deltas[8] / MiB:.0f} MiB); holding the extra pairs would be "
        f"{held / MiB:.0f} MiB"
    )


# -- analysis ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def results_files(tmp_path_factory):
    """One geneb-v1 grid (41 models x 100 tasks x 3 regimes x 5 seeds) plus 2x or 8x as
    many rows of another protocol in the same file (e.g. a seed sweep)."""
    import polars as pl

    from geneb.testing import synthetic_results

    root = tmp_path_factory.mktemp("analysis-mem")
    base = synthetic_results()
    out = {}
    for copies in (2, 8):
        other = [base.with_columns(pl.lit("geneb-robust").alias("protocol"), pl.col("seed") + 1000 * (k + 1))
                 for k in range(copies)]
        df = pl.concat([base, *other], how="vertical_relaxed")
        path = root / f"results-{copies}.parquet"
        df.write_parquet(path)
        out[copies] = (path, base.height, sum(o.estimated_size() for o in other))
    return out


def test_analysis_reads_results_lazily(results_files):
    """Loading one protocol's rows costs memory for those rows, not for the whole file."""
    deltas, extra = {}, {}
    for copies, (path, n_rows, other_bytes) in results_files.items():
        peak = measure_peak_rss(
            f"df = load_results({str(path)!r}, protocol='geneb-v1')\nRESULT = df.height",
            setup="from geneb.analysis import load_results",
        )
        assert peak.result == n_rows
        deltas[copies], extra[copies] = peak.delta, other_bytes
    growth = deltas[8] - deltas[2]
    unread = extra[8] - extra[2]  # in-memory size of the rows that should never be read
    assert growth < 0.25 * unread, (
        f"load_results(protocol=...) peak grew by {growth / MiB:.0f} MiB "
        f"({deltas[2] / MiB:.0f} -> {deltas[8] / MiB:.0f} MiB) when only other protocols' rows "
        f"({unread / MiB:.0f} MiB in memory) were added to the file"
    )


@pytest.mark.parametrize("method", ["auto", "sampling"])
def test_peak_rss_counts_the_body_not_the_setup(method):
    """200 MiB touched in setup and freed, 100 MiB held in the body: the measured peak
    above the baseline is the body's ~100 MiB with either method."""
    peak = measure_peak_rss(
        "x = np.ones(100 * 2**20 // 8)\nimport time; time.sleep(0.05)\nRESULT = int(x.nbytes)",
        setup="import numpy as np\ny = np.ones(200 * 2**20 // 8); del y",
        method=method,
    )
    assert peak.method == "sampling" if method == "sampling" else peak.method in ("hwm", "sampling")
    assert peak.result == 100 * MiB
    assert 0.95 * 100 * MiB <= peak.delta < 150 * MiB
    with pytest.raises(ValueError, match="method"):
        measure_peak_rss("pass", method="guess")
