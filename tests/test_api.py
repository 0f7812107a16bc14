"""The public API re-exported from `geneb` resolves (lazily) to real objects."""

from __future__ import annotations

import pytest

import geneb


@pytest.mark.parametrize("name", sorted(geneb._LAZY))
def test_lazy_export_resolves(name):
    obj = getattr(geneb, name)
    assert obj is not None and name in dir(geneb)


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        geneb.nope  # noqa: B018
