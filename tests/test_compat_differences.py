"""The named differences from upstream are declared once, as data (differences.toml), and
the declarations and the code agree: every declared difference is applied by some module,
and every name the code asks for is declared (a typo fails here, not at a user's load)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import geneb
from geneb.extract import compat

SRC = Path(geneb.__file__).parent
ASKED = re.compile(r'\bdifference\("([a-z0-9-]+)"\)')


def _code() -> dict[str, str]:
    return {str(p.relative_to(SRC)): p.read_text() for p in SRC.rglob("*.py")}


def test_every_declared_difference_is_applied_and_every_asked_one_is_declared():
    declared = compat.declared_names()
    assert len(declared) == len(set(declared)), "a name is declared twice"
    asked = {name for text in _code().values() for name in ASKED.findall(text)}
    assert asked, "the pattern no longer finds the code's references"
    assert asked <= set(declared), f"asked for but not declared: {sorted(asked - set(declared))}"
    assert set(declared) <= asked, f"declared but applied nowhere: {sorted(set(declared) - asked)}"


def test_declarations_are_complete_and_their_version_ranges_parse():
    for d in compat.differences().values():
        assert d.upstream and d.construct and d.why, d.name
        assert d.stage in compat.STAGES
        d.applies("4.40.0"), d.applies("5.25.0")  # a valid PEP 440 specifier set


def test_pinned_upstream_versions_in_declarations_match_the_code():
    omni = pytest.importorskip("geneb.extract.adapters.omni_dna")
    olmo = [d for d in compat.differences().values() if "ai2-olmo" in d.upstream]
    assert olmo and all(f"ai2-olmo {omni.OLMO_VERSION}" in d.upstream for d in olmo)


def test_a_malformed_declaration_is_an_error_naming_it(monkeypatch):
    bad = ({"name": "x-y", "stage": "load", "upstream": "u", "construct": "c", "colour": "red"},)
    monkeypatch.setattr(compat, "_declared_rows", lambda: bad)
    monkeypatch.setattr(compat, "_REGISTRY", {})
    compat._load_declared.cache_clear()
    try:
        with pytest.raises(ValueError, match="'x-y'"):
            compat._load_declared()
    finally:
        compat._load_declared.cache_clear()
