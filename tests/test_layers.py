"""The package's layers, enforced on the import graph (an import-linter contract in test
form): every import of a geneb module inside geneb/, at module level or inside a
function, read from the source. The foundation (store, results, catalog, data) imports
nothing above it; the torch-free half (probe, analysis, report) never imports the
extractor; the results contract imports nothing from geneb at all."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "geneb"
#: Subpackages (and top-level modules) and what each may import from geneb.
FOUNDATION = {"results": set(), "store": {"results"}, "catalog": {"results"}, "data": {"catalog", "store", "results"}}
TORCH_FREE = ("probe", "analysis", "report")
SHARED = {"_atomic", "_blas", "_progress", "errors"}  # small helpers and the error root, anyone may use
LAYERS = {p.name.removesuffix(".py") for p in PKG.iterdir() if p.suffix == ".py" or (p / "__init__.py").is_file()}


def _layer(path: Path) -> str:
    rel = path.relative_to(PKG).parts
    return rel[0].removesuffix(".py") if rel else ""


def _imports(path: Path) -> set[str]:
    """geneb layers a module imports (absolute ``geneb.x`` and relative ``..x`` forms)."""
    tree = ast.parse(path.read_text(), str(path))
    depth = len(path.relative_to(PKG).parts) - 1  # packages between geneb/ and the file
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                names = [node.module or ""]
            else:
                up = depth - (node.level - 1)  # how deep the anchor package is below geneb/
                if up < 0:
                    continue
                base = list(path.relative_to(PKG).parts[:up])
                mod = (node.module or "").split(".") if node.module else []
                parts = base + mod
                if not parts:  # `from .. import x` at the top: x is a layer, or an attribute of geneb
                    out.update(a.name for a in node.names if a.name in LAYERS)
                    continue
                names = ["geneb." + ".".join(parts)]
        else:
            continue
        for n in names:
            if n == "geneb" or n.startswith("geneb."):
                sub = n.split(".")
                if len(sub) > 1:
                    out.add(sub[1])
    return out


def _graph() -> dict[Path, set[str]]:
    return {p: _imports(p) for p in PKG.rglob("*.py")}


def test_the_graph_is_read():
    g = _graph()
    assert len(g) > 100
    assert "results" in g[PKG / "probe" / "table.py"] and "catalog" in g[PKG / "probe" / "submission.py"]


@pytest.mark.parametrize("layer,allowed", sorted(FOUNDATION.items()))
def test_foundation_imports_nothing_above_it(layer, allowed):
    bad = {str(p.relative_to(PKG)): sorted(deps - allowed - SHARED - {layer})
           for p, deps in _graph().items() if _layer(p) == layer and deps - allowed - SHARED - {layer}}
    assert not bad, f"{layer} imports layers above it: {bad}"


@pytest.mark.parametrize("layer", TORCH_FREE)
def test_torch_free_half_never_imports_the_extractor(layer):
    bad = [str(p.relative_to(PKG)) for p, deps in _graph().items() if _layer(p) == layer and "extract" in deps]
    assert not bad, f"{layer} imports geneb.extract: {bad}"


def test_writer_and_readers_share_one_results_contract():
    import geneb.analysis.schema as analysis_schema
    import geneb.analysis.submissions as analysis_sub
    import geneb.probe.submission as probe_sub
    import geneb.probe.table as probe_table
    import geneb.results as results

    assert probe_table.RESULT_SCHEMA is analysis_schema.RESULT_SCHEMA is results.RESULT_SCHEMA
    assert probe_table.ROW_KEY is analysis_schema.KEY is results.ROW_KEY
    assert probe_table.PRED_SCHEMA is results.PRED_SCHEMA
    assert probe_sub.submission_filename is analysis_sub.submission_filename is results.submission.submission_filename
    assert probe_sub.LEADERBOARD_PROTOCOL == analysis_sub.SUBMISSION_PROTOCOL == results.submission.LEADERBOARD_PROTOCOL
