"""The 13 GENEB functional categories, in official order."""

from __future__ import annotations

from functools import cache

from ._files import data_path, read_toml


@cache
def _categories() -> dict:
    return read_toml(data_path("categories.toml"))


def category_order() -> tuple[str, ...]:
    """The 13 categories in the order the paper and the spec list them."""
    return tuple(_categories()["order"])


def published_task_counts() -> dict[str, int]:
    """Number of tasks per category in the published 100-task benchmark."""
    return dict(_categories()["n_tasks"])
