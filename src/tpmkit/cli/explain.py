"""`tpmkit explain`: why a metric moved between two periods."""

from __future__ import annotations

import sys
from enum import StrEnum
from typing import Annotated

import typer

from tpmkit.cli.options import (
    DEFAULT_PROJECT,
    CacheDirOption,
    EngineOption,
    NoCacheOption,
    PeriodOption,
    ProjectOption,
    QuietOption,
    WideOption,
    cache_choice,
    loaded_project,
    notes_to_stderr,
    split,
)


class ExplainFormat(StrEnum):
    table = "table"
    json = "json"
    markdown = "markdown"


def explain(
    metric: Annotated[str, typer.Argument(help="The metric id or alias to explain.")],
    project: ProjectOption = DEFAULT_PROJECT,
    period: PeriodOption = "week",
    at: Annotated[
        str,
        typer.Option(
            help="The later period: latest (the latest complete one, as check) or a label "
            "such as 2026-W46."
        ),
    ] = "latest",
    vs: Annotated[
        str,
        typer.Option(
            help="The earlier period: previous, baseline (the period of the metric's "
            "baseline.as_of) or a label."
        ),
    ] = "previous",
    by: Annotated[
        list[str] | None,
        typer.Option(
            help="Dimensions to split by, comma separated (default: every one the data "
            "offer: vendor, site, team, queue, channel, … and the project's explain: "
            "dimensions)."
        ),
    ] = None,
    top: Annotated[
        int, typer.Option(min=1, help="Segments shown per dimension (JSON carries all).")
    ] = 5,
    drill: Annotated[
        bool,
        typer.Option(
            help="Follow the top segment down, one level at a time (site → team → agent)."
        ),
    ] = False,
    output_format: Annotated[
        ExplainFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ExplainFormat.table,
    wide: WideOption = False,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    engine: EngineOption = None,
) -> None:
    """Why a metric moved: its change split into mix and rate contributions by segment."""
    from tpmkit.render import explain_table as render

    with loaded_project(project, quiet, engine) as (loaded, step):
        found = loaded.explain(
            metric,
            period=period,
            at=at,
            vs=vs,
            by=split(by),
            drill=drill,
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
        )
    if not quiet:
        notes_to_stderr(found.notes)
    if output_format is ExplainFormat.json:
        sys.stdout.write(render.to_json(found))
    elif output_format is ExplainFormat.markdown:
        sys.stdout.write(render.to_markdown(found, top))
    else:
        render.print_explanation(found, top, wide)
