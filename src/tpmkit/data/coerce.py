"""Type coercion per the data contract: each parser returns the value and an error rule.

Every coercion is a polars expression pair `(value, problem)`: `problem` is null for a
good cell and names the broken rule otherwise, so a single lazy pass both converts the
data and finds every bad cell with its location.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

TRUE_WORDS = ("true", "1", "y", "yes")
FALSE_WORDS = ("false", "0", "n", "no")

# No real count, duration or amount comes near this; a sum or a square of values beyond it
# could overflow to infinity, so a larger value is a data error, not a number to add up.
LARGEST = 1e15
TOO_LARGE = "implausibly large (more than 1e15 in magnitude)"


@dataclass(frozen=True)
class Words:
    """A source's extra boolean words (lowercase), on top of the standard ones; a word
    the source lists wins over the standard meaning (e.g. `n` for nein = false)."""

    true: tuple[str, ...] = ()
    false: tuple[str, ...] = ()

    def meaning(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The true and the false words in force."""
        true = (*self.true, *(w for w in TRUE_WORDS if w not in self.false))
        false = (*self.false, *(w for w in FALSE_WORDS if w not in self.true))
        return true, false


STANDARD = Words()

# Naive timestamps are wall-clock time in the project time zone; these are tried in order.
_NAIVE_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M", "%Y-%m-%d")
_OFFSET_FORMATS = ("%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%d %H:%M%:z", "%Y-%m-%d %H:%M:%S%.f%z")


TEMPORARY = "__tmp_"  # columns that live only while a dataset is coerced
TEXT = f"{TEMPORARY}text_"  # a column's cleaned text, computed once and parsed from
NAIVE = f"{TEMPORARY}naive_"  # a timestamp column parsed as wall-clock time
VALUE = f"{TEMPORARY}value_"  # a column's coerced value, before it replaces the column
# the original text of cells a fast coercion did not convert; they are coerced again with
# the full rules once the data is read (see `fast`)
RETRY = "__retry__"
# a column's problem (the rule a cell breaks, or null) lives in `PROBLEM + column` while a
# dataset is checked; cross-column rules add `PROBLEM + kind_ + column` (see `rules`)
PROBLEM = "__problem__"


def text_col(col: str) -> pl.Expr:
    return pl.col(f"{TEXT}{col}")


def value_col(col: str) -> pl.Expr:
    return pl.col(f"{VALUE}{col}")


@dataclass(frozen=True)
class Coerced:
    """How to coerce one column, in stages so that no costly step runs twice.

    `prep` columns are computed first, in order (each may use the ones before); `value`
    may use them; `problem` may use them and the value itself as `value_col(col)`."""

    value: pl.Expr
    problem: pl.Expr  # String: the rule that failed, or null
    prep: tuple[tuple[str, pl.Expr], ...] = ()
    retry: bool = False  # a fast coercion: cells it leaves null are done again in full


def problem(condition: pl.Expr, message: str) -> pl.Expr:
    return pl.when(condition).then(pl.lit(message)).otherwise(pl.lit(None, dtype=pl.String))


def _first_problem(*problems: pl.Expr) -> pl.Expr:
    return pl.coalesce(*problems) if len(problems) > 1 else problems[0]


def _clean(col: str) -> tuple[str, pl.Expr]:
    return f"{TEXT}{col}", pl.col(col).cast(pl.String).str.strip_chars()


def _present(col: str) -> pl.Expr:
    return text_col(col).is_not_null() & (text_col(col) != "")


