"""Tables as CSV and Markdown. List columns are joined with "; " (CSV has no lists)."""

from __future__ import annotations

from pathlib import Path

import polars as pl


def flatten(df: pl.DataFrame) -> pl.DataFrame:
    """Lists -> "; "-joined strings, so the frame fits CSV and Markdown."""
    return df.with_columns(
        [pl.col(c).cast(pl.List(pl.String)).list.join("; ").alias(c) for c, t in df.schema.items() if isinstance(t, pl.List)]
    )


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v).replace("|", "\\|")


def to_markdown(df: pl.DataFrame) -> str:
    """A GitHub-flavoured Markdown table."""
    df = flatten(df)
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "|".join("---" for _ in df.columns) + "|"]
    for row in df.iter_rows():
        lines.append("| " + " | ".join(_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


def write_table(df: pl.DataFrame, directory: Path, name: str) -> list[Path]:
    """Write `<name>.csv` and `<name>.md` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    csv, md = directory / f"{name}.csv", directory / f"{name}.md"
    flatten(df).write_csv(csv)
    md.write_text(f"# {name}\n\n" + to_markdown(df), encoding="utf-8")
    return [csv, md]
