"""The hook between annotations and completeness: the local days a `holiday` annotation
covers are exempt from the completeness check (a bank holiday's few rows are not a
truncated export).

Annotations are read only when the project has them: an `annotations` source in
tpmkit.yaml, or `annotations.csv` beside it (columns `from`, `to`, `kind`, as in the data
contract; a date means its local midnight). A project without annotations has no
exempt days."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl

from tpmkit.spec.models import ProjectSpec, Source

ANNOTATIONS = "annotations"
HOLIDAY = "holiday"
COLUMNS = ("from", "to", "kind")

__all__ = ["annotations_source", "covered_days", "holiday_days"]


def annotations_source(spec: ProjectSpec, root: Path) -> Source | None:
    """The project's annotations: its `annotations` source, else annotations.csv beside
    the project file, else None."""
    if ANNOTATIONS in spec.sources:
        return spec.sources[ANNOTATIONS]
    beside = root / f"{ANNOTATIONS}.csv"
    return Source(path=beside.name) if beside.is_file() else None


def holiday_days(spec: ProjectSpec, root: Path) -> set[dt.date]:
    """The local days covered by a `holiday` annotation (empty without annotations)."""
    from tpmkit.data.load import load_dataset

    source = annotations_source(spec, root)
    if source is None:
        return set()
    # typed here too, so the hook reads them the same with or without a contract entry
    types = {"from": "timestamp", "to": "timestamp", **source.types}
    typed = source.model_copy(update={"types": types})
    dataset = load_dataset(ANNOTATIONS, typed, root, spec.timezone, set(COLUMNS))
    return covered_days(dataset.frame, ZoneInfo(spec.timezone))


def covered_days(frame: pl.DataFrame, zone: ZoneInfo) -> set[dt.date]:
    """The local days that the rows of kind `holiday` cover: from the day of `from` to the
    day of `to` (an end at exactly midnight does not reach into that day; no `to`: the day
    of `from` alone)."""
    if "kind" not in frame.columns or "from" not in frame.columns:
        return set()
    end = pl.col("to") if "to" in frame.columns else pl.lit(None)
    spans = (
        frame.lazy()
        .filter(pl.col("kind").cast(pl.String).str.strip_chars().str.to_lowercase() == HOLIDAY)
        .select(pl.col("from").alias("start"), end.alias("end"))
        .filter(pl.col("start").is_not_null())
        .collect()
    )
    days: set[dt.date] = set()
    for start, stop in spans.iter_rows():  # a few annotations, not data rows
        first = _local(start, zone)
        last = _local(stop, zone) if stop is not None else first
        if last > first and last.time() == dt.time() and stop is not None:
            last -= dt.timedelta(microseconds=1)
        day = first.date()
        while day <= last.date():
            days.add(day)
            day += dt.timedelta(days=1)
    return days


def _local(value: dt.datetime | dt.date, zone: ZoneInfo) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value.astimezone(zone) if value.tzinfo else value.replace(tzinfo=zone)
    return dt.datetime.combine(value, dt.time(), zone)
