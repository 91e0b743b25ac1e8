"""Load a dataset: scan its files, coerce types, enforce the data rules, quarantine bad rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import polars as pl

from tpmkit import __version__
from tpmkit.contract import CANONICAL, DatasetContract
from tpmkit.data import coerce
from tpmkit.data.cache import CsvCache
from tpmkit.data.sources import (
    FILE,
    ROW,
    TEXT_FORMATS,
    ScannedFile,
    open_raw,
    scan_file,
    source_files,
)
from tpmkit.errors import DataError, Issue
from tpmkit.spec import expressions
from tpmkit.spec.models import Source

MAX_REPORTED = 20
PROBLEM = "__problem__"
OnBadRows = Literal["fail", "quarantine"]


@dataclass
class Dataset:
    """A dataset ready for the engine: canonical columns, coerced, bad rows handled."""

    name: str
    frame: pl.DataFrame
    files: list[str]
    time_column: str | None
    missing: dict[str, str] = field(default_factory=dict)  # optional column -> why unavailable
    rows_read: int = 0
    quarantined: int = 0
    rejects_file: str | None = None
    deduplicated: int = 0  # rows left out by `dedupe: keep_last`

    @property
    def columns(self) -> set[str]:
        return set(self.frame.columns)


@dataclass(frozen=True)
class RowWindow:
    """Read only rows with one of `columns` in [start, end) (or null, to report it)."""

    columns: list[str]
    start: dt.datetime | None
    end: dt.datetime | None

    def keep(self, present: set[str]) -> pl.Expr | None:
        tests = []
        for column in (c for c in self.columns if c in present):
            inside = pl.col(column).is_null()
            if self.start is not None and self.end is not None:
                inside = inside | pl.col(column).is_between(self.start, self.end, closed="left")
            elif self.start is not None:
                inside = inside | (pl.col(column) >= self.start)
            elif self.end is not None:
                inside = inside | (pl.col(column) < self.end)
            tests.append(inside)
        return pl.any_horizontal(tests) if tests else None


@dataclass(frozen=True)
class Cell:
    """One bad cell: where it is and which rule it breaks."""

    file: str
    row: int
    column: str
    rule: str


def column_types(name: str, source: Source, contract: DatasetContract | None) -> dict[str, str]:
    """The declared type of each column: contract, then the source's `types`, then time column."""
    types = {c.name: c.type for c in contract.columns} if contract else {}
    time_column = source.time_column or (contract.time_column if contract else None)
    if time_column and time_column not in types:
        types[time_column] = "timestamp"
    types.update(source.types)
    return types


def _required(contract: DatasetContract | None, source: Source) -> list[str]:
    required = [c.name for c in contract.columns if c.required] if contract else []
    if source.time_column:
        required.append(source.time_column)
    if source.id_column:
        required.append(source.id_column)
    return list(dict.fromkeys(required))


def _check_required(
    name: str, scanned: list[ScannedFile], contract: DatasetContract | None, source: Source
) -> None:
    issues = []
    for item in scanned:
        present = set(item.canonical)
        for column in _required(contract, source):
            if column in present:
                continue
            alternative = contract.derivable.get(column) if contract else None
            if alternative and "answered_at" in present:
                continue
            hint = f'map it: columns: {{"Export Header": {column}}}'
            if alternative:
                hint += f", or provide answered_at to derive it ({alternative})"
            header = " ".join(item.raw_names)
            for mark, name_ in ((";", "semicolon"), ("\t", "tab"), ("|", "pipe")):
                if len(item.raw_names) == 1 and mark in header:
                    hint = (
                        f'the file looks {name_}-separated: set `separator: "{mark}"` on the source'
                    )
                    break
            issues.append(
                Issue(
                    f"dataset `{name}`: required column `{column}` is missing in {item.display}; "
                    f"columns found: {', '.join(item.raw_names) or '(none)'}",
                    file=item.display,
                    hint=hint,
                )
            )
    if issues:
        raise DataError(f"dataset `{name}`: required columns are missing", issues)


