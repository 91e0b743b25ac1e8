"""Data problems: the bad cells a load found, and the error that names each one with its
file, line (or row), column and value."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tpmkit.data.coerce import PROBLEM
from tpmkit.data.rules import rule_column
from tpmkit.data.sources import FILE, ROW, TEXT_FORMATS, ScannedFile, raw_rows
from tpmkit.errors import DataError, Issue
from tpmkit.spec import expressions

MAX_REPORTED = 20


@dataclass(frozen=True)
class Cell:
    """One bad cell: where it is and which rule it breaks."""

    file: str
    row: int
    column: str
    rule: str


def bad_cells(df: pl.DataFrame) -> list[Cell]:
    """Every cell a problem column flags, in file, row and column order."""
    columns = [c for c in df.columns if c.startswith(PROBLEM)]
    if not columns:
        return []
    flagged = df.select(FILE, ROW, *columns).filter(
        pl.any_horizontal(pl.col(columns).is_not_null())
    )
    if flagged.is_empty():
        return []
    long = (
        flagged.unpivot(index=[FILE, ROW], on=columns, variable_name="c", value_name="rule")
        .drop_nulls("rule")
        .sort(FILE, ROW, "c")
    )
    return [Cell(f, r, rule_column(c), rule) for f, r, c, rule in long.iter_rows()]


def file_for(display: str, scanned: list[ScannedFile]) -> ScannedFile:
    """The scanned file (or frame) messages call `display`."""
    return next(s for s in scanned if s.display == display)


def _derived_values(item: ScannedFile, raw: pl.DataFrame) -> dict[tuple[int, str], object]:
    """The text a `derive` expression produced for each raw row (for error messages)."""
    if not item.derive or raw.is_empty():
        return {}
    rename = {
        export: canonical
        for canonical, export in item.canonical.items()
        if export in raw.columns and export != canonical
    }
    frame = raw.rename(rename).with_columns(
        expressions.to_polars(text).cast(pl.String).alias(column)
        for column, text in item.derive.items()
    )
    return {
        (row[ROW], column): row[column]
        for row in frame.iter_rows(named=True)
        for column in item.derive
    }


def data_error(name: str, cells: list[Cell], scanned: list[ScannedFile]) -> DataError:
    """The error for a load that found bad cells (the first `MAX_REPORTED` are listed)."""
    shown = cells[:MAX_REPORTED]
    issues = []
    for display in dict.fromkeys(c.file for c in shown):
        item = file_for(display, scanned)
        mine = [c for c in shown if c.file == display]
        raw = raw_rows(item, sorted({c.row for c in mine}))
        by_row = {r[ROW]: r for r in raw.iter_rows(named=True)}
        derived = _derived_values(item, raw)
        text = item.format in TEXT_FORMATS
        for cell in mine:
            row = by_row.get(cell.row, {})
            export = item.canonical.get(cell.column, cell.column)
            value = derived.get((cell.row, cell.column), row.get(export))
            header_index = item.raw_names.index(export) + 1 if export in item.raw_names else None
            if cell.column in item.derive:
                label = f"{cell.column}` (derived: {item.derive[cell.column]})"
            elif export != cell.column:
                label = f"{export}` (`{cell.column}`)"
            else:
                label = f"{export}`"
            where = "" if text else f"row {cell.row + 1}, "
            issues.append(
                Issue(
                    f"{where}column `{label}: {cell.rule}: "
                    + ("(empty)" if value is None else repr(value)),
                    file=display,
                    line=row.get("__line") if text else None,
                    column=header_index if text else None,
                    hint=_fix_hint(cell.rule),
                )
            )
    rows = len({(c.file, c.row) for c in cells})
    quarantine = 'on_bad_rows="quarantine"'  # the CLI names it as its flag
    return DataError(
        f"dataset `{name}`: {len(cells)} bad value(s) in {rows} row(s); nothing was computed. "
        f"Fix the export, or re-run with {quarantine} to leave those rows out",
        issues,
        total=len(cells),
    )


def _fix_hint(rule: str) -> str | None:
    if rule.startswith("duplicate"):
        return "the same record is exported twice; remove one copy"
    if "DST gap" in rule:
        return "that wall-clock time is skipped by the DST change; export with a UTC offset"
    return None
