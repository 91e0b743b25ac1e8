"""Typed conversion of a file's columns: a fast path chosen from a sample, the full rules
for the cells it leaves, and numbers for columns no type is declared for."""

from __future__ import annotations

import polars as pl

from tpmkit.contract import DatasetContract
from tpmkit.data import coerce
from tpmkit.data.coerce import PROBLEM
from tpmkit.data.frames import FORMAT as FRAME
from tpmkit.data.sources import FILE, ROW, TEXT_FORMATS, ScannedFile
from tpmkit.spec.models import Source

SAMPLE = 500  # first values of a text column that choose its fast coercion
# a number with thousands separators as a decimal-comma export writes it: 1.234.567,5
THOUSANDS = r"^\s*[+-]?\d{1,3}([.\s\u00a0]\d{3})+(,\d*)?\s*$"


def words(source: Source) -> coerce.Words:
    """The source's own boolean words, lowercase (matching ignores case)."""
    if source.booleans is None:
        return coerce.STANDARD
    return coerce.Words(
        tuple(w.strip().lower() for w in source.booleans.true),
        tuple(w.strip().lower() for w in source.booleans.false),
    )


def decimal_comma(text: pl.Expr) -> pl.Expr:
    """European number text as the parser reads it: `3,5` → `3.5`, `1.234,5` → `1234.5`
    (dots or spaces are thousands separators only in groups of three after the first
    digits, so `1.5` stays 1.5 rather than becoming 15)."""
    grouped = text.str.contains(THOUSANDS)
    plain = pl.when(grouped).then(text.str.replace_all(r"[.\s\u00a0]", "")).otherwise(text)
    return plain.str.replace(",", ".", literal=True)


def typed(
    item: ScannedFile,
    columns: list[str],
    types: dict[str, str],
    contract: DatasetContract | None,
    timezone: str,
) -> pl.LazyFrame:
    """One file's `columns`, coerced, with a problem column per coerced column."""
    schema = item.frame.collect_schema()
    csv = item.format in TEXT_FORMATS
    present = set(schema.names())
    comma = item.source.decimal_comma

    def raw_column(c: str) -> pl.Expr:
        if c not in present:  # `union: by_name`: a column this file lacks is empty
            return pl.lit(None, dtype=pl.String).alias(c)
        numeric = types.get(c) in ("int", "float", "duration")
        if not csv:
            # a frame's text columns are the export's text: decimal commas are read as in CSV
            if comma and numeric and item.format == FRAME and schema[c] == pl.String:
                return decimal_comma(pl.col(c))
            return pl.col(c)
        text = pl.col(c).cast(pl.String)
        if comma and numeric:
            text = decimal_comma(text)
        return text

    raw = item.frame.select(
        pl.col(FILE),
        pl.col(ROW).cast(pl.Int64),
        *(raw_column(c) for c in columns),
    ).with_columns(
        pl.col(c).cast(pl.String)
        for c in columns
        if c not in types and not csv and c in present and schema[c] == pl.Categorical
    )
    raw_schema = raw.collect_schema()
    costly = [
        c
        for c in columns
        if types.get(c) in ("timestamp", "duration") and raw_schema[c] == pl.String
    ]
    try:
        sample = raw.select(costly).head(SAMPLE).collect() if costly else pl.DataFrame()
    except (pl.exceptions.PolarsError, OSError):  # unreadable: reported when the data is read
        costly, sample = [], pl.DataFrame()
    coerced = {
        c: (
            c in costly
            and coerce.fast(
                c, types[c], timezone, sample.get_column(c), item.source.timestamp_format
            )
        )
        or coerce.coerce(
            c, types[c], raw_schema[c], timezone, words(item.source), item.source.timestamp_format
        )
        for c in columns
        if c in types
    }
    return staged(raw, coerced, contract)


