"""A new annotation from the caller's words (`tpmkit annotate`, `Project.annotate`),
checked against the project before it is appended."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from pydantic import ValidationError

from tpmkit.annotations.model import Annotation, moment
from tpmkit.annotations.store import GROUP_HINT, append
from tpmkit.contract import ANNOTATION_KINDS
from tpmkit.errors import UsageError, did_you_mean
from tpmkit.spec.loader import Definitions

When = str | dt.date | dt.datetime


def _when(parameter: str, given: When | None) -> dt.date | dt.datetime | None:
    if given is None:
        return None
    try:
        return moment(given)
    except ValueError as exc:
        raise UsageError(f"annotation {parameter}: {exc}") from None


def annotate(
    project: Definitions,
    text: str,
    *,
    start: When,
    end: When | None = None,
    metric: str | None = None,
    group: Mapping[str, str] | None = None,
    kind: str | None = None,
    exclude: bool = False,
    groups: set[str] | None = None,
) -> Annotation:
    """Append a note to the project's annotations file (created with its header) and
    return it; a date-only `start` without `end` is that whole day, a date-only `end`
    includes its day."""
    first, last = _when("start", start), _when("end", end)
    if metric is not None and metric not in project.metrics and metric not in project.aliases:
        hint = did_you_mean(metric, [*project.metrics, *project.aliases])
        raise UsageError(f"annotation metric: no metric `{metric}`" + (f"; {hint}" if hint else ""))
    if kind is not None and kind not in ANNOTATION_KINDS:
        hint = did_you_mean(kind, ANNOTATION_KINDS)
        raise UsageError(
            f"annotation kind: `{kind}` is not a kind of note; "
            f"use one of {', '.join(ANNOTATION_KINDS)}" + (f" ({hint})" if hint else "")
        )
    pairs = list((group or {}).items())
    if len(pairs) > 1:
        raise UsageError("annotation group: one column and value, e.g. team=Berlin Tech")
    column, value = pairs[0] if pairs else (None, None)
    if column is not None and (not str(column).strip() or not str(value).strip()):
        raise UsageError("annotation group: give a column and a value, e.g. team=Berlin Tech")
    known = groups or set()
    if column is not None and groups is not None and column not in known:
        hint = did_you_mean(str(column), known) or GROUP_HINT
        raise UsageError(f"annotation group: no column `{column}` to group the data by; {hint}")
    try:
        note = Annotation.model_validate(
            {
                "from": first,
                "to": last,
                "text": text,
                "kind": kind,
                "metric": metric,
                "group": column,
                "value": value,
                "exclude": exclude,
            }
        )
    except ValidationError as exc:
        message = "; ".join(
            ".".join(str(p) for p in e["loc"]) + ": " + str(e["msg"]).removeprefix("Value error, ")
            if e["loc"]
            else str(e["msg"]).removeprefix("Value error, ")
            for e in exc.errors()
        )
        if "is before" in message:
            raise UsageError(f"end {end} is before start {start}") from None
        raise UsageError(f"annotation {message}") from None
    append(project, note)
    return note
