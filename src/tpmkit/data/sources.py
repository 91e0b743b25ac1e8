"""Find and scan a dataset's export files, map export names to canonical names."""

from __future__ import annotations

import glob as globlib
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from tpmkit.data import clocks, diagnose, excel, filters
from tpmkit.errors import DataError, DefinitionError, Issue, first_line
from tpmkit.spec import expressions
from tpmkit.spec.models import Source

ROW = "__row"  # 0-based data row within its file
FILE = "__file"


@dataclass(frozen=True)
class ScannedFile:
    """One export file (or an in-memory frame) as a lazy frame of canonical (mapped)
    columns."""

    path: Path | None  # None: an in-memory frame
    display: str
    format: str  # csv | parquet | excel | frame
    frame: pl.LazyFrame
    raw_names: tuple[str, ...]  # the header as written in the file
    canonical: dict[str, str]  # canonical name -> export name (for messages)
    derive: dict[str, str]  # canonical name -> SQL expression it is derived with
    source: Source  # how the file is read (separator, encoding, sheet …)
    given: pl.LazyFrame | None = None  # an in-memory frame as given, with `ROW`


def source_files(source: Source, root: Path, dataset: str) -> list[Path]:
    """The files a source's path or glob names, sorted; none is an error."""
    pattern = source.path if Path(source.path).is_absolute() else str(root / source.path)
    if any(ch in source.path for ch in "*?["):
        files = [Path(p) for p in sorted(globlib.glob(pattern, recursive=True))]
    else:
        files = [Path(pattern)] if Path(pattern).exists() else []
    if not files:
        raise DataError(
            f"dataset `{dataset}`: no file matches `{source.path}`",
            [
                Issue(
                    f"no file matches {pattern}",
                    hint=f"check `sources.{dataset}.path` (relative to the project file)",
                )
            ],
        )
    return files


def file_format(path: Path, source: Source) -> str:
    """csv or parquet, from the source's `format` or the file extension."""
    if source.format:
        return source.format
    suffix = path.suffix.lower()
    if suffix in (".gz", ".zst", ".zstd"):  # compressed: the format is the suffix before
        suffix = Path(path.stem).suffix.lower()
    if suffix in (".parquet", ".pq"):
        return "parquet"
    if suffix in (".csv", ".txt", ".tsv"):
        return "csv"
    if suffix in (".xlsx", ".xlsm", ".xls"):
        return "excel"
    raise DataError(
        f"cannot tell the format of {path.name}",
        [
            Issue(
                f"unknown file extension `{suffix}`",
                file=str(path),
                hint="set `format: csv`, `format: parquet` or `format: excel` on the source",
            )
        ],
    )


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


TEXT_FORMATS = ("csv", "excel")  # read as text, every value checked by tpmkit


def open_raw(path: Path, source: Source, fmt: str) -> pl.LazyFrame:
    """The file as written (text for CSV and Excel), with the data row index `ROW`."""
    if fmt == "parquet":
        return pl.scan_parquet(path, row_index_name=ROW)
    if fmt == "excel":
        return excel.read_sheet(path, source.sheet).with_row_index(ROW).lazy()
    compressed = path.suffix.lower() in (".gz", ".zst", ".zstd")
    encoding = source.encoding.lower().replace("_", "-")
    if compressed or encoding not in ("utf-8", "utf8"):
        # read at once: polars decompresses and decodes in memory
        return pl.read_csv(
            path,
            infer_schema=False,
            separator=source.separator,
            encoding="utf8" if encoding in ("utf-8", "utf8") else encoding,
            row_index_name=ROW,
            raise_if_empty=False,
        ).lazy()
    return pl.scan_csv(
        path,
        infer_schema=False,
        separator=source.separator,
        row_index_name=ROW,
        raise_if_empty=False,
    )


