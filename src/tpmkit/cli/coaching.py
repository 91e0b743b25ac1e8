"""`tpmkit coaching`: did the coaching work (kpi-catalogue.md "Coaching effect")."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from tpmkit.cli.options import (
    DEFAULT_PROJECT,
    CacheDirOption,
    NoCacheOption,
    ProjectOption,
    QuietOption,
    WideOption,
    cache_choice,
    loaded_project,
    notes_to_stderr,
)


class CoachingFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def coaching(
    project: ProjectOption = DEFAULT_PROJECT,
    metric: Annotated[
        str | None,
        typer.Option(
            help="The coached metric (id or alias): only sessions on it, and it is the "
            "metric of sessions that name none."
        ),
    ] = None,
    coach: Annotated[str | None, typer.Option(help="Only this coach's sessions.")] = None,
    window: Annotated[int, typer.Option(min=1, help="Weeks before and after each session.")] = 4,
    output_format: Annotated[
        CoachingFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CoachingFormat.table,
    wide: WideOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
) -> None:
    """Each coaching session's effect against the team's uncoached agents, per coach and topic."""
    from tpmkit.render import coaching_table as render

    with loaded_project(project, quiet) as (loaded, step):
        found = loaded.coaching(
            metric=metric,
            coach=coach,
            window=window,
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
        )
    if not quiet and output_format is not CoachingFormat.table:  # the table ends with them
        notes_to_stderr(found.notes)
    if output_format is CoachingFormat.json:
        sys.stdout.write(render.to_json(found))
    elif output_format is CoachingFormat.markdown:
        sys.stdout.write(render.to_markdown(found))
    else:
        render.print_coaching(found, wide)
