"""Commands about the definitions: `validate`, `schema`, `metrics list|show`, `init`."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from tpmkit.cli.options import DEFAULT_PROJECT, ProjectOption, WideOption, writable
from tpmkit.errors import ExitCode


def validate(
    project: ProjectOption = DEFAULT_PROJECT,
    strict: Annotated[bool, typer.Option(help="Treat warnings as errors.")] = False,
    rows: Annotated[
        int,
        typer.Option(
            min=0,
            help="Check data values on the first ROWS rows of each export (0: every row).",
        ),
    ] = 10_000,
) -> None:
    """Check the project file, metric files and data exports; report every problem."""
    from tpmkit import project as api
    from tpmkit.render.console import print_issues

    issues = api.validate(project, rows or None)
    errors = [i for i in issues if i.severity == "error" or (strict and i.severity == "warning")]
    if issues:
        print_issues(issues, f"{len(errors)} error(s), {len(issues) - len(errors)} warning(s)")
    if errors:
        raise typer.Exit(int(ExitCode.USER_ERROR))
    typer.echo(f"{project}: ok" + (f" ({len(issues)} warning(s))" if issues else ""))


class SchemaKind(StrEnum):
    project = "project"
    metric = "metric"


def schema(
    kind: Annotated[
        SchemaKind, typer.Argument(help="project (tpmkit.yaml) or metric (metric files).")
    ] = SchemaKind.metric,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
    ] = None,
) -> None:
    """JSON Schema of project or metric files, for editors and review tools."""
    from tpmkit.spec.schema import schema_text

    text = schema_text(kind.value)
    if output is None:
        sys.stdout.write(text)
    else:
        writable(output)
        from tpmkit.atomic import write_text

        write_text(output, text)


def _project_or_builtin(project: Path) -> Any:
    """The project, or the built-in catalogue alone when there is no project file."""
    from tpmkit import project as api

    if project == DEFAULT_PROJECT and not project.exists():
        from tpmkit.spec.loader import catalogue_project

        return catalogue_project()
    return api.load(project)


def metrics_list(
    project: ProjectOption = DEFAULT_PROJECT,
    role: Annotated[str | None, typer.Option(help="Only this role's view.")] = None,
    wide: WideOption = False,
) -> None:
    """The metrics of the project (or the built-in catalogue when there is no project)."""
    from tpmkit import project as api
    from tpmkit.render.console import print_catalogue

    loaded = _project_or_builtin(project)
    print_catalogue(api.select(loaded, (), role), wide)


def metrics_show(
    metric_id: Annotated[str, typer.Argument(help="Metric id or alias.")],
    project: ProjectOption = DEFAULT_PROJECT,
) -> None:
    """One metric's definition: formula, owner, thresholds, where it is defined."""
    from tpmkit import project as api
    from tpmkit.render.console import print_metric

    loaded = _project_or_builtin(project)
    (resolved,) = api.resolve_ids(loaded, [metric_id])
    print_metric(loaded.metrics[resolved])


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    example: Annotated[
        bool,
        typer.Option("--example", help="Copy the bundled contact-center example with its data."),
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing tpmkit.yaml.")] = False,
) -> None:
    """Create a project: a starter tpmkit.yaml, or the full example with --example."""
    from tpmkit.scaffold import create, next_steps

    created = create(directory, example=example, force=force)
    typer.echo(f"created {created}")
    for line in next_steps(created, example=example):
        typer.echo(line)
