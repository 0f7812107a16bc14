"""The report a researcher presents, in headless Chromium at 1,400 and 1,920 px: a user's
model ranked among the 40 published ones (marked), every category column reachable beside
the sticky model column, the model page and the two-model comparison driven from the DOM.
Screenshots go to test-artifacts/."""

from __future__ import annotations

import html
import json
import math
import re
from urllib.parse import quote

import polars as pl
import pytest
from test_report_browser import ARTIFACTS, _chromium, _run

from geneb.analysis import AnalysisOptions, load_results, run_analysis
from geneb.analysis.compare import paired_difference
from geneb.analysis.published import published_files
from geneb.report import build_report

pytestmark = pytest.mark.browser

# Appended after the page's own script: scroll the leaderboard to each category column and
# record whether it is on screen, right of the sticky model column and not covered by it.
REACH = """<script>
(function () {
  var wrap = document.getElementById("lbwrap"), table = document.getElementById("leaderboard");
  var model = table.querySelector('th[data-key="model"]'), out = [];
  wrap.scrollLeft = 0;
  var m0 = model.getBoundingClientRect();  // where the sticky model column is before scrolling
  Array.prototype.forEach.call(table.querySelectorAll("th.cat"), function (th) {
    wrap.scrollLeft = 0;
    var w = wrap.getBoundingClientRect(), r0 = th.getBoundingClientRect();
    wrap.scrollLeft = r0.left - w.left - Number(table.dataset.stickyWidth) - 4;
    var r = th.getBoundingClientRect(), m = model.getBoundingClientRect(), w2 = wrap.getBoundingClientRect();
    var hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    var ok = r.left >= m.right - 1 && r.right <= Math.min(window.innerWidth, w2.right) + 1 && Math.abs(m.left - m0.left) < 1
             && (hit === th || th.contains(hit));
    out.push(th.dataset.key.slice(4) + "=" + (ok ? 1 : 0));
  });
  wrap.scrollLeft = 0;
  document.body.dataset.reach = out.join("|");
  document.body.dataset.innerWidth = String(window.innerWidth);
})();
</script>
</body>"""


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    d = tmp_path_factory.mktemp("pubrep")
    doc = json.loads(published_files()["submissions/MutBERT.json"])
    doc.update(model_id="my-dna-model")
    doc["meta"].update(display="My DNA model", provenance="self-reported", params=90_000_000)
    for tasks in doc["results"].values():
        for m in tasks.values():
            m["MCC"] = min(1.0, m["MCC"] + 0.01)
    (d / "my-dna-model.json").write_text(json.dumps(doc))
    a = run_analysis(load_results(None, submissions=d / "my-dna-model.json", published=True), AnalysisOptions(n_boot=200))
    out = build_report(a, d / "report.html")
    checked = d / "report-checked.html"
    checked.write_text(out.read_text().replace("</body>", REACH, 1))
    return a, out, checked


def _dump(browser, tmp_path, url, width):
    res = _run(browser, tmp_path, f"--window-size={width},1000", "--dump-dom", url)
    assert res.returncode == 0, res.stderr[-2000:]
    assert 'data-ready="1"' in res.stdout, "page script did not finish"
    return res.stdout


def _body(dom: str) -> dict[str, str]:
    tag = re.search(r"<body([^>]*)>", dom).group(1)
    return {k: html.unescape(v) for k, v in re.findall(r'([\w-]+)="([^"]*)"', tag)}


@pytest.mark.parametrize("width", [1400, 1920])
def test_every_category_column_is_reachable(page, tmp_path, width):
    browser = _chromium()
    a, out, checked = page
    body = _body(_dump(browser, tmp_path, checked.resolve().as_uri(), width))
    assert body["data-inner-width"] == str(width)
    reach = dict(kv.split("=") for kv in body["data-reach"].split("|"))
    cats = a.tables["category_scores"]["category"].unique().to_list()
    assert set(reach) == set(cats) and len(cats) == 13
    assert all(v == "1" for v in reach.values()), f"not reachable at {width}px: {[c for c, v in reach.items() if v != '1']}"
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"report-published-{width}.png"
    res = _run(browser, tmp_path, f"--window-size={width},1000", f"--screenshot={shot}", out.resolve().as_uri())
    assert res.returncode == 0 and shot.stat().st_size > 10_000