def number(col: str, dtype: pl.DataType, *, whole: bool = False) -> Coerced:
    """Float (or whole number) from text or a numeric column."""
    value = value_col(col)
    prep: tuple[tuple[str, pl.Expr], ...] = ()
    if dtype.is_numeric():
        raw = pl.col(col).cast(pl.Float64)
        raw_present = pl.col(col).is_not_null()
    else:
        raw = text_col(col).cast(pl.Float64, strict=False)
        raw_present, prep = _present(col), (_clean(col),)
    problems = [
        problem(raw_present & value.is_null(), "not a number"),
        problem(value.abs() > LARGEST, TOO_LARGE),
    ]
    if whole:
        problems.append(
            problem(value.is_not_null() & (value != value.round(0)), "not a whole number")
        )
    finite = pl.when(raw.is_finite()).then(raw).otherwise(None)  # no NaN or infinity
    return Coerced(finite, _first_problem(*problems), prep)


_CLOCK = r"^-?(\d+:)?[0-5]?\d:[0-5]?\d(\.\d+)?$"


def duration(col: str, dtype: pl.DataType) -> Coerced:
    """Seconds from a number, a polars duration or `[H:]MM:SS` text; negative durations
    are errors."""
    prep: tuple[tuple[str, pl.Expr], ...] = ()
    if isinstance(dtype, pl.Duration):  # a typed frame (or Parquet) may hold timedeltas
        value = pl.col(col).dt.total_microseconds() / 1e6
        raw_present = pl.col(col).is_not_null()
    elif dtype.is_numeric():
        raw = pl.col(col).cast(pl.Float64)
        value = pl.when(raw.is_finite()).then(raw).otherwise(None)
        raw_present = pl.col(col).is_not_null()
    else:
        prep = (_clean(col),)
        text = text_col(col)
        plain = text.cast(pl.Float64, strict=False)  # most exports: seconds as a number
        parts = text.str.strip_prefix("-").str.split(":")
        count = parts.list.len()

        def part(index: int) -> pl.Expr:
            return parts.list.get(index, null_on_oob=True).cast(pl.Float64, strict=False)

        clock = (
            pl.when(count == 2)
            .then(part(0) * 60 + part(1))
            .otherwise(part(0) * 3600 + part(1) * 60 + part(2))
        )
        clock = pl.when(text.str.starts_with("-")).then(-clock).otherwise(clock)
        value = (
            pl.when(text.str.contains(":"))
            .then(pl.when(text.str.contains(_CLOCK)).then(clock).otherwise(None))
            .otherwise(pl.when(plain.is_finite()).then(plain).otherwise(None))
        )
        raw_present = _present(col)
    problems = (
        problem(raw_present & value_col(col).is_null(), "not a duration (seconds or [H:]MM:SS)"),
        problem(value_col(col) < 0, "negative duration"),
        problem(value_col(col) > LARGEST, TOO_LARGE),
    )
    return Coerced(value, _first_problem(*problems), prep)


def boolean(col: str, dtype: pl.DataType, words: Words = STANDARD) -> Coerced:
    """true/false, 1/0, Y/N, yes/no in any case, and the source's own `words`."""
    if dtype == pl.Boolean:
        return Coerced(pl.col(col), pl.lit(None, dtype=pl.String))
    name, text = _clean(col)
    word = text_col(col)
    true, false = words.meaning()
    value = pl.when(word.is_in(true)).then(True).when(word.is_in(false)).then(False).otherwise(None)
    own = ", ".join(f"{t}/{f}" for t, f in zip(words.true, words.false, strict=False))
    accepted = "true/false, 1/0, Y/N, yes/no" + (f", {own}" if own else "")
    return Coerced(
        value,
        problem(_present(col) & value_col(col).is_null(), f"not a boolean ({accepted})"),
        ((name, text.str.to_lowercase()),),
    )