def retry(
    df: pl.DataFrame,
    types: dict[str, str],
    contract: DatasetContract | None,
    timezone: str,
    source: Source | None = None,
) -> tuple[pl.DataFrame, bool]:
    """Coerce the cells a fast coercion left (see `coerce.fast`) with the full rules, and
    put their values (and problems, when `df` has problem columns) in place; also tell
    whether any of those cells breaks a rule."""
    broken = False
    for column in [c for c in df.columns if c.startswith(coerce.RETRY)]:
        name = column[len(coerce.RETRY) :]
        where = df.get_column(column).is_not_null()
        if where.any():
            rows = where.arg_true()
            text = df.select(pl.col(column).alias(name)).filter(where)
            own = words(source) if source else coerce.STANDARD
            fmt = source.timestamp_format if source else None
            full = {name: coerce.coerce(name, types[name], pl.String(), timezone, own, fmt)}
            fixed = staged(text.lazy(), full, contract).collect()
            problem = f"{PROBLEM}{name}"
            broken = broken or fixed.get_column(problem).is_not_null().any()
            patched = [df.get_column(name).clone().scatter(rows, fixed.get_column(name))]
            if problem in df.columns:
                patched.append(
                    df.get_column(problem).clone().scatter(rows, fixed.get_column(problem))
                )
            df = df.with_columns(patched)
        df = df.drop(column)
    return df, broken


def staged(
    raw: pl.LazyFrame, coerced: dict[str, coerce.Coerced], contract: DatasetContract | None
) -> pl.LazyFrame:
    """Coerce every column in stages (cleaned text, parsed values, problems), so each
    costly step runs once per cell; then the values replace the raw text."""
    typed = raw
    for stage in range(max((len(k.prep) for k in coerced.values()), default=0)):
        typed = typed.with_columns(
            expr.alias(name)
            for k in coerced.values()
            if stage < len(k.prep)
            for name, expr in [k.prep[stage]]
        )
    typed = typed.with_columns(k.value.alias(f"{coerce.VALUE}{c}") for c, k in coerced.items())
    problems = {c: k.problem for c, k in coerced.items()}
    for column in coerced:
        spec = contract.column(column) if contract else None
        if spec and (spec.minimum is not None or spec.maximum is not None):
            problems[column] = pl.coalesce(
                problems[column],
                coerce.in_range(coerce.value_col(column), spec.minimum, spec.maximum),
            )
    typed = typed.with_columns(p.alias(f"{PROBLEM}{c}") for c, p in problems.items())
    typed = typed.with_columns(
        pl.when(coerce.value_col(c).is_null() & (pl.col(c) != ""))
        .then(pl.col(c))
        .alias(f"{coerce.RETRY}{c}")
        for c, k in coerced.items()
        if k.retry
    )
    temporary = [n for n in typed.collect_schema().names() if n.startswith(coerce.TEMPORARY)]
    return typed.with_columns(coerce.value_col(c).alias(c) for c in coerced).drop(temporary)


def untyped(schema: pl.Schema, types: dict[str, str]) -> list[str]:
    """The text columns no type is declared for: numbers when every value is one."""
    return [c for c, dtype in schema.items() if c not in types and dtype == pl.String]


def as_number(column: str) -> pl.Expr:
    """An untyped text column's values as numbers (null where a value is none)."""
    numbers = pl.col(column).str.strip_chars().cast(pl.Float64, strict=False)
    # "inf", "nan" or 1e308 are no numbers to add up (a sum could overflow): text
    sane = numbers.is_finite() & (numbers.abs() <= coerce.LARGEST)
    return pl.when(sane).then(numbers).alias(column)


def number_evidence(column: str) -> list[pl.Expr]:
    """Whether an untyped text column has some value, a value that is no number, and a
    code such as "007" (a number would lose the leading zeros): three aggregates that
    combine across parts of the rows by `any`, named `column` + `NUMBER_EVIDENCE`."""
    values = pl.col(column)
    some = values.is_not_null().any()
    other = (values.is_not_null() & as_number(column).is_null()).any()
    code_like = values.str.contains(r"^\s*[+-]?0\d").any()
    evidence = zip((some, other, code_like), NUMBER_EVIDENCE, strict=True)
    return [e.alias(column + n) for e, n in evidence]


NUMBER_EVIDENCE = ("\x00some", "\x00other", "\x00code")


def all_numbers(evidence: dict[str, bool], column: str) -> bool:
    """From `number_evidence` (combined): read the column as numbers — some value, every
    value a number, no code."""
    some, other, code = (bool(evidence[column + n]) for n in NUMBER_EVIDENCE)
    return some and not other and not code


def infer_untyped(df: pl.DataFrame, types: dict[str, str]) -> pl.DataFrame:
    """Columns without a declared type: numbers when every value is one, else text."""
    columns = untyped(df.schema, types)
    if not columns:
        return df
    evidence = df.select(e for c in columns for e in number_evidence(c)).row(0, named=True)
    casts = [as_number(c) for c in columns if all_numbers(evidence, c)]
    return df.with_columns(casts) if casts else df