def test_ranking_of_41_marks_the_users_model(page, tmp_path):
    browser = _chromium()
    a, out, _ = page
    dom = _dump(browser, tmp_path, out.resolve().as_uri(), 1400)
    models = re.findall(r'<tr[^>]*data-model="([^"]+)"', dom.split('id="leaderboard"')[1].split("</table>")[0])
    assert len(models) == 41
    assert models == a.tables["leaderboard_full"]["model"].to_list()
    lb = dom.split('id="leaderboard"')[1].split("</table>")[0]
    mine = re.search(r'<tr[^>]*data-model="my-dna-model"[^>]*>.*?</tr>', lb, re.S).group(0)
    assert "mine" in mine and 'class="badge mine"' in mine and "yours" in mine
    assert len(re.findall(r'<tr[^>]*class="[^"]*\bpub\b', lb)) == 40 and 'id="mixed-legend"' in dom
    # the placement table: rank per regime and the nearest published models
    place = re.search(r'<table id="placement">.*?</table>', dom, re.S).group(0)
    rank = a.summary["published"]["models"]["my-dna-model"]["full"]["rank"]
    assert f"{rank} of 41" in place
    assert {n["neighbour"] for n in a.summary["published"]["models"]["my-dna-model"]["neighbours"]} == set(
        re.findall(r'data-neighbour="([^"]+)"', place))


def test_model_page_from_the_dom(page, tmp_path):
    browser = _chromium()
    a, out, _ = page
    dom = _dump(browser, tmp_path, out.resolve().as_uri() + "#model=" + quote("my-dna-model"), 1400)
    panel = dom.split('id="model-panel"')[1].split("</section>")[0]
    assert 'data-model="my-dna-model"' in dom.split('id="model-panel"')[1][:200] and " hidden" not in panel[:200]
    for regime in a.summary["regimes"]:
        lb = a.tables[f"leaderboard_{regime}"]
        rank = lb.filter(pl.col("model") == "my-dna-model")["rank"][0]
        row = re.search(rf'<tr data-regime="{regime}">(.*?)</tr>', panel, re.S).group(1)
        assert f'data-value="{rank}"' in row and f"{rank} of 41" in row
    cs = a.tables["category_scores"].filter(pl.col("model") == "my-dna-model")
    cells = re.findall(r'<td data-regime="([^"]+)" data-value="([^"]*)"', panel)
    assert len(cells) == 13 * 3
    want = {(r, c): v for r, c, v in cs.select("regime", "category", "score").iter_rows()}
    cats = re.findall(r'<tr data-category="([^"]+)"', panel)
    got = {(r, html.unescape(cats[i // 3])): float(v) for i, (r, v) in enumerate(cells)}
    assert got == pytest.approx(want, abs=1e-12)
    assert len(re.findall(r'<tr data-task="', panel)) == 100
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-model-page.png"
    _run(browser, tmp_path, "--window-size=1400,1000", f"--screenshot={shot}", out.resolve().as_uri() + "#model=my-dna-model")
    assert shot.stat().st_size > 10_000


def test_two_model_comparison_from_the_dom(page, tmp_path):
    browser = _chromium()
    a, out, _ = page
    url = out.resolve().as_uri() + "#compare=" + quote("my-dna-model,enformer-official-rough")
    dom = _dump(browser, tmp_path, url, 1400)
    box = dom.split('id="compare"')[1].split("</section>")[0]
    rows = {}
    for tag in re.findall(r"<tr data-scope=[^>]*>", box):
        at = dict(re.findall(r'data-(\w+)="([^"]*)"', tag))
        rows[html.unescape(at["scope"])] = (float(at["diff"]), float(at.get("lo", "nan")), float(at.get("hi", "nan")))
    ref = paired_difference(a.results, "my-dna-model", "enformer-official-rough", "full", n_boot=4000, seed=1)
    assert set(rows) == set(ref["scope"].to_list()) and len(rows) == 14
    for scope, n, d, lo, hi in ref.select("scope", "n_tasks", "diff", "lo", "hi").iter_rows():
        got_d, got_lo, got_hi = rows[scope]
        assert got_d == pytest.approx(d, abs=1e-4)  # the page holds task scores to 5 decimals
        if n < 2:  # a one-task category has no interval, on the page or in Python
            assert math.isnan(got_lo) and math.isnan(lo)
            continue
        assert got_lo <= got_d <= got_hi
        # another random stream, same resampling: the intervals agree to Monte Carlo error
        assert got_lo == pytest.approx(lo, abs=0.015) and got_hi == pytest.approx(hi, abs=0.015)
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-compare.png"
    _run(browser, tmp_path, "--window-size=1400,2400", f"--screenshot={shot}", url)  # tall: the section below the table
    assert shot.stat().st_size > 10_000
