"""Named analysis presets (catalog/data/presets.toml): declarative option sets such as the
paper's, kept in the catalog so the CLI can list them without importing the analyses."""

from __future__ import annotations

from functools import cache
from typing import Any

from ._files import data_path, read_toml


@cache
def analysis_presets() -> dict[str, dict[str, Any]]:
    """Preset name -> {AnalysisOptions field: value} (the `description` key removed)."""
    raw = read_toml(data_path("presets.toml"))
    return {name: {k: v for k, v in body.items() if k != "description"} for name, body in raw.items()}


def preset_descriptions() -> dict[str, str]:
    return {name: body.get("description", "") for name, body in read_toml(data_path("presets.toml")).items()}
