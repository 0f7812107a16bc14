"""Access to the catalog data files that ship inside the package."""

from __future__ import annotations

import csv
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any

from ..errors import UserError


class CatalogError(UserError, ValueError):
    """A catalog file or a user spec is invalid; the message names the file and entry."""


def data_path(name: str) -> Path:
    return Path(str(resources.files("geneb.catalog") / "data" / name))


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise CatalogError(f"{path}: invalid TOML: {exc}") from exc


def read_mapping_file(path: Path) -> dict[str, Any]:
    """Read a user spec file: TOML (.toml) or YAML (.yaml/.yml)."""
    path = Path(path)
    if not path.exists():
        raise CatalogError(f"{path}: file not found")
    if path.suffix == ".toml":
        return read_toml(path)
    if path.suffix in (".yaml", ".yml"):
        import yaml

        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise CatalogError(f"{path}: invalid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise CatalogError(f"{path}: expected a mapping of id -> spec at top level")
        return data
    raise CatalogError(f"{path}: unknown spec file type {path.suffix!r} (use .toml, .yaml or .yml)")
