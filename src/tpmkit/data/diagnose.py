"""Why a CSV export cannot be read, said the way a user can fix it: an empty file, the
first line that is not UTF-8, the first row with more fields than the header, a header
that is really another separator. These run only once reading has failed (or on the
header), so they may walk the file themselves."""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from tpmkit.errors import DataError, DefinitionError, Issue
from tpmkit.spec.models import Source

CHUNK = 1 << 20  # bytes read at a time while looking for the first bad one
SEPARATORS = ((";", "semicolon"), ("\t", "tab"), ("|", "pipe"), (",", "comma"))
MOJIBAKE_BOM = codecs.BOM_UTF8.decode("cp1252")  # a UTF-8 byte-order mark read as cp1252


def _open(path: Path) -> IO[bytes]:
    if path.suffix.lower() == ".gz":
        return gzip.GzipFile(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _utf8(source: Source) -> bool:
    return source.encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def is_empty(path: Path) -> bool:
    """The file has no bytes at all (or only a byte-order mark and blank space)."""
    if path.suffix.lower() in (".gz", ".zst", ".zstd"):
        return False  # a compressed file is never 0 bytes; its content is checked by polars
    with path.open("rb") as handle:
        head = handle.read(64)
    return not head.removeprefix(codecs.BOM_UTF8).strip()


def empty_error(dataset: str, display: str) -> DataError:
    """The error for an export without even a header line."""
    return DataError(
        f"dataset `{dataset}`: {display} is empty: not even a header line",
        [
            Issue(
                "the file is empty",
                file=display,
                line=1,
                hint="re-export it; an export with no rows still has its header line",
            )
        ],
    )


def first_bad_byte(path: Path) -> tuple[int, int, bytes] | None:
    """Line, column (1-based) and the bytes around the first byte that is not UTF-8."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    line, column = 1, 1
    with _open(path) as handle:
        while chunk := handle.read(CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                data = exc.object  # the bytes held back from the chunk before, then this one
                held = len(data) - len(chunk)
                before = data[: exc.start]
                newlines = before.count(b"\n")
                line += newlines
                if newlines:
                    column = exc.start - before.rfind(b"\n")
                else:
                    column += exc.start - held
                return line, column, bytes(data[exc.start : exc.start + 4])
            line += chunk.count(b"\n")
            last = chunk.rfind(b"\n")
            column = len(chunk) - last if last >= 0 else column + len(chunk)
    return None


def encoding_error(dataset: str, display: str, path: Path) -> DataError | None:
    """The error for an export that is not UTF-8, naming its first bad line (None: it is
    UTF-8 after all)."""
    found = first_bad_byte(path)
    if found is None:
        return None
    line, column, raw = found
    guess = "cp1252"
    try:
        raw[:1].decode("cp1252")
    except UnicodeDecodeError:
        guess = "latin-1"
    return DataError(
        f"dataset `{dataset}`: {display} is not UTF-8 text",
        [
            Issue(
                f"byte {raw[:1]!r} is not UTF-8 (as {guess}: {raw[:1].decode(guess, 'replace')!r})",
                file=display,
                line=line,
                column=column,
                hint=f"set `encoding: {guess}` on the source, the usual encoding of "
                "Windows and Excel exports, or save the export as UTF-8",
            )
        ],
    )


class OpenQuote(Exception):
    """A quoted field runs to the end of the file: it opens on line `line`."""

    def __init__(self, line: int) -> None:
        super().__init__(line)
        self.line = line


def _records(path: Path, source: Source) -> Iterator[tuple[int, list[str]]]:
    """Each record of a CSV file with the physical line it starts on (1-based); a quote
    that is never closed raises `OpenQuote`."""
    encoding = "utf-8-sig" if _utf8(source) else source.encoding
    with _open(path) as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, errors="replace", newline="")
        reader = csv.reader(text, delimiter=source.separator, quotechar='"', strict=True)
        start = 1
        while True:
            try:
                record = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                if "unexpected end of data" in str(exc):
                    raise OpenQuote(start) from None
                start = reader.line_num + 1  # a quirk polars reads anyway: not the reason
                continue
            if record:
                yield start, record
            start = reader.line_num + 1


def ragged_error(dataset: str, display: str, path: Path, source: Source) -> DataError | None:
    """The error for the first row with more fields than the header, or for a quote
    never closed (None: neither)."""
    records = _records(path, source)
    try:
        header = next(records, None)
        if header is None:
            return None
        expected = len(header[1])
        for line, record in records:
            if len(record) > expected:
                return _too_many(dataset, display, source, line, record, expected)
    except OpenQuote as open_quote:
        return DataError(
            f"dataset `{dataset}`: a quoted value in {display} is never closed",
            [
                Issue(
                    'a value opens with a quote (") and the file ends before it closes',
                    file=display,
                    line=open_quote.line,
                    hint='close the quote, or write a quote inside a value as two ("")',
                )
            ],
        )
    return None


def _too_many(
    dataset: str, display: str, source: Source, line: int, record: list[str], expected: int
) -> DataError:
    """The error for a row with more fields than the header."""
    extra = [f for f in record[expected:] if f]
    shown = f" (extra: {', '.join(map(repr, extra[:3]))})" if extra else ""
    return DataError(
        f"dataset `{dataset}`: a row of {display} has more fields than its header",
        [
            Issue(
                f"{len(record)} fields, but the header has {expected}{shown}",
                file=display,
                line=line,
                hint="a value probably contains the separator "
                f"{source.separator!r} without quotes: quote it, or fix the row",
            )
        ],
    )


def separator_hint(names: list[str] | tuple[str, ...], source: Source) -> str | None:
    """A hint when the header is really split by another separator: a one-column header
    holding one, or a header where another mark splits more often than the declared one
    (`a;b;c,d` read with commas)."""
    if not names:
        return None
    for mark, word in SEPARATORS:
        if mark == source.separator:
            continue
        found = sum(n.count(mark) for n in names)
        if (len(names) == 1 and found) or found >= len(names):
            return (
                f"the file looks {word}-separated: set `separator: "
                f'"{mark.encode("unicode_escape").decode()}"` on the source'
            )
    return None


def header_error(
    dataset: str, display: str, names: list[str], source: Source, path: Path
) -> DataError | None:
    """A header that cannot be right: not UTF-8, or one column holding other separators."""
    if _utf8(source) and any("\ufffd" in n for n in names):
        found = encoding_error(dataset, display, path)
        if found is not None:
            return found
    if names and names[0].startswith(MOJIBAKE_BOM):
        return DataError(
            f"dataset `{dataset}`: {display} is UTF-8, not {source.encoding}",
            [
                Issue(
                    f"the header starts with a UTF-8 byte-order mark read as {source.encoding}",
                    file=display,
                    line=1,
                    column=1,
                    hint="remove `encoding:` from the source (UTF-8 is the default)",
                )
            ],
        )
    hint = separator_hint(names, source) if len(names) == 1 else None
    if hint is None:  # several columns: maybe right; said if a required one is missing
        return None
    return DataError(
        f"dataset `{dataset}`: the header of {display} is one column, {names[0][:60]!r}",
        [Issue("the header is not split into columns", file=display, line=1, hint=hint)],
    )


# polars' words for a cast that failed at run time (in `keep_rows`, `derive` or `where`)
FAILED_CAST = re.compile(
    r"conversion from `(?P<source>\w+)` to `(?P<target>\w+)` failed in column "
    r"'(?P<column>[^']+)' for \d+ out of \d+ values: \[(?P<values>.*)\]"
)


# polars' type names in a failed cast, as a user reads them
TYPE_WORDS = {"i8": "whole number", "i16": "whole number", "i32": "whole number",
              "i64": "whole number", "f32": "number", "f64": "number", "date": "date",
              "datetime": "timestamp", "bool": "boolean"}  # fmt: skip


def failed_cast(
    dataset: str, display: str, path: Path | None, source: Source, detail: str
) -> DataError | None:
    """The line, column and value of the first export value a CAST could not convert (None:
    not such a failure, or the value is not in the file as written)."""
    found = FAILED_CAST.search(detail)
    if found is None or path is None or not path.exists():
        return None
    first = found.group("values").split(", ")[0].strip()
    value = first[1:-1] if len(first) >= 2 and first[0] == first[-1] == '"' else first
    column = found.group("column")
    records = _records(path, source)
    try:
        header = next(records, None)
        if header is None or column not in header[1]:
            return None
        index = header[1].index(column)
        line = next((n for n, r in records if len(r) > index and r[index] == value), None)
    except OpenQuote:
        return None
    if line is None:
        return None
    return DataError(
        f"dataset `{dataset}`: a value of {display} cannot be converted",
        [
            Issue(
                f"column `{column}`: {value!r} is not a "
                f"{TYPE_WORDS.get(found.group('target'), found.group('target'))} (a CAST in "
                "`keep_rows`, `derive` or a metric's expression converts this column)",
                file=display,
                line=line,
                column=index + 1,
                hint="fix the value in the export, or list it under the source's "
                "`null_values` so that it reads as empty",
            )
        ],
    )


def unreadable(dataset: str, display: str, path: Path | None, source: Source) -> DataError | None:
    """The located reason a CSV export failed to read (None: no known reason)."""
    if path is None or not path.exists():
        return None
    if _utf8(source):
        found = encoding_error(dataset, display, path)
        if found is not None:
            return found
    return ragged_error(dataset, display, path, source)


def mapping_clash(
    dataset: str,
    display: str,
    names: list[str],
    mapping: dict[str, str],
    clashes: list[str],
    source: Source,
) -> DefinitionError:
    """The error for two export columns that `columns:` turns into one canonical name:
    both export columns, where they are in the file and the line of the mapping."""
    issues = []
    for canonical in clashes:
        exports = [n for n in names if mapping.get(n, n) == canonical]
        both = " and ".join(f"`{e}` (column {names.index(e) + 1})" for e in exports)
        issues.append(
            Issue(
                f"export columns {both} both become `{canonical}`",
                file=display,
                line=1,
                column=names.index(exports[-1]) + 1,
            )
        )
        for export in (e for e in exports if e in mapping):
            file, line, column = source.written_at("columns", export)
            kept = [e for e in exports if e != export]
            issues.append(
                Issue(
                    f"`{export}: {canonical}` is mapped here, but the export also has "
                    + ", ".join(f"`{e}`" for e in kept),
                    file=file,
                    line=line,
                    column=column,
                    hint=f"map only one of them onto `{canonical}`: remove this line, or map "
                    f"the other one to another name, e.g. `{kept[0]}: {canonical}_export`",
                )
            )
    return DefinitionError(
        f"dataset `{dataset}`: two columns of {display} map to the same name", issues
    )
