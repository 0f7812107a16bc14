"""The report in a real browser: headless Chromium opens the page from file://, the page
replays a URL-hash action list through its own controls (switch regime, sort a column),
and the test checks the dumped DOM. A screenshot is saved to test-artifacts/."""

from __future__ import annotations

import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import polars as pl
import pytest

from geneb.analysis import AnalysisOptions, load_results, run_analysis
from geneb.report import build_report
from geneb.testing import synthetic_results

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=5000"]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.skip("headless Chromium not installed (Debian: apt-get install chromium); CI installs it")


def _run(browser: str, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    profile = tmp / f"profile-{len(list(tmp.glob('profile-*')))}"
    return subprocess.run([browser, *FLAGS, f"--user-data-dir={profile}", *args], capture_output=True, text=True, timeout=120)


class _Dom(HTMLParser):
    """The bits of the dumped DOM the test checks: body data-*, header cells, rows."""

    def __init__(self) -> None:
        super().__init__()
        self.body: dict[str, str] = {}
        self.headers: list[dict[str, str]] = []
        self.rows: list[dict] = []
        self._in_lb = False
        self._row: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "body":
            self.body = a
        elif tag == "table" and a.get("id") == "leaderboard":
            self._in_lb = True
        elif self._in_lb and tag == "th":
            self.headers.append(a)
        elif self._in_lb and tag == "tr" and "data-model" in a:
            self._row = {"model": a["data-model"], "class": a.get("class", ""), "values": []}
            self.rows.append(self._row)
        elif self._row is not None and tag == "td":
            self._row["values"].append(a.get("data-value", ""))

    def handle_endtag(self, tag):
        if tag == "table":
            self._in_lb = False
            self._row = None


def test_report_in_headless_chromium(tmp_path):
    browser = _chromium()
    synthetic_results(["kmer-3", "kmer-4", "GROVER", "MutBERT", "DNABERT-S"], n_tasks=40, seeds=(1, 2)).write_parquet(tmp_path / "r.parquet")
    (tmp_path / "meta.csv").write_text("model,untrained\nkmer-4,true\n")
    a = run_analysis(load_results(tmp_path / "r.parquet", metadata_csv=tmp_path / "meta.csv"), AnalysisOptions(n_boot=50))
    page = build_report(a, tmp_path / "report.html")
    url = page.resolve().as_uri() + "#regime=10shot&sort=macro&dir=asc"

    dump = _run(browser, tmp_path, "--dump-dom", url)
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = _Dom()
    dom.feed(dump.stdout)
    assert dom.body.get("data-ready") == "1", "page script did not finish"
    # the regime switch took effect
    assert dom.body.get("data-regime") == "10shot"
    assert re.search(r'id="regime-10shot"[^>]*class="active"|class="active"[^>]*id="regime-10shot"', dump.stdout)
    # the macro column is sorted ascending, and the header says so
    keys = [h.get("data-key") for h in dom.headers]
    macro_col = keys.index("macro")
    assert dom.headers[macro_col].get("aria-sort") == "ascending"
    shown = [float(r["values"][macro_col]) for r in dom.rows]
    want = a.tables["leaderboard_10shot"].sort("macro")["macro"].to_list()
    assert shown == pytest.approx(want)
    assert [r["model"] for r in dom.rows] == a.tables["leaderboard_10shot"].sort("macro", "model")["model"].to_list()
    # the untrained baseline is visibly labelled; every category has a column
    assert "untrained" in next(r for r in dom.rows if r["model"] == "kmer-4")["class"]
    cats = a.tables["category_scores"]["category"].unique().to_list()
    assert {f"cat:{c}" for c in cats} <= set(keys)
    assert len(dom.rows) == a.tables["leaderboard_10shot"].filter(pl.col("macro").is_not_null()).height

    # a per-category view, through the same hash mechanism
    cat = sorted(cats)[0]
    view = _run(browser, tmp_path, "--dump-dom", page.resolve().as_uri() + "#view=" + quote(cat))
    vdom = _Dom()
    vdom.feed(view.stdout)
    assert vdom.body.get("data-view") == cat and vdom.headers[0].get("data-key") == f"cat:{cat}"
    vals = [float(r["values"][0]) for r in vdom.rows if r["values"][0]]
    assert vals == sorted(vals, reverse=True)

    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    res = _run(browser, tmp_path, "--window-size=1400,1000", f"--screenshot={shot}", url)
    assert res.returncode == 0 and shot.stat().st_size > 10_000


def test_not_geneb_data_is_marked_in_the_rendered_page(tmp_path):
    browser = _chromium()
    df = synthetic_results(["kmer-3", "kmer-4", "GROVER"], n_tasks=13, seeds=(1,))
    h = pl.col("task").hash().cast(pl.String).str.pad_start(64, "0")
    df = df.with_columns(pl.when((pl.col("model") == "GROVER") & (pl.col("task") == df["task"][0]))
                         .then(pl.lit("f" * 64)).otherwise(h).alias("task_hash"))
    df.write_parquet(tmp_path / "r.parquet")
    a = run_analysis(load_results(tmp_path / "r.parquet"), AnalysisOptions(n_boot=0))
    page = build_report(a, tmp_path / "report.html", figures=False)
    dump = _run(browser, tmp_path, "--dump-dom", page.resolve().as_uri())
    assert dump.returncode == 0, dump.stderr[-2000:]
    dom = _Dom()
    dom.feed(dump.stdout)
    assert dom.body.get("data-ready") == "1"
    classes = {r["model"]: r["class"] for r in dom.rows}
    assert "notgeneb" in classes["GROVER"] and "notgeneb" not in classes["kmer-3"] + classes["kmer-4"]
    row = re.search(r'<tr[^>]*data-model="GROVER".*?</tr>', dump.stdout, re.S).group(0)
    assert 'class="badge notgeneb"' in row and "not the GENEB data" in row
    assert 'id="data-warning"' in dump.stdout
