"""The package's layers, enforced on the import graph (an import-linter contract in test
form): every import of a geneb module inside geneb/, at module level or inside a
function, read from the source. The foundation (store, results, catalog, data) imports
nothing above it; the torch-free half (probe, analysis, report) never imports the
extractor; the results contract imports nothing from geneb at all; nothing imports the
test fixtures (geneb.testing); and no module-level import cycle exists anywhere."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "geneb"
#: Subpackages (and top-level modules) and what each may import from geneb.
FOUNDATION = {"results": set(), "store": {"results"}, "catalog": {"results"}, "data": {"catalog", "store", "results"}}
TORCH_FREE = ("probe", "analysis", "report")
SHARED = {"_atomic", "_blas", "_lazy", "_progress", "_unit", "errors"}  # small helpers and the error root, anyone may use
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


def test_nothing_imports_the_test_fixtures():
    bad = [str(p.relative_to(PKG)) for p, deps in _graph().items() if _layer(p) != "testing" and "testing" in deps]
    assert not bad, f"geneb.testing is for tests and benchmarks only; imported by {bad}"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """geneb modules imported when ``path`` is imported: statements at module level (and in
    module-level if/try blocks, not under TYPE_CHECKING), ``from pkg import mod`` resolved
    to the module; function-level imports are lazy and run later, so they cannot cycle."""
    name = _module(path)
    pkg = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                    visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for h in node.handlers:
                    visit(h.body)
                visit(node.orelse)
            elif isinstance(node, ast.Import):
                out.update(a.name for a in node.names if a.name.startswith("geneb"))
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = pkg.split(".")[: len(pkg.split(".")) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                if mod == "geneb" or mod.startswith("geneb."):
                    out.update(f"{mod}.{a.name}" if f"{mod}.{a.name}" in modules else mod for a in node.names)

    visit(ast.parse(path.read_text(), str(path)).body)
    deps = set()
    for d in out & modules:
        parts = d.split(".")
        # importing a.b.c imports a.b first (unless we are inside a.b, which is then importing us)
        deps.update(p for p in (".".join(parts[:i]) for i in range(2, len(parts) + 1))
                    if p in modules and p != name and not name.startswith(p + "."))
    return deps


def test_no_import_cycles():
    paths = {_module(p): p for p in PKG.rglob("*.py")}
    graph = {m: _top_level_imports(p, set(paths)) for m, p in paths.items()}
    assert "geneb.store.store" in graph["geneb.store"]  # the graph is read
    done: set[str] = set()
    for start in graph:  # depth-first search for a back edge, iteratively
        stack, on_path = [(start, iter(sorted(graph[start])))], [start]
        if start in done:
            continue
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                done.add(node)
                stack.pop()
                on_path.pop()
            elif nxt in on_path:
                cycle = on_path[on_path.index(nxt):] + [nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            elif nxt not in done:
                stack.append((nxt, iter(sorted(graph[nxt]))))
                on_path.append(nxt)
