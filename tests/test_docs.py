"""The examples in the README and docs/ are what users paste: every TOML block parses, and
every model entry in one is accepted by geneb's model-file loader as written."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from geneb.catalog.models import load_model_file

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
BLOCK = re.compile(r"^```toml\n(.*?)^```", re.S | re.M)


def _blocks() -> list:
    out = []
    for doc in DOCS:
        for i, m in enumerate(BLOCK.finditer(doc.read_text(encoding="utf-8"))):
            out.append(pytest.param(m.group(1), id=f"{doc.relative_to(ROOT)}#{i}"))
    return out


def test_the_docs_have_toml_examples():
    assert len(_blocks()) >= 2


@pytest.mark.parametrize("text", _blocks())
def test_toml_example_parses_and_loads(text, tmp_path):
    data = tomllib.loads(text)
    if "family" not in text:
        return
    for name, entry in data.items():  # a model file: every top-level table is one model
        assert isinstance(entry, dict) and "family" in entry, (
            f"[{name}] is not a model entry (a bare name with dots nests tables: quote it)")
    models = data
    f = tmp_path / "models.toml"
    f.write_text(text, encoding="utf-8")
    specs = load_model_file(f)
    assert {s.model_id for s in specs} == set(models)
