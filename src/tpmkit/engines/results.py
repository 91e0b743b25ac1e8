"""A query's result as a polars frame. On DuckDB, the SQL is run on the connection and the
Arrow result typed as Ibis types it, as `Table.to_polars` does — without importing the
module Ibis' DuckDB backend converts results with, which imports pandas (a quarter of a
second, for nothing tpmkit uses)."""

from __future__ import annotations

from typing import Any

import ibis.expr.types as ir
import polars as pl

__all__ = ["collect"]


def collect(expr: ir.Table) -> pl.DataFrame:
    """The rows of `expr`, typed as Ibis types its schema."""
    backend: Any = expr._find_backend()  # Ibis 12 (pinned by the extras)
    if backend.name != "duckdb":
        result: pl.DataFrame = expr.to_polars()
        return result
    from ibis.formats.polars import PolarsData
    from ibis.formats.pyarrow import PyArrowData

    backend._run_pre_execute_hooks(expr)  # in-memory tables registered, as Ibis does
    schema = expr.schema()
    arrow = backend.con.sql(backend.compile(expr)).to_arrow_table()
    frame = pl.from_arrow(PyArrowData.convert_table(arrow, schema))
    assert isinstance(frame, pl.DataFrame)  # a table, not a column
    typed: pl.DataFrame = PolarsData.convert_table(frame, schema)
    return typed