def timestamp(col: str, dtype: pl.DataType, timezone: str, fmt: str | None = None) -> Coerced:
    """An instant in the project time zone from ISO 8601 text (or the source's `fmt`
    first) or a Parquet temporal type."""
    if isinstance(dtype, pl.Datetime):
        if dtype.time_zone is None:
            value = (
                pl.col(col)
                .cast(pl.Datetime("us"))
                .dt.replace_time_zone(timezone, ambiguous="earliest", non_existent="null")
            )
            issue = problem(
                pl.col(col).is_not_null() & value_col(col).is_null(),
                f"local time does not exist in {timezone} (DST gap)",
            )
            return Coerced(value, issue)
        value = pl.col(col).cast(pl.Datetime("us", dtype.time_zone)).dt.convert_time_zone(timezone)
        return Coerced(value, pl.lit(None, dtype=pl.String))
    if dtype == pl.Date:
        value = pl.col(col).cast(pl.Datetime("us")).dt.replace_time_zone(timezone)
        return Coerced(value, pl.lit(None, dtype=pl.String))
    name, text = _clean(col)
    text = (
        text.str.replace(r"^(\d{4}-\d{2}-\d{2})[Tt]", "$1 ")
        .str.replace(r"[Zz]$", "+00:00")
        .str.replace(r" ([+-]\d{2}(:?\d{2})?)$", "$1")  # "10:00 +02:00"
        # an hour-only offset after a time ("…:00+02", as PostgreSQL writes it)
        .str.replace(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)([+-]\d{2})$", "${1}${2}:00")
    )
    cleaned = text_col(col)
    zoned = fmt is not None and ("%z" in fmt or "%:z" in fmt)
    naive_formats = (fmt, *_NAIVE_FORMATS) if fmt and not zoned else _NAIVE_FORMATS
    offset_formats = (fmt, *_OFFSET_FORMATS) if fmt and zoned else _OFFSET_FORMATS
    naive = pl.coalesce(
        *(cleaned.str.to_datetime(f, strict=False, time_unit="us") for f in naive_formats)
    )
    with_offset = pl.coalesce(
        *(
            cleaned.str.to_datetime(f, strict=False, time_unit="us", time_zone="UTC")
            for f in offset_formats
        )
    ).dt.convert_time_zone(timezone)
    local = pl.col(f"{NAIVE}{col}").dt.replace_time_zone(
        timezone, ambiguous="earliest", non_existent="null"
    )
    bad = _present(col) & value_col(col).is_null()
    problems = (
        problem(
            bad & pl.col(f"{NAIVE}{col}").is_not_null(),
            f"local time does not exist in {timezone} (DST gap)",
        ),
        problem(bad, "not a timestamp (ISO 8601, e.g. 2026-01-05 14:30:00 or with +01:00)"),
    )
    return Coerced(
        pl.coalesce(with_offset, local),
        _first_problem(*problems),
        ((name, text), (f"{NAIVE}{col}", naive)),
    )


# Exact formats tried on a sample of a text column, with whether the text states its
# zone (an offset or Z) or is wall-clock time in the project zone.
_FAST_TIMESTAMPS = (
    ("%Y-%m-%dT%H:%M:%SZ", True),
    ("%Y-%m-%dT%H:%M:%S%.fZ", True),
    ("%Y-%m-%dT%H:%M:%S%:z", True),
    ("%Y-%m-%d %H:%M:%S%:z", True),
    ("%Y-%m-%dT%H:%M:%S%.f%:z", True),
    ("%Y-%m-%d %H:%M:%S", False),
    ("%Y-%m-%dT%H:%M:%S", False),
    ("%Y-%m-%d %H:%M:%S%.f", False),
    ("%Y-%m-%d %H:%M", False),
)


