"""Excel workbooks, read cell by cell into the text a CSV export of the same data holds.

tpmkit reads every export as text and checks each value itself (located messages, one set
of rules for CSV and Excel). Excel, however, stores dates, clock times and durations as
numbers whose display comes from the cell's number format; read as plain text, a time of
day arrives as `1899-12-31 09:12:58` and no mapping written for the CSV works. So each cell
is read with the type its format gives it (calamine, through fastexcel: the engine polars
itself uses for `read_excel`) and written as the CSV would write it:

| cell | text |
|---|---|
| date, or date and time at midnight | `2021-01-01` |
| date and time | `2021-01-01 09:12:58` (`.250` when it has milliseconds) |
| time of day (`h:mm:ss`: a date on Excel's day zero) | `9:12:58`, as Excel shows it |
| duration (`[h]:mm:ss`) | seconds: `8580` |
| whole number | `109` (not `109.0`) |
| true / false | `true` / `false` |

In a column whose cells have several types (a stray text among times), each cell keeps
the text fastexcel gives it, times of day and dates shortened the same way, so tpmkit's
own checks report the odd cell with its row; where durations are among them, the cells
with a time value are read as seconds.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from tpmkit.errors import DataError, Issue, first_line

TYPED = "__typed_"  # a column's cells as their type gives them, before the choice
# the dates a time-only cell carries: Excel's day zero (calamine gives 1899-12-31 for the
# 1900 system; 1899-12-30 is the serial-0 date other readers use) and the 1904 system's
DAY_ZERO = (dt.date(1899, 12, 30), dt.date(1899, 12, 31), dt.date(1904, 1, 1))

if TYPE_CHECKING:  # imported where a workbook is read: its library is 4 MiB in memory
    import fastexcel


def read_sheet(path: Path, name: str | None) -> pl.DataFrame:
    """The worksheet `name` (None: the first) as text, see the module docstring."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        sheet = _sheet(reader, name, path)
        _unique_header(reader, sheet, path)
        text = pl.DataFrame(reader.load_sheet(sheet, dtypes="string"))
        typed = _typed_columns(reader, sheet, text.columns)
    except fastexcel.FastExcelError as exc:
        raise DataError(
            f"cannot read the workbook {path.name}",
            [
                Issue(
                    first_line(exc),
                    file=str(path),
                    hint="is it an .xlsx/.xlsm/.xls workbook that opens in a spreadsheet?",
                )
            ],
        ) from None
    plain = text.select(_plain_text(c) for c in text.columns)
    cells = [as_text(s).rename(f"{TYPED}{c}") for c, s in typed.items() if s is not None]
    return plain.with_columns(cells).select(
        pl.coalesce(f"{TYPED}{c}", c).alias(c) if typed[c] is not None else pl.col(c)
        for c in text.columns
    )


def _unique_header(reader: fastexcel.ExcelReader, sheet: str | int, path: Path) -> None:
    """A header repeated in the first row is an error (fastexcel would rename the second
    `id` to `id_1`, and which one the mapping means is unknowable)."""
    first = pl.DataFrame(reader.load_sheet(sheet, header_row=None, n_rows=1, dtypes="string"))
    names = [v for v in first.row(0) if v is not None] if first.height else []
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise DataError(
            f"column `{repeated[0]}` appears twice in {path.name}",
            [
                Issue(
                    f"header `{n}` is repeated",
                    file=str(path),
                    line=1,
                    hint="remove or rename one of the columns",
                )
                for n in repeated
            ],
        )


def _typed_columns(
    reader: fastexcel.ExcelReader, sheet: str | int, names: list[str]
) -> dict[str, pl.Series | None]:
    """Each column with the type its cells have (None: text, or cells of several types).
    The sheet is read once; only when fastexcel cannot type some column (a duration among
    texts) is each column read on its own."""
    import fastexcel

    try:
        frame = pl.DataFrame(reader.load_sheet(sheet, schema_sample_rows=None))
        return {c: _unless_text(frame.get_column(c)) for c in names}
    except fastexcel.UnsupportedColumnTypeCombinationError:
        return {c: _typed(reader, sheet, c) for c in names}


