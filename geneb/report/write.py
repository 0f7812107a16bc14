"""Write an analysis to a directory: summary.json, tables/*.csv|md, figures/*.png|svg.

Files are written to a temporary sibling directory and moved into place at the end, so
a failure leaves nothing partial."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from geneb.analysis.pipeline import Analysis

from .figures import figure_bytes, make_figures
from .tables import write_table


def write_analysis(a: Analysis, out_dir: str | Path, figures: bool = True) -> list[Path]:
    """Write everything; returns the written paths (relative to `out_dir`)."""
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        written: list[Path] = []
        (tmp / "summary.json").write_text(json.dumps(a.summary, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        written.append(Path("summary.json"))
        if a.results is not None:
            a.results.write_parquet(tmp / "analysed_rows.parquet")
            written.append(Path("analysed_rows.parquet"))
        if a.preds is not None:
            a.preds.write_parquet(tmp / "predictions.parquet")
            written.append(Path("predictions.parquet"))
        for name, df in a.tables.items():
            written += [p.relative_to(tmp) for p in write_table(df, tmp / "tables", name)]
        if figures:
            (tmp / "figures").mkdir()
            for name, fig in make_figures(a).items():
                for fmt in ("png", "svg"):
                    p = tmp / "figures" / f"{name}.{fmt}"
                    p.write_bytes(figure_bytes(fig, fmt))
                    written.append(p.relative_to(tmp))
                plt.close(fig)
        out.mkdir(exist_ok=True)
        for rel in written:
            dst = out / rel
            dst.parent.mkdir(parents=True, exist_ok=True)
            (tmp / rel).replace(dst)
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
