"""annotations.csv: read every note with located errors, append one atomically.

A hand-kept notes file of a few rows, read with the csv module (exact line numbers, a
note's text may hold commas, quotes and line breaks) and validated row by row into
`Annotation`s; the engine receives them as one small table of spans."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from pydantic import ValidationError

from tpmkit.annotations.model import Annotation
from tpmkit.atomic import atomic_path
from tpmkit.contract import ANNOTATION_KINDS, ANNOTATIONS
from tpmkit.errors import DataError, Issue, UsageError, did_you_mean
from tpmkit.locks import exclusive
from tpmkit.spec.loader import Definitions

FILE = "annotations.csv"
HEADER = tuple(ANNOTATIONS.names)
# A cell a spreadsheet would run as a formula starts with one of these: written with a
# leading apostrophe (OWASP "CSV injection"), which reading takes off again.
FORMULA = ("=", "+", "-", "@", "\t", "\r")
MAX_ERRORS = 20


def store_path(project: Definitions) -> Path:
    """The declared `annotations` source's file, else annotations.csv beside tpmkit.yaml."""
    source = project.spec.sources.get("annotations")
    return project.root / source.path if source is not None else project.root / FILE


def _encoding(project: Definitions) -> str:
    source = project.spec.sources.get("annotations")
    return source.encoding if source is not None else "utf-8"


def _separator(project: Definitions) -> str:
    source = project.spec.sources.get("annotations")
    return source.separator if source is not None else ","


def _names(project: Definitions) -> dict[str, str]:
    source = project.spec.sources.get("annotations")
    return dict(source.columns) if source is not None else {}


def _neutral(cell: str) -> str:
    return "'" + cell if cell.startswith(FORMULA) else cell


def _restored(cell: str) -> str:
    return cell[1:] if cell.startswith("'") and cell[1:].startswith(FORMULA) else cell


GROUP_HINT = "a column of the exports or the roster, e.g. team, site, vendor, queue or channel"


def read(
    project: Definitions,
    known_metrics: set[str] | None = None,
    known_groups: set[str] | None = None,
) -> list[Annotation]:
    """Every annotation of the project (none when there is no file); a bad row is a
    DataError naming the file, line, column and value, and how to fix it. With
    `known_groups`, a `group` that names no column the data can be grouped by is one too."""
    path = store_path(project)
    declared = "annotations" in project.spec.sources
    if not path.exists():
        if declared:
            raise DataError(
                "the `annotations` source has no file",
                [
                    Issue(
                        f"{path} does not exist",
                        file=str(path),
                        hint="create it with `tpmkit annotate`, or remove the source",
                    )
                ],
            )
        return []
    source = project.spec.sources.get("annotations")
    if source is not None and (source.format not in (None, "csv") or "*" in source.path):
        raise DataError(
            "annotations are read from one CSV file",
            [
                Issue(
                    f"`{source.path}` is not one .csv file",
                    file=str(project.file),
                    hint="point the `annotations` source at a single CSV file",
                )
            ],
        )
    text = path.read_text(encoding=_encoding(project))
    return _parse(
        text,
        str(path),
        _separator(project),
        _names(project),
        known_metrics or set(),
        known_groups or set(),
    )


def _parse(
    text: str,
    display: str,
    separator: str,
    names: dict[str, str],
    known: set[str],
    groups: set[str] = frozenset(),  # type: ignore[assignment]
) -> list[Annotation]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=separator)
    header = next(reader, None)
    if header is None:
        return []
    columns = [names.get(c.strip(), c.strip()) for c in header]
    issues: list[Issue] = []
    for i, name in enumerate(columns, start=1):
        if name not in HEADER:
            hint = did_you_mean(name, HEADER) or f"the columns are {', '.join(HEADER)}"
            issues.append(Issue(f"unknown column `{name}`", display, 1, i, hint=hint))
    for name in ("from", "text"):
        if name not in columns:
            issues.append(
                Issue(
                    f"required column `{name}` is missing",
                    display,
                    1,
                    hint=f"the header needs {', '.join(HEADER)}",
                )
            )
    if issues:
        raise DataError(f"{display}: the header is not an annotations header", issues)
    notes: list[Annotation] = []
    start = 2
    for cells in reader:
        line, start = start, reader.line_num + 1
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(columns):
            issues.append(
                Issue(
                    f"{len(cells)} fields where the header has {len(columns)}",
                    display,
                    line,
                    hint="quote a text that holds the separator",
                )
            )
            continue
        row = {c: _restored(v) for c, v in zip(columns, cells, strict=True)}
        try:
            note = Annotation.model_validate(_typed(row))
        except (ValidationError, ValueError) as exc:
            issues.extend(_located(exc, row, columns, display, line))
            continue
        if note.metric is not None and known and note.metric not in known:
            column = columns.index("metric") + 1
            hint = did_you_mean(note.metric, known) or "see `tpmkit metrics list`"
            issues.append(
                Issue(f"metric: unknown metric `{note.metric}`", display, line, column, hint=hint)
            )
            continue
        if note.group is not None and groups and note.group not in groups:
            column = columns.index("group") + 1
            hint = did_you_mean(note.group, groups) or GROUP_HINT
            issues.append(
                Issue(
                    f"group: no column `{note.group}` to group the data by",
                    display,
                    line,
                    column,
                    hint=hint,
                )
            )
            continue
        notes.append(note)
    if issues:
        total = len(issues)
        raise DataError(f"{display}: {total} problem(s) in the annotations", issues[:MAX_ERRORS])
    return notes


