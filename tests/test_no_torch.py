"""The analysis half imports and the catalog CLI runs without torch installed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

BLOCK_TORCH = textwrap.dedent(
    """
    import sys
    for name in ("torch", "transformers", "tokenizers", "safetensors", "cuml", "cupy"):
        sys.modules[name] = None   # any import of these now raises ImportError
    """
)


def _run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", BLOCK_TORCH + code], capture_output=True, text=True, timeout=120
    )


def test_import_and_catalog_cli_without_torch():
    code = textwrap.dedent(
        """
        import geneb, json, io, contextlib
        from geneb.cli import main
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["models", "--json"]) == 0
        models = json.loads(buf.getvalue())
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            assert main(["tasks", "--json"]) == 0
        tasks = json.loads(buf.getvalue())
        print(json.dumps({"models": len(models), "tasks": len(tasks),
                          "torch_loaded": "torch" in sys.modules and sys.modules["torch"] is not None}))
        """
    )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["models"] >= 40 and out["tasks"] >= 100 and not out["torch_loaded"]


def test_help_is_fast_and_torch_free():
    proc = _run("from geneb.cli import main\nimport sys\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass\nprint('torch' in sys.modules and sys.modules['torch'] is not None)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "False"


@pytest.mark.slow
def test_fresh_venv_core_install(tmp_path):
    """`pip install -e .` (no extras) in a fresh venv, then geneb models/tasks."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    py = venv / "bin" / "python"
    proc = subprocess.run([str(py), "-m", "pip", "install", "-q", "-e", root], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"pip install failed here (no registry?): {proc.stderr[-500:]}")
    check = subprocess.run([str(py), "-c", "import importlib.util,sys; sys.exit(importlib.util.find_spec('torch') is not None)"])
    assert check.returncode == 0, "the core install must not pull torch"
    for cmd in (["models", "--json"], ["tasks", "--json"]):
        out = subprocess.run([str(venv / "bin" / "geneb"), *cmd], capture_output=True, text=True)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)