def _typed(reader: fastexcel.ExcelReader, sheet: str | int, column: str) -> pl.Series | None:
    import fastexcel

    try:
        frame = pl.DataFrame(
            reader.load_sheet(sheet, use_columns=[column], schema_sample_rows=None)
        )
    except fastexcel.UnsupportedColumnTypeCombinationError:
        # only duration cells mix with nothing else: read the cells that have a time
        # value as durations (seconds; a time of day too), the others keep their text
        frame = pl.DataFrame(
            reader.load_sheet(sheet, use_columns=[column], dtypes={column: "duration"})
        )
    return _unless_text(frame.get_column(column))


def _unless_text(series: pl.Series) -> pl.Series | None:
    return None if series.dtype == pl.String else series


def _plain_text(column: str) -> pl.Expr:
    """fastexcel's text of a cell in a column of several types: a time of day and a date at
    midnight are shortened as in a typed column."""
    value = pl.col(column)
    return (
        value.str.replace(r"^(?:1899-12-3[01]|1904-01-01) 0?(\d{1,2}:\d\d:\d\d(?:\.\d+)?)$", "$1")
        .str.replace(r"^(\d{4}-\d\d-\d\d) 00:00:00$", "$1")
        .alias(column)
    )


def _sheet(reader: fastexcel.ExcelReader, name: str | None, path: Path) -> str | int:
    """The worksheet named (None: the first); an unknown name is an error listing the
    sheets the workbook has."""
    if name is None:
        return 0
    if name not in reader.sheet_names:
        raise DataError(
            f"the workbook {path.name} has no sheet `{name}`",
            [
                Issue(
                    f"no sheet `{name}`",
                    file=str(path),
                    hint="its sheets are: " + ", ".join(f"`{s}`" for s in reader.sheet_names),
                )
            ],
        )
    return name


def as_text(column: pl.Series) -> pl.Series:
    """One typed column as the text a CSV export writes (null where the cell is empty or
    its type is not the column's)."""
    values = pl.col(column.name)
    dtype = column.dtype
    if isinstance(dtype, pl.Datetime):
        milliseconds = values.dt.millisecond() != 0
        fraction = pl.when(milliseconds).then(values.dt.strftime("%.3f")).otherwise(pl.lit(""))
        expr = (
            # a time of day as Excel's `h:mm:ss` shows it (and a CSV export holds it)
            pl.when(values.dt.date().is_in(DAY_ZERO))
            .then(values.dt.strftime("%-H:%M:%S") + fraction)
            .when(values.dt.time() == dt.time(0))
            .then(values.dt.strftime("%Y-%m-%d"))
            .otherwise(values.dt.strftime("%Y-%m-%d %H:%M:%S") + fraction)
        )
    elif isinstance(dtype, pl.Date):
        expr = values.dt.strftime("%Y-%m-%d")
    elif isinstance(dtype, pl.Duration):
        expr = _number(values.dt.total_milliseconds() / 1000)
    elif dtype.is_float():
        expr = _number(values)
    elif isinstance(dtype, pl.Boolean):
        expr = pl.when(values).then(pl.lit("true")).otherwise(pl.lit("false"))
    else:
        expr = values.cast(pl.String)
    return column.to_frame().select(expr.alias(column.name)).to_series()


def _number(values: pl.Expr) -> pl.Expr:
    """A number as text, whole numbers without `.0` (Excel stores every number as a float)."""
    whole = values.is_finite() & (values == values.round()) & (values.abs() < 2**53)
    return (
        pl.when(whole)
        .then(values.cast(pl.Int64, strict=False).cast(pl.String))
        .otherwise(values.cast(pl.String))
    )
