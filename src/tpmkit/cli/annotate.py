"""`tpmkit annotate`: add a dated note to the project's annotations file."""

from __future__ import annotations

from typing import Annotated

import typer

from tpmkit.cli.options import DEFAULT_PROJECT, ProjectOption, QuietOption, loaded_project
from tpmkit.errors import UsageError


def annotate(
    text: Annotated[str, typer.Argument(help="The note, e.g. 'CRM slowdown'.")],
    start: Annotated[
        str,
        typer.Option(
            "--from",
            help="Start: a date (2026-10-05, its local midnight; alone, the whole day) or a "
            "timestamp (2026-10-05 14:00).",
        ),
    ],
    end: Annotated[
        str | None,
        typer.Option("--to", help="End (a date includes its day); none: a single day or instant."),
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="The metric it concerns (default: every metric).")
    ] = None,
    group: Annotated[
        str | None,
        typer.Option(help="The group it concerns, COLUMN=VALUE (e.g. team=Berlin Tech)."),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option(help="outage, holiday, process_change, data_issue or other."),
    ] = None,
    exclude: Annotated[
        bool,
        typer.Option(
            "--exclude",
            help="Keep the periods it touches out of trend fits, early warnings and control "
            "limits.",
        ),
    ] = False,
    project: ProjectOption = DEFAULT_PROJECT,
    quiet: QuietOption = False,
) -> None:
    """Add a dated note (an outage, a holiday) to annotations.csv beside tpmkit.yaml."""
    pair = None
    if group is not None:
        column, equals, value = group.partition("=")
        if not equals:
            raise UsageError(f"--group {group}: write COLUMN=VALUE, e.g. team=Berlin Tech")
        pair = {column.strip(): value.strip()}
    with loaded_project(project, quiet) as (loaded, _):
        note = loaded.annotate(
            text, start=start, end=end, metric=metric, group=pair, kind=kind, exclude=exclude
        )
    from tpmkit.annotations import store_path
    from tpmkit.render.console import stdout

    cells = note.row()
    when = cells["from"] + (f" – {cells['to']}" if cells["to"] else "")
    stdout().print(
        f"added to {store_path(loaded)}: {when}: {note.text}"
        + (" (excluded from fits and limits)" if note.exclude else ""),
        markup=False,
        highlight=False,
    )