TRUE, FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


def _typed(row: dict[str, str]) -> dict[str, object]:
    """Cells as the model's input: empty means null; `exclude` as a boolean word."""
    out: dict[str, object] = {c: (v if v.strip() else None) for c, v in row.items()}
    if "text" in out and out["text"] is None:
        out["text"] = ""  # the model says it is empty
    if "exclude" in row:
        word = row["exclude"].strip().lower()
        if word not in TRUE | FALSE:
            raise ValueError(f"exclude: `{row['exclude']}` is not true or false")
        out["exclude"] = word in TRUE
    return out


def _located(
    exc: Exception, row: dict[str, str], columns: list[str], display: str, line: int
) -> list[Issue]:
    """One issue per field the model refused, at its column."""
    if not isinstance(exc, ValidationError):
        column = columns.index("exclude") + 1 if "exclude" in columns else None
        return [Issue(str(exc), display, line, column, hint="write true or false")]
    issues = []
    for error in exc.errors():
        field = str(error["loc"][0]) if error["loc"] else ""
        name = "from" if field == "from_" else field
        column = columns.index(name) + 1 if name in columns else None
        message = str(error["msg"]).removeprefix("Value error, ")
        value = row.get(name)
        said = f"{name}: `{value}`: {message}" if name and value else message
        if value and f"`{value}`" in message:
            said = f"{name}: {message}"
        hint = None
        if name == "kind":
            kinds = ", ".join(ANNOTATION_KINDS)
            hint = did_you_mean(value or "", ANNOTATION_KINDS) or f"kind is one of {kinds}"
            said = f"kind: `{value}` is not a kind of note (one of {kinds})"
        issues.append(Issue(said, display, line, column, hint=hint))
    return issues


def append(project: Definitions, note: Annotation) -> Path:
    """Add `note` to the project's annotations file, creating it with its header; the file
    is replaced atomically and its existing rows are kept byte for byte. Runs at once take
    turns (tpmkit/locks.py): none loses another's row."""
    path = store_path(project)
    with exclusive(path):
        return _append(project, note, path)


def _append(project: Definitions, note: Annotation, path: Path) -> Path:
    """The read-modify-write of `append`, under its lock."""
    separator = _separator(project)
    if path.exists():
        existing = path.read_text(encoding=_encoding(project))
        read(project)  # a broken file is reported before anything is added to it
        header = next(csv.reader(io.StringIO(existing, newline=""), delimiter=separator), [])
        reverse = {v: k for k, v in _names(project).items()}
        columns = [_names(project).get(c.strip(), c.strip()) for c in header]
        if not header:
            existing, columns = "", list(HEADER)
        written = [reverse.get(c, c) for c in columns]
    else:
        existing, columns = "", list(HEADER)
        written = columns
    cells = note.row()
    missing = [c for c in HEADER if cells[c] and c not in columns]
    if missing:
        raise UsageError(
            f"{path} has no column {', '.join(f'`{c}`' for c in missing)}",
            [Issue("add the column(s) to its header, then annotate again", str(path), 1)],
        )
    out = io.StringIO()
    writer = csv.writer(out, delimiter=separator, lineterminator="\n")
    if not existing:
        writer.writerow(written)
    elif not existing.endswith(("\n", "\r")):
        existing += "\n"
    writer.writerow([_neutral(cells[c]) for c in columns])
    with atomic_path(path) as tmp:
        tmp.write_text(existing + out.getvalue(), encoding=_encoding(project), newline="")
    return path
