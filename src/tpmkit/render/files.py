"""Machine-readable outputs: JSON, CSV, Markdown and Parquet, written atomically."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from tpmkit.atomic import write_text, write_with
from tpmkit.render.statuses import look
from tpmkit.render.values import fmt_gap, fmt_level, fmt_value, group_label
from tpmkit.stitched import Stitched

ISO = "%Y-%m-%dT%H:%M:%S%:z"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _text_times(records: pl.DataFrame) -> pl.DataFrame:
    """Timestamps as ISO 8601 with offset, dates as YYYY-MM-DD (e.g. --by hire_date)."""
    return records.with_columns(
        pl.col(c).dt.strftime(ISO if isinstance(t, pl.Datetime) else "%Y-%m-%d")
        for c, t in records.schema.items()
        if isinstance(t, pl.Datetime) or t == pl.Date
    )


def to_json(records: pl.DataFrame) -> str:
    """A JSON array of records (the output contract), full precision, ISO 8601 times."""
    rows = _text_times(records).to_dicts()
    return json.dumps(rows, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def escape_formula(value: str) -> str:
    """Neutralise spreadsheet formulas (cells starting with = + - @) from user data."""
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def to_csv(records: pl.DataFrame) -> str:
    """CSV with every field, full precision; text cells are protected against formula injection."""
    frame = _text_times(records)
    frame = (
        frame.with_columns(
            pl.col(c).map_elements(escape_formula, return_dtype=pl.String)
            for c, t in frame.schema.items()
            if t == pl.String
        )
        if not frame.is_empty()
        else frame
    )
    return frame.write_csv()


def markdown_cell(text: str) -> str:
    """Text safe in a Markdown table cell: pipes and backslashes escaped, one line, and
    < > & as entities so that no renderer takes text from the data for HTML."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(
    records: pl.DataFrame,
    by: list[str],
    currency: str | None = None,
    notes: list[str] | None = None,
    title: str | None = None,
) -> str:
    """A Markdown table rounded for reading (status as text, not colour alone)."""
    header = ["Metric", "Period", *by, "Value", "n", "Status", "Target", "Gap", "Plan", "Trend"]
    lines = []
    if title:
        lines += [f"# {markdown_cell(title)}", ""]
    lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in records.iter_rows(named=True):
        unit = row["unit"] or ""
        cells = [
            row["metric"],
            row["period"] or "—",
            *[group_label(row[c]) for c in by],
            fmt_value(row["value"], unit, currency),
            str(row["n"]),
            f"{look(row['status']).icon} {row['status']}",
            fmt_level(row["target"], row["target_upper"], unit, currency),
            fmt_gap(row["gap_to_target"], unit, currency),
            row["plan_status"] or "—",
            row["trend"] or "—",
        ]
        lines.append("| " + " | ".join(markdown_cell(str(c)) for c in cells) + " |")
    for note in notes or []:
        lines += ["", f"> {markdown_cell(note)}"]
    return "\n".join(lines) + "\n"


# rows a Parquet row group holds: the writer keeps a whole group encoded in memory before it
# writes it (1 M calls' 153 K records in one group: 26 MiB more at the peak; in groups of
# this size: 14 MiB, written as fast)
ROW_GROUP_ROWS = 10_000


def write_parquet(records: pl.DataFrame | Stitched, target: Path) -> None:
    """Parquet with native types (timestamps keep their time zone); records still in the
    records cache's files are copied from there (`Stitched.write_parquet`)."""
    if isinstance(records, Stitched):
        records.write_parquet(target)
        return
    write_with(target, lambda tmp: records.write_parquet(tmp, row_group_size=ROW_GROUP_ROWS))


def write(text: str, target: Path) -> None:
    """Write a rendered text output atomically."""
    write_text(target, text)