def load_dataset(
    name: str,
    source: Source,
    root: Path,
    timezone: str,
    needed: set[str] | None = None,
    *,
    on_bad_rows: OnBadRows = "fail",
    rejects_dir: Path | None = None,
    cache: CsvCache | None = None,
    rows_in: RowWindow | None = None,
    first_rows: int | None = None,
) -> Dataset:
    """Read, map, coerce and check one dataset; only `needed` columns (None: all) are read,
    and with `rows_in` only the rows in that time range (rows outside it are not checked);
    `first_rows` reads only the first rows of each file (a sample, for `validate`)."""
    contract = CANONICAL.get(name)
    scanned = [scan_file(path, source, root, name) for path in source_files(source, root, name)]
    _check_required(name, scanned, contract, source)
    types = column_types(name, source, contract)
    time_column = source.time_column or (contract.time_column if contract else None)
    available = set.intersection(*(set(s.canonical) for s in scanned))
    every = set.union(*(set(s.canonical) for s in scanned))
    if needed is None:
        wanted = sorted(every)
    else:
        always = {*_required(contract, source), *(c for c in (time_column,) if c)}
        if contract and contract.id_column:
            always.add(contract.id_column)
        wanted = sorted((set(needed) | always) & every)
        if name == "calls":  # answered / wait_seconds may be derived from answered_at
            wanted = sorted({*wanted, *({"answered_at", "offered_at"} & every)})
    for column, limit, _ in contract.not_above if contract else ():
        if column in wanted and limit in every and limit not in wanted:
            wanted.append(limit)  # the limit is checked even when no metric reads it
    for column in wanted:
        if column not in available and source.union != "by_name":
            have = next(s.display for s in scanned if column in s.canonical)
            lack = next(s.display for s in scanned if column not in s.canonical)
            raise DataError(
                f"dataset `{name}`: files disagree on their columns",
                [
                    Issue(
                        f"column `{column}` is in {have} but not in {lack}",
                        file=lack,
                        hint="export every file with the same columns, or set "
                        "`union: by_name` on the source to read missing columns as empty",
                    )
                ],
            )
    missing = {
        c.name: f"column `{c.name}` is not in the `{name}` export"
        for c in (contract.columns if contract else ())
        if c.name not in available and c.default is None
    }

    shape: dict[str, object] = {
        "dataset": name,
        "timezone": timezone,
        "types": types,
        "tpmkit": __version__,
        "source": source.model_dump(mode="json", exclude={"path"}),
    }
    if first_rows is not None:
        scanned = [replace(item, frame=item.frame.head(first_rows)) for item in scanned]
        cache = None
    frames = [
        _typed_file(item, wanted, types, contract, timezone, cache, shape) for item in scanned
    ]
    typed = pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]
    keep = rows_in.keep(set(wanted)) if rows_in else None
    if keep is not None:
        typed = typed.filter(keep)
    coerced = {c for c in wanted if c in types}
    id_column = source.id_column or (contract.id_column if contract else None)
    keep_last = source.dedupe == "keep_last" and id_column in wanted
    if keep_last:  # `dedupe: keep_last`: mark every row a later row repeats
        repeat = pl.col(str(id_column)).is_not_null() & ~pl.col(str(id_column)).is_last_distinct()
        typed = typed.with_columns(repeat.alias(REPEAT))
    deduplicated = 0
    df = _lean(typed, name, scanned, types, contract, source, wanted, timezone)
    if df is not None:
        df, deduplicated = _drop_repeats(df)
        df = _flag_duplicates(df, contract, source)
        if any(c.startswith(PROBLEM) for c in df.columns):
            df = None  # a repeated id: read again, naming every problem
    if df is None:  # some row breaks a rule: read again, naming every problem
        df, _ = _retry(_collect(typed, name, scanned), types, contract, timezone)
        df, deduplicated = _drop_repeats(df)
        df = df.with_columns(*_row_rules(contract, source, wanted, coerced))
        df = _flag_duplicates(df, contract, source)
    rows_read = df.height + deduplicated

    cells = _bad_cells(df)
    quarantined, rejects_file = 0, None
    if cells:
        if on_bad_rows == "fail":
            raise _data_error(name, cells, scanned)
        bad = {(c.file, c.row) for c in cells}
        quarantined = len(bad)
        rejects_file = _write_rejects(name, cells, scanned, rejects_dir or root / ".tpmkit/rejects")
        keep = ~pl.any_horizontal(pl.col(f"^{PROBLEM}.*$").is_not_null())
        df = df.filter(keep)
    df = df.drop([c for c in df.columns if c.startswith(PROBLEM)], ROW, FILE)
    df = _infer_untyped(df, types)
    df = _apply_defaults(df, contract)
    if name == "calls":
        df = _derive_calls(df)
        missing = {k: v for k, v in missing.items() if k not in df.columns}
    return Dataset(
        name,
        df,
        [s.display for s in scanned],
        time_column,
        missing,
        rows_read,
        quarantined,
        rejects_file,
        deduplicated,
    )


