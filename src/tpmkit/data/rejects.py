"""Quarantine: the rejected rows, as written, to a CSV a user can fix and re-export."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from tpmkit.atomic import write_with
from tpmkit.data.problems import Cell, file_for
from tpmkit.data.sources import ROW, ScannedFile, raw_rows


def write_rejects(name: str, cells: list[Cell], scanned: list[ScannedFile], folder: Path) -> str:
    """Write the rejected rows (original values + file, line, reason) to a CSV a user can fix."""
    reasons: dict[tuple[str, int], list[str]] = {}
    for cell in cells:
        export = file_for(cell.file, scanned).canonical.get(cell.column, cell.column)
        reasons.setdefault((cell.file, cell.row), []).append(f"{export}: {cell.rule}")
    parts = []
    for display in dict.fromkeys(c.file for c in cells):
        item = file_for(display, scanned)
        raw = raw_rows(item, sorted({r for f, r in reasons if f == display}))
        reason = pl.Series("_reason", ["; ".join(reasons[(display, r)]) for r in raw[ROW]])
        parts.append(
            raw.with_columns(
                pl.lit(display).alias("_source_file"), pl.col("__line").alias("_line"), reason
            ).drop(ROW, "__line")
        )
    frame = pl.concat(parts, how="diagonal")
    target = folder / f"{name}.rejects.csv"
    write_with(target, lambda tmp: frame.write_csv(tmp))
    return str(target)
