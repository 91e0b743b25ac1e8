"""The backends' own SQL functions as Ibis functions (`Dialect` calls them): kept apart
so that the dialect can be named, and compiled SQL run, without importing Ibis."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import ibis


@ibis.udf.scalar.builtin(name="epoch_us")  # type: ignore[untyped-decorator]
def _duckdb_epoch_us(t: dt.datetime) -> int:  # type: ignore[empty-body]
    """DuckDB: microseconds since 1970 (UTC)."""


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _timezone(zone: str, t: dt.datetime) -> dt.datetime:  # type: ignore[empty-body]
    """DuckDB/PostgreSQL: the wall-clock time of an instant in `zone` (naive)."""


@ibis.udf.scalar.builtin(name="unix_micros")  # type: ignore[untyped-decorator]
def _spark_epoch_us(t: dt.datetime) -> int:  # type: ignore[empty-body]
    """Spark: microseconds since 1970 (UTC)."""


@ibis.udf.scalar.builtin(name="from_utc_timestamp")  # type: ignore[untyped-decorator]
def _spark_local(t: dt.datetime, zone: str) -> dt.datetime:  # type: ignore[empty-body]
    """Spark: the wall-clock time of an instant in `zone`."""


@ibis.udf.scalar.builtin(name="date_part")  # type: ignore[untyped-decorator]
def _date_part(part: str, t: dt.datetime) -> float:  # type: ignore[empty-body]
    """PostgreSQL: a field of a timestamp (`epoch`: seconds with microseconds)."""


@ibis.udf.scalar.builtin(name="float8")  # type: ignore[untyped-decorator]
def _float8(x: float) -> float:  # type: ignore[empty-body]
    """PostgreSQL: a number as double precision."""


@ibis.udf.scalar.builtin(name="to_utc_timestamp")  # type: ignore[untyped-decorator]
def _spark_instant(t: dt.datetime, zone: str) -> dt.datetime:  # type: ignore[empty-body]
    """Spark: the instant of a wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="timezone")  # type: ignore[untyped-decorator]
def _instant(zone: str, t: dt.datetime) -> dt.datetime:  # type: ignore[empty-body]
    """DuckDB/PostgreSQL: the instant of a naive wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="double")  # type: ignore[untyped-decorator]
def _double(x: float) -> float:  # type: ignore[empty-body]
    """Spark: a number as a double."""


@ibis.udf.scalar.builtin(name="unix_micros")  # type: ignore[untyped-decorator]
def _bigquery_epoch_us(t: dt.datetime) -> int:  # type: ignore[empty-body]
    """BigQuery: microseconds since 1970 (UTC)."""


@ibis.udf.scalar.builtin(name="datetime")  # type: ignore[untyped-decorator]
def _bigquery_local(t: dt.datetime, zone: str) -> dt.datetime:  # type: ignore[empty-body]
    """BigQuery: the wall-clock DATETIME of an instant in `zone`."""


@ibis.udf.scalar.builtin(name="convert_timezone")  # type: ignore[untyped-decorator]
def _snowflake_local(source: str, zone: str, t: dt.datetime) -> dt.datetime:  # type: ignore[empty-body]
    """Snowflake: the wall-clock time of an instant in `zone`."""


@ibis.udf.scalar.builtin(name="at_timezone")  # type: ignore[untyped-decorator]
def _trino_local(t: dt.datetime, zone: str) -> dt.datetime:  # type: ignore[empty-body]
    """Trino: the instant as a time stamp with `zone` (its wall-clock fields)."""


@ibis.udf.scalar.builtin(name="to_unixtime")  # type: ignore[untyped-decorator]
def _trino_epoch(t: dt.datetime) -> float:  # type: ignore[empty-body]
    """Trino: seconds since 1970 (with fractions)."""


@lru_cache(maxsize=16)
def _macro(name: str) -> Any:
    """A DuckDB macro of `tpmkit.zone_offsets` as an Ibis function of one instant."""

    @ibis.udf.scalar.builtin(name=name)  # type: ignore[untyped-decorator]
    def local(t: dt.datetime) -> dt.datetime:  # type: ignore[empty-body]
        """The wall-clock time of an instant in the macro's zone (naive)."""

    return local
