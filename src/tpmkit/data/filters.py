"""Rows and values of an export that are not data: null markers (`?`, `NO_SERVER`, `0`)
become empty, and rows the source's `keep_rows` condition rejects (a PHANTOM call, a caller
who hung up in the IVR) are not read. Both act on the export's own columns, as text, before
the mapping; row numbers stay those of the file."""

from __future__ import annotations

import polars as pl

from tpmkit.errors import DataError, DefinitionError, Issue
from tpmkit.spec import expressions
from tpmkit.spec.models import Source


def apply(
    frame: pl.LazyFrame, names: list[str], source: Source, dataset: str, display: str
) -> pl.LazyFrame:
    """The export with its null markers emptied and only the rows `keep_rows` keeps."""
    frame = _null_markers(frame, names, source, dataset, display)
    if source.keep_rows is None:
        return frame
    text = source.keep_rows
    try:
        condition = expressions.to_polars(text)
        used = expressions.parse(text).columns
    except expressions.ExpressionError as exc:
        raise DefinitionError(
            f"dataset `{dataset}`: cannot use `keep_rows`",
            [Issue(exc.message, hint="fix `keep_rows` in the project file")],
        ) from None
    check_columns(used, names, dataset, display, "keep_rows")
    return frame.filter(condition)


def _null_markers(
    frame: pl.LazyFrame, names: list[str], source: Source, dataset: str, display: str
) -> pl.LazyFrame:
    markers = source.null_values
    if not markers:
        return frame
    if isinstance(markers, list):
        per_column = {c: markers for c in names}
    else:
        check_columns(list(markers), names, dataset, display, "null_values")
        per_column = {c: values for c, values in markers.items() if values}
    schema = frame.collect_schema()
    return frame.with_columns(
        pl.when(pl.col(c).is_in(values)).then(None).otherwise(pl.col(c)).alias(c)
        for c, values in per_column.items()
        if schema[c] == pl.String  # a typed (Parquet) column holds no marker text
    )


def check_columns(
    used: list[str] | tuple[str, ...],
    names: list[str],
    dataset: str,
    display: str,
    key: str,
    what: str = "the export's own column names",
) -> None:
    """A DataError when `key` names columns the file does not have."""
    missing = [c for c in used if c not in names]
    if missing:
        raise DataError(
            f"dataset `{dataset}`: `{key}` names columns missing from {display}",
            [
                Issue(
                    f"no column `{c}`",
                    file=display,
                    hint=f"`{key}` uses {what}: " + ", ".join(f"`{n}`" for n in names),
                )
                for c in missing
            ],
        )