def fast(
    col: str,
    type_: str,
    timezone: str,
    sample: pl.Series,
    timestamp_format: str | None = None,
) -> Coerced | None:
    """A cheap coercion for a text column whose `sample` (its first values) all have one
    shape: timestamps in one exact format, durations as plain numbers. It converts exactly
    what the full rules would; a cell it cannot convert is left null and kept as text in
    `RETRY + col`, and the caller coerces those cells again with the full rules (so mixed
    formats and every error are handled as before, only not at full-column cost)."""
    values = sample.cast(pl.String).drop_nulls()
    values = values.filter(values.str.strip_chars() != "")
    if values.is_empty():
        return None
    raw = pl.col(col)
    if type_ == "timestamp":
        candidates: tuple[tuple[str, bool], ...] = _FAST_TIMESTAMPS
        if timestamp_format:  # declared on the source: the only fast format
            zoned = "%z" in timestamp_format or "%:z" in timestamp_format
            candidates = ((timestamp_format, zoned),)
        for fmt, zoned in candidates:
            zone = "UTC" if zoned else None
            parsed_sample = values.str.to_datetime(fmt, strict=False, time_zone=zone)
            if parsed_sample.null_count() and not timestamp_format:
                continue
            parsed = raw.str.to_datetime(fmt, strict=False, time_unit="us", time_zone=zone)
            value = (
                parsed.dt.convert_time_zone(timezone)
                if zoned
                else parsed.dt.replace_time_zone(
                    timezone, ambiguous="earliest", non_existent="null"
                )
            )
            return Coerced(value, pl.lit(None, dtype=pl.String), retry=True)
        return None
    if type_ == "duration":
        if values.cast(pl.Float64, strict=False).null_count():
            return None  # [H:]MM:SS text: the full rules
        number = raw.cast(pl.Float64, strict=False)
        value = pl.when(number.is_finite()).then(number).otherwise(None)
        issue = _first_problem(
            problem(value_col(col) < 0, "negative duration"),
            problem(value_col(col) > LARGEST, TOO_LARGE),
        )
        return Coerced(value, issue, retry=True)
    return None


def date(col: str, dtype: pl.DataType) -> Coerced:
    """A calendar date from `YYYY-MM-DD` text or a Parquet date/datetime."""
    if dtype == pl.Date:
        return Coerced(pl.col(col), pl.lit(None, dtype=pl.String))
    if isinstance(dtype, pl.Datetime):
        return Coerced(pl.col(col).dt.date(), pl.lit(None, dtype=pl.String))
    value = text_col(col).str.to_date("%Y-%m-%d", strict=False)
    return Coerced(
        value,
        problem(_present(col) & value_col(col).is_null(), "not a date (YYYY-MM-DD)"),
        (_clean(col),),
    )


def text_value(col: str, dtype: pl.DataType) -> Coerced:
    """Text as is (empty text is null)."""
    value = pl.col(col).cast(pl.String)
    value = pl.when(value == "").then(None).otherwise(value)
    return Coerced(value, pl.lit(None, dtype=pl.String))


def coerce(
    col: str,
    type_: str,
    dtype: pl.DataType,
    timezone: str,
    words: Words = STANDARD,
    timestamp_format: str | None = None,
) -> Coerced:
    """The coercion for a column of the given contract type (`words`: the source's own
    boolean words; `timestamp_format`: the source's timestamp format)."""
    if type_ == "timestamp":
        return timestamp(col, dtype, timezone, timestamp_format)
    if type_ == "date":
        return date(col, dtype)
    if type_ == "duration":
        return duration(col, dtype)
    if type_ == "bool":
        return boolean(col, dtype, words)
    if type_ in ("int", "float"):
        return number(col, dtype, whole=type_ == "int")
    return text_value(col, dtype)


def in_range(value: pl.Expr, minimum: float | None, maximum: float | None) -> pl.Expr:
    """The problem expression for a value outside [minimum, maximum]."""
    checks = []
    if minimum is not None:
        checks.append(value < minimum)
    if maximum is not None:
        checks.append(value > maximum)
    if not checks:
        return pl.lit(None, dtype=pl.String)
    lo = "-inf" if minimum is None else f"{minimum:g}"
    hi = "inf" if maximum is None else f"{maximum:g}"
    return problem(pl.any_horizontal(*checks), f"out of range {lo}..{hi}")


def polars_type(type_: str, timezone: str) -> pl.DataType:
    """The polars type a contract type is coerced to."""
    if type_ == "timestamp":
        return pl.Datetime("us", timezone)
    if type_ == "date":
        return pl.Date()
    if type_ == "bool":
        return pl.Boolean()
    if type_ in ("int", "float", "duration"):
        return pl.Float64()
    return pl.String()
