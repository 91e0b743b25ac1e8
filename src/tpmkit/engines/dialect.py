"""What differs between backends in the few places Ibis' portable operations are wrong
for tpmkit: an instant as epoch microseconds, and an instant's wall-clock time in the
project time zone.

Ibis compiles a time-zone cast to a bare `CAST(… AS TIMESTAMPTZ)` and truncates in the
session zone, so each backend's own local-time function is called instead (DuckDB and
PostgreSQL `timezone(zone, t)`, Spark `from_utc_timestamp(t, zone)`), always on a session
pinned to UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tpmkit.zone_offsets import local_macro_name

if TYPE_CHECKING:
    import ibis.expr.types as ir


# backends whose SQL tpmkit compiles and checks but does not run in its tests
COMPILE_ONLY = ("bigquery", "snowflake", "trino")


@dataclass(frozen=True)
class Dialect:
    """The backend-specific pieces, chosen by the backend's name; `zones`: the zones whose
    local-time macro the DuckDB connection holds (`tpmkit.zone_offsets`)."""

    name: str
    zones: tuple[str, ...] = ()

    def epoch_us(self, t: ir.TimestampValue) -> ir.IntegerValue:
        """An instant as microseconds since 1970-01-01 UTC."""
        from tpmkit.engines import functions as f

        if self.name == "pyspark":
            return f._spark_epoch_us(t)
        if self.name in ("postgres", "snowflake"):
            seconds = f._date_part("epoch", t)
            return (seconds * 1_000_000).round().cast("int64")
        if self.name == "bigquery":
            return f._bigquery_epoch_us(t)
        if self.name == "trino":
            return (f._trino_epoch(t) * 1_000_000).round().cast("int64")
        return f._duckdb_epoch_us(t)

    def local(self, t: ir.TimestampValue, zone: str) -> ir.TimestampValue:
        """The wall-clock time of an instant in `zone`, as a naive timestamp."""
        from tpmkit.engines import functions as f

        if self.name == "pyspark":
            return f._spark_local(t, zone)
        if self.name == "bigquery":
            return f._bigquery_local(t, zone)
        if self.name == "snowflake":
            return f._snowflake_local("UTC", zone, t)
        if self.name == "trino":
            return f._trino_local(t, zone)
        if zone in self.zones:  # offsets by arithmetic: ICU's timezone() is slow per row
            return f._macro(local_macro_name(zone))(t)
        return f._timezone(zone, t)

    def midnight(self, day: ir.DateValue, zone: str) -> ir.TimestampValue:
        """A date as the instant its day starts in `zone` (as the polars engine reads a
        date time column: local midnight)."""
        from tpmkit.engines import functions as f

        naive = day.cast("timestamp")
        if self.name == "pyspark":
            return f._spark_instant(naive, zone)
        return f._instant(zone, naive)

    def scalar(self, table: ir.Table, value: ir.Scalar) -> Any:
        """A scalar of the whole table (a data horizon), queried before the pass; a
        placeholder 0 where the SQL is only compiled."""
        if self.name in COMPILE_ONLY:
            return 0
        from tpmkit.engines.results import collect

        return collect(table.aggregate(v=value)).item()

    @property
    def in_query(self) -> bool:
        """True where a data horizon is a scalar subquery of the query that uses it
        (DuckDB): the SQL then depends on the definitions alone and is compiled once
        (`tpmkit.engines.compiled`). Elsewhere it is queried first (on Spark a subquery
        would be one more job, no saving)."""
        return self.name == "duckdb"

    def horizon(self, table: ir.Table, maxima: list[ir.Scalar]) -> Any:
        """The latest of `maxima` (epoch µs over the whole `table`): an Ibis scalar
        subquery where `in_query`, else the number queried now (None: no value)."""
        if not maxima:
            return None
        if self.in_query:
            import ibis

            latest = maxima[0] if len(maxima) == 1 else ibis.greatest(*maxima)
            return table.aggregate(v=latest).as_scalar()
        known = [v for v in (self.scalar(table, m) for m in maxima) if v is not None]
        return max(known) if known else None

    def number(self, value: float) -> ir.Value:
        """A literal with a fraction (`100.0`) as a double: PostgreSQL and Spark read it as a
        decimal, and a mean of decimals keeps a few digits (Spark: 5) where polars has 16."""
        import ibis

        from tpmkit.engines import functions as f

        literal = ibis.literal(value, type="float64")
        if self.name == "postgres":
            return f._float8(literal)
        if self.name == "pyspark":
            return f._double(literal)
        return literal

    def real(self, value: ir.Value) -> ir.Value:
        """A float aggregate sent back as a float: PostgreSQL computes `100.0 * x` in
        `numeric` (a decimal) where Ibis expects a double, and Ibis leaves out a cast to
        the type it already believes the value has."""
        from tpmkit.engines import functions as f

        kind = value.type()
        if self.name == "postgres" and (kind.is_floating() or kind.is_decimal()):
            return f._float8(value)
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
