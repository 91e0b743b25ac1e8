"""What the commands share: option declarations, output formats, and the small steps
every command takes (split lists, parse dates, the cache choice, progress, notes)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from tpmkit.errors import UsageError


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"
    parquet = "parquet"


class OnBadRows(StrEnum):
    fail = "fail"
    quarantine = "quarantine"


ProjectOption = Annotated[
    Path, typer.Option("--project", "-p", help="Project file (or its folder).", show_default=True)
]
DEFAULT_PROJECT = Path("tpmkit.yaml")
NoCacheOption = Annotated[
    bool,
    typer.Option("--no-cache", help="Read CSV exports afresh; do not use or fill the CSV cache."),
]
CacheDirOption = Annotated[
    Path | None,
    typer.Option(
        envvar="TPMKIT_CACHE_DIR",
        help="Folder of the CSV cache (default: the project's `cache:`, .tpmkit/cache).",
    ),
]
PeriodOption = Annotated[
    str, typer.Option(help="hour, day, week (ISO), month, quarter, year or all.")
]
MetricsArgument = Annotated[
    list[str] | None,
    typer.Argument(help="Metric ids or aliases (default: all, or the role's view)."),
]
RecordOption = Annotated[
    bool, typer.Option(help="Also append this run's records to the project's history.")
]
WhyOption = Annotated[
    bool,
    typer.Option(
        "--why/--no-why",
        help="Name the top driver of each breach against the previous period "
        "(tpmkit explain; one evaluation per dimension, breaching metrics only).",
    ),
]
NowOption = Annotated[
    str | None,
    typer.Option(
        help="The run time, e.g. 2026-11-23T08:00 (project time zone unless an offset is "
        "given): the latest complete period is the one before it by the calendar, even when "
        "the data do not reach it, and the sources' freshness is measured to it (default: "
        "the wall clock, and the latest complete period the data reach)."
    ),
]


class EngineChoice(StrEnum):
    polars = "polars"
    duckdb = "duckdb"
    spark = "spark"
    postgres = "postgres"


EngineOption = Annotated[
    EngineChoice | None,
    typer.Option(
        "--engine",
        help="Where to compute: polars (the reference), duckdb, spark, or postgres (the "
        "project's `connection:`), through Ibis; default: the project's `engine:`.",
    ),
]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress display and no notes on stderr.")
]


WideOption = Annotated[
    bool, typer.Option("--wide", help="Every table column, however wide the terminal.")
]
ByOption = Annotated[
    list[str] | None, typer.Option(help="Group columns, comma separated (e.g. team).")
]
RoleOption = Annotated[
    str | None,
    typer.Option(
        help="Only the metrics of a role's view (agent, team_lead, quality_specialist, "
        "trainer, operations_manager, director)."
    ),
]


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


def split(values: list[str] | None) -> list[str]:
    """`--by a,b --by c` as [a, b, c], each once."""
    return list(dict.fromkeys(p.strip() for v in values or [] for p in v.split(",") if p.strip()))


def parse_date(value: str | None, option: str) -> dt.date | None:
    """A YYYY-MM-DD option as a date."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


def record_run(
    project: Any, result: Any, command: str, quiet: bool, state: dict[str, Any] | None = None
) -> None:
    """Append the run to the project's history (--record), with its notification state."""
    from tpmkit import history

    run_id = history.record(project, result, command, state)
    if not quiet:
        typer.echo(f"recorded run {run_id} in {history.folder(project)}", err=True)


@contextlib.contextmanager
def loaded_project(
    project: Path, quiet: bool, engine: EngineChoice | None = None
) -> Iterator[tuple[Any, Callable[[str], None]]]:
    """The loaded project (computed by `engine` when given) and the progress callback,
    inside the progress display."""
    from tpmkit.cli.startup import release
    from tpmkit.project import load

    with progress_display(quiet) as step:
        step("reading definitions")
        loaded = load(project)
        release()  # the start-up's objects (`tpmkit.cli.startup`)
        yield (loaded.with_engine(engine.value) if engine else loaded), step


def progress_display(quiet: bool) -> Any:
    """The progress display (rich is imported only when there is a terminal to show it)."""
    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(lambda step: None)
    from tpmkit.render.console import progress

    return progress(True)


def cache_choice(no_cache: bool, cache_dir: Path | None) -> Path | bool:
    """The library's `cache` argument from --no-cache and --cache-dir."""
    if no_cache:
        return False
    return cache_dir if cache_dir is not None else True


def writable(output: Path | None, option: str = "--output") -> None:
    """Fail before computing when the output cannot be written."""
    if output is None:
        return
    if output.is_dir():
        raise UsageError(f"{option} {output} is a folder; give a file name")
    blocking = next((p for p in output.parents if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        raise UsageError(f"cannot write {output}: {blocking} is a file, not a folder")
    folder = output.parent if str(output.parent) else Path(".")
    existing = next((p for p in [folder, *folder.parents] if p.exists()), Path("."))
    if not os.access(existing, os.W_OK):
        raise UsageError(f"cannot write {output}: no permission to write in {existing}")


def notes_to_stderr(notes: list[str]) -> None:
    """Each note as a `note:` line on stderr."""
    for note in notes:
        sys.stderr.write(f"note: {note}\n")


def closed_pipe() -> int:
    """After the reader of stdout has gone: send what is still buffered to /dev/null (so
    that the interpreter's last flush does not fail too) and return exit code 0."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 0
