"""What differs between backends in the few places Ibis' portable operations are wrong
for tpmkit: an instant as epoch microseconds, and an instant's wall-clock time in the
project time zone.

Ibis compiles a time-zone cast to a bare `CAST(… AS TIMESTAMPTZ)` and truncates in the
session zone, so each backend's own local-time function is called instead (DuckDB and
PostgreSQL `timezone(zone, t)`, Spark `from_utc_timestamp(t, zone)`), always on a session
pinned to UTC.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import ibis
import ibis.expr.types as ir

from tpmkit.engines.results import collect
from tpmkit.zone_offsets import local_macro_name


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


# backends whose SQL tpmkit compiles and checks but does not run in its tests
COMPILE_ONLY = ("bigquery", "snowflake", "trino")


@lru_cache(maxsize=16)
def _macro(name: str) -> Any:
    """A DuckDB macro of `tpmkit.zone_offsets` as an Ibis function of one instant."""

    @ibis.udf.scalar.builtin(name=name)  # type: ignore[untyped-decorator]
    def local(t: dt.datetime) -> dt.datetime:  # type: ignore[empty-body]
        """The wall-clock time of an instant in the macro's zone (naive)."""

    return local


@dataclass(frozen=True)
class Dialect:
    """The backend-specific pieces, chosen by the backend's name; `zones`: the zones whose
    local-time macro the DuckDB connection holds (`tpmkit.zone_offsets`)."""

    name: str
    zones: tuple[str, ...] = ()

    def epoch_us(self, t: ir.TimestampValue) -> ir.IntegerValue:
        """An instant as microseconds since 1970-01-01 UTC."""
        if self.name == "pyspark":
            return _spark_epoch_us(t)
        if self.name in ("postgres", "snowflake"):
            seconds = _date_part("epoch", t)
            return (seconds * 1_000_000).round().cast("int64")
        if self.name == "bigquery":
            return _bigquery_epoch_us(t)
        if self.name == "trino":
            return (_trino_epoch(t) * 1_000_000).round().cast("int64")
        return _duckdb_epoch_us(t)

    def local(self, t: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        """The wall-clock time of an instant in `zone`, as a naive timestamp."""
        if self.name == "pyspark":
            return _spark_local(t, zone)
        if self.name == "bigquery":
            return _bigquery_local(t, zone)
        if self.name == "snowflake":
            return _snowflake_local("UTC", zone, t)
        if self.name == "trino":
            return _trino_local(t, zone)
        if zone in self.zones:  # offsets by arithmetic: ICU's timezone() is slow per row
            return _macro(local_macro_name(zone))(t)
        return _timezone(zone, t)

    def midnight(self, day: ir.DateValue, zone: str) -> ir.TimestampValue:
        """A date as the instant its day starts in `zone` (as the polars engine reads a
        date time column: local midnight)."""
        naive = day.cast("timestamp")
        if self.name == "pyspark":
            return _spark_instant(naive, zone)
        return _instant(zone, naive)

    def scalar(self, table: ir.Table, value: ir.Scalar) -> Any:
        """A scalar of the whole table (a data horizon), queried before the pass; a
        placeholder 0 where the SQL is only compiled."""
        if self.name in COMPILE_ONLY:
            return 0
        return collect(table.aggregate(v=value)).item()

    def number(self, value: float) -> ir.Value:
        """A literal with a fraction (`100.0`) as a double: PostgreSQL and Spark read it as a
        decimal, and a mean of decimals keeps a few digits (Spark: 5) where polars has 16."""
        literal = ibis.literal(value, type="float64")
        if self.name == "postgres":
            return _float8(literal)
        if self.name == "pyspark":
            return _double(literal)
        return literal

    def real(self, value: ir.Value) -> ir.Value:
        """A float aggregate sent back as a float: PostgreSQL computes `100.0 * x` in
        `numeric` (a decimal) where Ibis expects a double, and Ibis leaves out a cast to
        the type it already believes the value has."""
        kind = value.type()
        if self.name == "postgres" and (kind.is_floating() or kind.is_decimal()):
            return _float8(value)
        return value.cast("float64") if kind.is_decimal() else value

    def quantile(self, values: ir.Value, q: float) -> ir.Value:
        """The exact quantile with linear interpolation (see `quantile`)."""
        return quantile(self, values, q)


# backends Ibis cannot compile an exact quantile for (no `median`/`quantile` rule)
NO_EXACT_QUANTILE = ("bigquery", "trino")


def quantile(dialect: Dialect, values: ir.NumericColumn, q: float) -> ir.NumericScalar:
    """The exact quantile with linear interpolation (as polars' `quantile(q, "linear")`);
    a backend without one is refused by name, never approximated silently."""
    if dialect.name in NO_EXACT_QUANTILE:
        raise NotImplementedError(
            f"the {dialect.name} backend has no exact percentile; "
            "use engine: polars or duckdb for medians and percentiles"
        )
    return values.quantile(q)
