"""Data problems: the bad cells a load found, and the error that names each one with its
file, line (or row), column and value."""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from tpmkit.contract import CANONICAL
from tpmkit.data import formats
from tpmkit.data.coerce import PROBLEM
from tpmkit.data.formats import SAMPLE
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


@dataclass(frozen=True)
class Group:
    """Cells of one file breaking one rule in one column: reported as one line."""

    file: str
    column: str
    rule: str
    rows: list[int]


def grouped(cells: list[Cell]) -> list[Group]:
    """The cells by file, column and rule, in the order each first occurs."""
    groups: dict[tuple[str, str, str], list[int]] = {}
    for cell in cells:
        groups.setdefault((cell.file, cell.column, cell.rule), []).append(cell.row)
    return [Group(f, c, r, rows) for (f, c, r), rows in groups.items()]


SHOWN_LINES = 3  # lines listed for a problem repeated on many rows


def data_error(name: str, cells: list[Cell], scanned: list[ScannedFile]) -> DataError:
    """The error for a load that found bad cells: one line per file, column and rule
    (count, first lines, an example value), the first `MAX_REPORTED` of them."""
    groups = grouped(cells)
    shown = groups[:MAX_REPORTED]
    issues = []
    for display in dict.fromkeys(g.file for g in shown):
        item = file_for(display, scanned)
        mine = [g for g in shown if g.file == display]
        wanted = {r for g in mine for r in g.rows[:SHOWN_LINES]}
        wanted |= {r for g in mine if g.rule.startswith("not a timestamp") for r in g.rows[:SAMPLE]}
        raw = raw_rows(item, sorted(wanted))
        by_row = {r[ROW]: r for r in raw.iter_rows(named=True)}
        derived = _derived_values(item, raw)
        text = item.format in TEXT_FORMATS
        for group in mine:
            export = item.canonical.get(group.column, group.column)
            values = [
                derived.get((r, group.column), by_row.get(r, {}).get(export))
                for r in group.rows[:SAMPLE]
            ]
            first = by_row.get(group.rows[0], {})
            example = values[0]
            header_index = item.raw_names.index(export) + 1 if export in item.raw_names else None
            if group.column in item.derive:
                label = f"{group.column}` (derived: {item.derive[group.column]})"
            elif export != group.column:
                label = f"{export}` (`{group.column}`)"
            else:
                label = f"{export}`"
            where = "" if text else f"row {group.rows[0] + 1}{_named(name, item, first)}, "
            message = f"{where}column `{label}: {group.rule}: " + (
                "(empty)" if example is None else repr(example)
            )
            if len(group.rows) > 1:
                places = [
                    str(by_row.get(r, {}).get("__line")) if text else str(r + 1)
                    for r in group.rows[:SHOWN_LINES]
                ]
                more = ", …" if len(group.rows) > SHOWN_LINES else ""
                message += (
                    f" — {len(group.rows)} rows with this problem "
                    f"({'lines' if text else 'rows'} {', '.join(places)}{more})"
                )
            hint = _fix_hint(group.rule)
            if group.rule.startswith("not a timestamp"):
                written = pl.Series([v if v is None else str(v) for v in values], dtype=pl.String)
                hint = formats.suggest(written).hint() or hint
            issues.append(
                Issue(
                    message,
                    file=display,
                    line=first.get("__line") if text else None,
                    column=header_index if text else None,
                    hint=hint,
                )
            )
    rows = len({(c.file, c.row) for c in cells})
    quarantine = 'on_bad_rows="quarantine"'  # the CLI names it as its flag
    source = "table" if any(s.display.startswith("table ") for s in scanned) else "export"
    return DataError(
        f"dataset `{name}`: {len(cells)} bad value(s) in {rows} row(s); nothing was computed. "
        f"Fix the {source}, or re-run with {quarantine} to leave those rows out",
        issues,
        total=len(cells),
        covered=sum(len(g.rows) for g in shown),
    )


def _named(name: str, item: ScannedFile, row: dict[str, object]) -> str:
    """The row's id, where a row number alone does not find it (a Parquet file or a
    table, whose rows have no fixed order for the tools that open them)."""
    contract = CANONICAL.get(name)
    column = contract.id_column if contract else None
    value = row.get(item.canonical.get(column, column)) if column else None
    return "" if value is None else f" ({column} {value})"


def _fix_hint(rule: str) -> str | None:
    if rule.startswith("duplicate"):
        return "the same record is exported twice; remove one copy"
    if "DST gap" in rule:
        return "that wall-clock time is skipped by the DST change; export with a UTC offset"
    return None