def scan_file(path: Path, source: Source, root: Path, dataset: str) -> ScannedFile:
    """A lazy scan of one file with export names mapped and derived columns added."""
    fmt = file_format(path, source)
    display = _display(path)
    if fmt == "csv" and diagnose.is_empty(path):
        raise diagnose.empty_error(dataset, display)
    try:
        frame = open_raw(path, source, fmt)
        names = [n for n in frame.collect_schema().names() if n != ROW]
        if fmt == "csv" and (wrong := diagnose.header_error(dataset, display, names, source, path)):
            raise wrong
        doubled = [n for n in names if re.search(r"_duplicated_\d+$", n)]
        if doubled:  # polars renames a repeated header; which one is meant is unknowable
            original = re.sub(r"_duplicated_\d+$", "", doubled[0])
            raise DataError(
                f"dataset `{dataset}`: column `{original}` appears twice in {display}",
                [
                    Issue(
                        f"header `{original}` is repeated",
                        file=display,
                        hint="remove or rename one of the columns",
                    )
                ],
            )
        if fmt in TEXT_FORMATS and names:  # a blank line (often the last one) is not a record
            frame = frame.filter(~pl.all_horizontal(pl.col(names).is_null()))
    except (pl.exceptions.PolarsError, OSError, LookupError, ValueError) as exc:
        located = diagnose.unreadable(dataset, display, path, source) if fmt == "csv" else None
        if located is not None:
            raise located from None
        raise DataError(
            f"cannot read {display}",
            [
                Issue(
                    first_line(exc),
                    file=display,
                    hint="is it really a " + fmt.upper() + " file?",
                )
            ],
        ) from None
    frame, canonical, derive = prepare(frame, names, source, dataset, display)
    return ScannedFile(path, display, fmt, frame, tuple(names), canonical, derive, source)


def prepare(
    frame: pl.LazyFrame, names: list[str], source: Source, dataset: str, display: str
) -> tuple[pl.LazyFrame, dict[str, str], dict[str, str]]:
    """An export's rows that are records (`null_values`, `keep_rows`), mapped and derived,
    with its `clock_times`; also each canonical name's export name and how each derived
    column is made (both for messages)."""
    frame = filters.apply(frame, names, source, dataset, display)
    frame, canonical = map_columns(frame, names, source, dataset, display)
    frame = clocks.combine(frame, canonical, source, dataset, display)
    derive = dict(source.derive)
    derive.update({c: clocks.described(s, derive) for c, s in source.clock_times.items()})
    return frame, canonical, derive


def map_columns(
    frame: pl.LazyFrame, names: list[str], source: Source, dataset: str, display: str
) -> tuple[pl.LazyFrame, dict[str, str]]:
    """Rename export columns to canonical names and add the derived ones; also each
    canonical name's export name (for messages)."""
    mapping = {export: canonical for export, canonical in source.columns.items() if export in names}
    renamed = [mapping.get(n, n) for n in names]
    clashes = {n for n in renamed if renamed.count(n) > 1}
    if clashes:
        raise diagnose.mapping_clash(dataset, display, names, mapping, sorted(clashes), source)
    frame = frame.rename(mapping).with_columns(pl.lit(display).alias(FILE))
    canonical_to_export = {mapping.get(n, n): n for n in names}
    for target, text in source.derive.items():
        try:
            expr = expressions.to_polars(text)
            used = expressions.parse(text).columns
        except expressions.ExpressionError as exc:
            raise DefinitionError(
                f"dataset `{dataset}`: cannot derive `{target}`",
                [Issue(exc.message, hint="fix `derive` in the project file")],
            ) from None
        missing = [c for c in used if c not in canonical_to_export]
        if missing:
            raise DataError(
                f"dataset `{dataset}`: `derive.{target}` uses columns missing from {display}",
                [
                    Issue(
                        f"no column `{c}`",
                        file=display,
                        hint="columns are: " + ", ".join(sorted(canonical_to_export)),
                    )
                    for c in missing
                ],
            )
        frame = frame.with_columns(expr.alias(target))
        canonical_to_export[target] = target
    return frame, canonical_to_export


def raw_rows(item: ScannedFile, rows: list[int]) -> pl.DataFrame:
    """The original rows (all columns, as written) of one file, with their physical lines
    (for a Parquet file or a frame: the 1-based row number)."""
    if item.given is not None:
        frame = item.given
    else:
        assert item.path is not None  # a file, since no frame was given
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
        schema = frame.collect_schema()
        frame = frame.with_columns(
            # a duration has no plain cast to text: ISO 8601 (PT1M40S), as polars writes it
            pl.col(n).dt.to_string() if isinstance(t, pl.Duration) else pl.col(n).cast(pl.String)
            for n, t in schema.items()
            if n not in (ROW, "__line")
        )
    return frame.filter(pl.col(ROW).is_in(rows)).collect()
