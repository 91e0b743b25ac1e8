"""In-memory frames (polars or pyarrow) read as a dataset's export."""

from __future__ import annotations

from typing import Any

import polars as pl

from tpmkit.data.sources import ROW, ScannedFile, prepare
from tpmkit.errors import DataError, Issue, first_line
from tpmkit.spec.models import Source

FORMAT = "frame"


def frame_label(dataset: str) -> str:
    """How messages name a frame given for `dataset` (as the Python caller wrote it)."""
    return f'data["{dataset}"]'


def as_lazy(frame: Any, dataset: str) -> pl.LazyFrame:
    """A polars DataFrame, LazyFrame or pyarrow Table as a LazyFrame. pyarrow is not a
    dependency: a Table is only recognised by its module and converted by polars."""
    if isinstance(frame, pl.LazyFrame):
        return frame
    if isinstance(frame, pl.DataFrame):
        return frame.lazy()
    if type(frame).__module__.split(".")[0] == "pyarrow" and type(frame).__name__ == "Table":
        converted = pl.from_arrow(frame)
        if isinstance(converted, pl.DataFrame):
            return converted.lazy()
    raise DataError(
        f"dataset `{dataset}`: {frame_label(dataset)} is not a data frame",
        [
            Issue(
                f"got {type(frame).__module__}.{type(frame).__name__}",
                file=frame_label(dataset),
                hint="give a polars DataFrame or LazyFrame, or a pyarrow Table",
            )
        ],
    )


def scan_frame(frame: Any, source: Source, dataset: str) -> ScannedFile:
    """An in-memory frame as a scanned export: its columns mapped and derived exactly as
    a file's; text columns are coerced like CSV text, typed ones like Parquet columns."""
    # a `table:` source's rows are read into a frame: messages name the table
    display = f"table `{source.table}`" if source.table else frame_label(dataset)
    given = as_lazy(frame, dataset)
    try:
        names = given.collect_schema().names()
    except (pl.exceptions.PolarsError, OSError) as exc:  # a LazyFrame over a lost file
        raise DataError(
            f"cannot read {display}",
            [Issue(first_line(exc), file=display)],
        ) from None
    if ROW in names:
        raise DataError(
            f"dataset `{dataset}`: {display} has a column named `{ROW}`",
            [Issue(f"column `{ROW}` is reserved", file=display, hint="rename it")],
        )
    given = given.with_row_index(ROW)
    mapped, canonical, derive = prepare(given, names, source, dataset, display)
    return ScannedFile(
        None,
        display,
        FORMAT,
        mapped,
        tuple(names),
        canonical,
        derive,
        source,
        given=given,
    )