def _typed(
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
    comma = item.source.decimal_comma and csv

    def raw_column(c: str) -> pl.Expr:
        if c not in present:  # `union: by_name`: a column this file lacks is empty
            return pl.lit(None, dtype=pl.String).alias(c)
        if not csv:
            return pl.col(c)
        text = pl.col(c).cast(pl.String)
        if comma and types.get(c) in ("int", "float", "duration"):
            text = text.str.replace(",", ".", literal=True)  # 3,5 → 3.5
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
        sample = raw.select(costly).head(_SAMPLE).collect() if costly else pl.DataFrame()
    except (pl.exceptions.PolarsError, OSError):  # unreadable: reported when the data is read
        costly, sample = [], pl.DataFrame()
    coerced = {
        c: (
            c in costly
            and coerce.fast(
                c, types[c], timezone, sample.get_column(c), item.source.timestamp_format
            )
        )
        or coerce.coerce(c, types[c], raw_schema[c], timezone)
        for c in columns
        if c in types
    }
    return _coerced(raw, coerced, contract)


_SAMPLE = 500  # first values of a text column that choose its fast coercion


def _retry(
    df: pl.DataFrame,
    types: dict[str, str],
    contract: DatasetContract | None,
    timezone: str,
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
            full = {name: coerce.coerce(name, types[name], pl.String(), timezone)}
            fixed = _coerced(text.lazy(), full, contract).collect()
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


def _typed_file(
    item: ScannedFile,
    wanted: list[str],
    types: dict[str, str],
    contract: DatasetContract | None,
    timezone: str,
    cache: CsvCache | None,
    shape: dict[str, object],
) -> pl.LazyFrame:
    """A file's wanted columns, typed: from the cache when the file is a CSV export the
    cache holds (converting it first, all columns, when it does not)."""
    located = cache.entry(item.path, shape) if cache and item.format == "csv" else None
    if cache is None or located is None:
        return _typed(item, wanted, types, contract, timezone)
    entry, fingerprint = located
    if cache.usable(entry):
        cache.hits += 1
    else:
        converted = _typed(item, sorted(item.canonical), types, contract, timezone).drop(FILE)
        if not cache.store(entry, fingerprint, converted, (PROBLEM, coerce.RETRY)):
            return _typed(item, wanted, types, contract, timezone)
        cache.misses += 1
    stored = pl.scan_parquet(entry)
    present = set(stored.collect_schema().names())
    empty = cache.empty_columns(entry)  # problem columns are nearly always empty: not read
    side = [f"{PROBLEM}{c}" for c in wanted if c in types]
    side += [r for r in (f"{coerce.RETRY}{c}" for c in wanted) if r in present]
    return stored.select(
        pl.lit(item.display).alias(FILE),
        pl.col(ROW),
        *wanted,
        *(pl.lit(None, dtype=pl.String).alias(c) if c in empty else pl.col(c) for c in side),
    )


def _coerced(
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


def _collect(frame: pl.LazyFrame, name: str, scanned: list[ScannedFile]) -> pl.DataFrame:
    """Run the load; a file polars cannot parse (encoding, ragged rows, stray quotes,
    types it cannot turn into text) is a data error naming the files, not a crash."""
    try:
        return frame.collect()
    except (pl.exceptions.PolarsError, OSError) as exc:
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        hint = "check that it is UTF-8 CSV with one header line, or valid Parquet"
        if "utf-8" in detail.lower() or "utf8" in detail.lower():
            hint = "save the export as UTF-8 (or re-export it) and run again"
        raise DataError(
            f"dataset `{name}`: cannot read its export(s): {detail}",
            [Issue("could not be parsed", file=item.display, hint=hint) for item in scanned],
        ) from None


def _rule_conditions(
    contract: DatasetContract | None, source: Source, wanted: list[str]
) -> list[tuple[str, pl.Expr, str]]:
    """Rules across columns as (problem column, broken when, message): required values,
    order of timestamps, score <= max (unique ids: `_flag_duplicates`)."""
    rules: list[tuple[str, pl.Expr, str]] = []
    present = set(wanted)
    nullable = {"wait_seconds", "answered"}  # abandons often have no queue time
    required = [c for c in _required(contract, source) if c in present and c not in nullable]
    for column in required:
        rules.append(
            (f"{PROBLEM}required_{column}", pl.col(column).is_null(), "required value is empty")
        )
    pairs = list(contract.ordered) if contract else []
    for earlier, later in pairs:
        if earlier in present and later in present:
            rules.append(
                (
                    f"{PROBLEM}order_{later}",
                    pl.col(later) < pl.col(earlier),
                    f"{later} is before {earlier}",
                )
            )
    for column, limit, default in contract.not_above if contract else ():
        if column in present:
            bound = pl.col(limit).fill_null(default) if limit in present else pl.lit(default)
            rules.append(
                (f"{PROBLEM}above_{column}", pl.col(column) > bound, f"{column} above {limit}")
            )
    return rules


def _row_rules(
    contract: DatasetContract | None, source: Source, wanted: list[str], checked: set[str]
) -> list[pl.Expr]:
    """The problem columns of `_rule_conditions` (an unparseable required value is
    reported as such, not as empty)."""
    out = []
    for name, condition, message in _rule_conditions(contract, source, wanted):
        column = name.removeprefix(f"{PROBLEM}required_")
        if name != column and column in checked:
            condition = condition & pl.col(f"{PROBLEM}{column}").is_null()
        out.append(coerce.problem(condition, message).alias(name))
    return out


BAD = "__bad"
REPEAT = "__repeat"  # with `dedupe: keep_last`: a row whose id a later row repeats


def _drop_repeats(df: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Leave out the rows `dedupe: keep_last` marked; how many were left out."""
    if REPEAT not in df.columns:
        return df, 0
    dropped = int(df.get_column(REPEAT).sum())
    return df.filter(~pl.col(REPEAT)).drop(REPEAT), dropped


def _lean(
    typed: pl.LazyFrame,
    name: str,
    scanned: list[ScannedFile],
    types: dict[str, str],
    contract: DatasetContract | None,
    source: Source,
    wanted: list[str],
    timezone: str,
) -> pl.DataFrame | None:
    """The dataset when no row breaks a rule, else None.

    A problem column per data column costs 16 bytes a row even when empty (a third of the
    memory on ten million rows). Nearly always every row is good, so the data is first
    read with one flag per row instead; only when a flag is up is it read again with the
    problem columns (`load_dataset`)."""
    names = typed.collect_schema().names()
    problems = [c for c in names if c.startswith(PROBLEM)]
    flag = pl.any_horizontal(pl.col(problems).is_not_null()) if problems else pl.lit(False)
    df = _collect(
        typed.select(*(c for c in names if c not in problems), flag.alias(BAD)), name, scanned
    )
    df, retried_bad = _retry(df, types, contract, timezone)
    rules = [condition for _, condition, _ in _rule_conditions(contract, source, wanted)]
    broken = df.select(pl.any_horizontal(pl.col(BAD), *rules).any()).item() if rules else False
    if retried_bad or broken or df.get_column(BAD).any():
        return None
    return df.drop(BAD)


def _flag_duplicates(
    df: pl.DataFrame, contract: DatasetContract | None, source: Source
) -> pl.DataFrame:
    """Mark every repeat of an id with where it first appeared. Counting distinct ids is
    cheap; the costly search for the first occurrence runs only when there is a repeat."""
    id_column = source.id_column or (contract.id_column if contract else None)
    if not id_column or id_column not in df.columns:
        return df
    ids = df.get_column(id_column).drop_nulls()
    if ids.hash().n_unique() == ids.len():  # distinct hashes: distinct ids (a collision
        return df  # only sends us to the exact search below)
    first_file = pl.col(FILE).first().over(id_column)
    first_row = (pl.col(ROW).first().over(id_column) + 1).cast(pl.String)
    duplicate = pl.col(id_column).is_not_null() & ~pl.col(id_column).is_first_distinct()
    return df.with_columns(
        pl.when(duplicate)
        .then(
            pl.format(
                "duplicate {} (first in {}, data row {})", pl.lit(id_column), first_file, first_row
            )
        )
        .otherwise(pl.lit(None, dtype=pl.String))
        .alias(f"{PROBLEM}duplicate_{id_column}")
    )


def _problem_column(name: str) -> str:
    column = name[len(PROBLEM) :]
    for prefix in ("required_", "order_", "above_", "duplicate_"):
        if column.startswith(prefix):
            return column[len(prefix) :]
    return column


def _bad_cells(df: pl.DataFrame) -> list[Cell]:
    columns = [c for c in df.columns if c.startswith(PROBLEM)]
    if not columns:
        return []
    flagged = df.select(FILE, ROW, *columns).filter(
        pl.any_horizontal(pl.col(columns).is_not_null())
    )
    if flagged.is_empty():
        return []
    long = (
        flagged.unpivot(index=[FILE, ROW], on=columns, variable_name="c", value_name="rule")
        .drop_nulls("rule")
        .sort(FILE, ROW, "c")
    )
    return [Cell(f, r, _problem_column(c), rule) for f, r, c, rule in long.iter_rows()]


def _file_for(display: str, scanned: list[ScannedFile]) -> ScannedFile:
    return next(s for s in scanned if s.display == display)


def _raw_rows(item: ScannedFile, rows: list[int]) -> pl.DataFrame:
    """The original rows (all columns, as written) of one file, with their physical lines."""
    frame = open_raw(item.path, item.source, item.format)
    if item.format in TEXT_FORMATS:
        names = [n for n in frame.collect_schema().names() if n != ROW]
        newlines = (
            pl.sum_horizontal(pl.col(n).str.count_matches("\n").fill_null(0) for n in names)
            if names and item.format == "csv"
            else pl.lit(0)
        )
        # header is line 1; quoted newlines push later rows down
        line = (
            pl.lit(2, dtype=pl.Int64)
            + pl.col(ROW).cast(pl.Int64)
            + newlines.cast(pl.Int64).cum_sum().shift(1, fill_value=0)
        )
        frame = frame.with_columns(line.alias("__line"))
    else:
        frame = frame.with_columns((pl.col(ROW).cast(pl.Int64) + 1).alias("__line"))
        frame = frame.with_columns(pl.all().exclude(ROW, "__line").cast(pl.String))
    return frame.filter(pl.col(ROW).is_in(rows)).collect()


def _derived_values(item: ScannedFile, raw: pl.DataFrame) -> dict[tuple[int, str], object]:
    """The text a `derive` expression produced for each raw row (for error messages)."""
    if not item.derive or raw.is_empty():
        return {}
    rename = {
        export: canonical
        for canonical, export in item.canonical.items()
        if export in raw.columns and export != canonical
    }
    frame = raw.rename(rename).with_columns(
        expressions.to_polars(text).cast(pl.String).alias(column)
        for column, text in item.derive.items()
    )
    return {
        (row[ROW], column): row[column]
        for row in frame.iter_rows(named=True)
        for column in item.derive
    }


def _data_error(name: str, cells: list[Cell], scanned: list[ScannedFile]) -> DataError:
    shown = cells[:MAX_REPORTED]
    issues = []
    for display in dict.fromkeys(c.file for c in shown):
        item = _file_for(display, scanned)
        mine = [c for c in shown if c.file == display]
        raw = _raw_rows(item, sorted({c.row for c in mine}))
        by_row = {r[ROW]: r for r in raw.iter_rows(named=True)}
        derived = _derived_values(item, raw)
        for cell in mine:
            row = by_row.get(cell.row, {})
            export = item.canonical.get(cell.column, cell.column)
            value = derived.get((cell.row, cell.column), row.get(export))
            header_index = item.raw_names.index(export) + 1 if export in item.raw_names else None
            if cell.column in item.derive:
                label = f"{cell.column}` (derived: {item.derive[cell.column]})"
            elif export != cell.column:
                label = f"{export}` (`{cell.column}`)"
            else:
                label = f"{export}`"
            where = "" if item.format in TEXT_FORMATS else f"row {cell.row + 1}, "
            issues.append(
                Issue(
                    f"{where}column `{label}: {cell.rule}: "
                    + ("(empty)" if value is None else repr(value)),
                    file=display,
                    line=row.get("__line") if item.format in TEXT_FORMATS else None,
                    column=header_index if item.format in TEXT_FORMATS else None,
                    hint=_fix_hint(cell.rule),
                )
            )
    rows = len({(c.file, c.row) for c in cells})
    return DataError(
        f"dataset `{name}`: {len(cells)} bad value(s) in {rows} row(s); nothing was computed. "
        "Fix the export, or re-run with --on-bad-rows quarantine to leave those rows out",
        issues,
        total=len(cells),
    )


def _fix_hint(rule: str) -> str | None:
    if rule.startswith("duplicate"):
        return "the same record is exported twice; remove one copy"
    if rule.startswith("not a timestamp"):
        return None
    if "DST gap" in rule:
        return "that wall-clock time is skipped by the DST change; export with a UTC offset"
    return None


def _write_rejects(name: str, cells: list[Cell], scanned: list[ScannedFile], folder: Path) -> str:
    """Write the rejected rows (original values + file, line, reason) to a CSV a user can fix."""
    from tpmkit.atomic import write_with

    reasons: dict[tuple[str, int], list[str]] = {}
    for cell in cells:
        export = _file_for(cell.file, scanned).canonical.get(cell.column, cell.column)
        reasons.setdefault((cell.file, cell.row), []).append(f"{export}: {cell.rule}")
    parts = []
    for display in dict.fromkeys(c.file for c in cells):
        item = _file_for(display, scanned)
        raw = _raw_rows(item, sorted({r for f, r in reasons if f == display}))
        reason = pl.Series("_reason", ["; ".join(reasons[(display, r)]) for r in raw[ROW]])
        parts.append(
            raw.with_columns(
                pl.lit(display).alias("_source_file"), pl.col("__line").alias("_line"), reason
            ).drop(ROW, "__line")
        )
    frame = pl.concat(parts, how="diagonal")
    target = folder / f"{name}.rejects.csv"
    write_with(target, lambda tmp: frame.write_csv(tmp))
    return str(target)


def _infer_untyped(df: pl.DataFrame, types: dict[str, str]) -> pl.DataFrame:
    """Columns without a declared type: numbers when every value is one, else text."""
    casts = []
    for column, dtype in df.schema.items():
        if column in types or dtype != pl.String:
            continue
        values = df.get_column(column)
        numbers = values.str.strip_chars().cast(pl.Float64, strict=False)
        # codes such as "007" stay text: a number would lose the leading zeros
        code_like = values.str.contains(r"^\s*[+-]?0\d").any()
        all_numbers = numbers.null_count() == values.null_count()
        if values.null_count() < len(values) and all_numbers and not code_like:
            casts.append(numbers.alias(column))
    return df.with_columns(casts) if casts else df


def _apply_defaults(df: pl.DataFrame, contract: DatasetContract | None) -> pl.DataFrame:
    """Contract defaults (qa max_score 100, tickets reopens 0, calls channel voice) fill
    empty values and stand in for a column the export does not have."""
    if contract is None:
        return df
    fills = []
    for column in contract.columns:
        if column.default is None:
            continue
        if column.name in df.columns:
            fills.append(pl.col(column.name).fill_null(column.default))
        else:
            fills.append(pl.lit(column.default).alias(column.name))
    return df.with_columns(fills) if fills else df


def _derive_calls(df: pl.DataFrame) -> pl.DataFrame:
    """answered / wait_seconds from answered_at when the export has no such column."""
    if "answered" not in df.columns and "answered_at" in df.columns:
        df = df.with_columns(pl.col("answered_at").is_not_null().alias("answered"))
    if "wait_seconds" not in df.columns and {"answered_at", "offered_at"} <= set(df.columns):
        wait = (pl.col("answered_at") - pl.col("offered_at")).dt.total_microseconds() / 1e6
        df = df.with_columns(wait.alias("wait_seconds"))
    return df
