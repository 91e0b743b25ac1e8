"""`tpmkit check`: the CI gate."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tpmkit.cli import notifications
from tpmkit.cli.notifications import DryRunOption, NotifyOption
from tpmkit.cli.options import (
    DEFAULT_PROJECT,
    ByOption,
    CacheDirOption,
    CheckFormat,
    EngineOption,
    NoCacheOption,
    NowOption,
    PeriodOption,
    ProjectOption,
    QuietOption,
    RecordOption,
    RoleOption,
    WhyOption,
    cache_choice,
    closed_pipe,
    loaded_project,
    notes_to_stderr,
    record_run,
    split,
    writable,
)
from tpmkit.errors import ExitCode


class FailOn(StrEnum):
    warning = "warning"
    critical = "critical"


def check(
    metric: Annotated[
        list[str] | None,
        typer.Argument(help="Metric ids or aliases to gate (default: all, or the role's view)."),
    ] = None,
    project: ProjectOption = DEFAULT_PROJECT,
    period: PeriodOption = "week",
    at: Annotated[
        str,
        typer.Option(
            help="The period to judge: latest (the latest complete one) or a label such as "
            "2026-W46 (also one still in progress)."
        ),
    ] = "latest",
    by: ByOption = None,
    role: RoleOption = None,
    fail_on: Annotated[
        FailOn | None,
        typer.Option(
            help="Fail from this status for every gated metric (default: each metric's "
            "`gate:`, else critical)."
        ),
    ] = None,
    gate: Annotated[
        list[str] | None,
        typer.Option(
            help="Per metric: METRIC=off|warning|critical (repeatable); wins over the "
            "metric file and --fail-on."
        ),
    ] = None,
    allow_no_data: Annotated[
        bool,
        typer.Option(
            help="Let a gated metric with no data or too small a sample pass (default: it fails)."
        ),
    ] = False,
    early_warning: Annotated[
        bool,
        typer.Option(
            help="With --fail-on warning: also fail a metric whose trend is projected to "
            "pass its warning threshold within 4 periods."
        ),
    ] = False,
    why: WhyOption = True,
    junit: Annotated[
        Path | None, typer.Option(help="Also write JUnit XML (one test per metric × group).")
    ] = None,
    github: Annotated[
        bool,
        typer.Option(
            help="Print GitHub workflow annotations and append a summary to $GITHUB_STEP_SUMMARY."
        ),
    ] = False,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="Output format.")
    ] = CheckFormat.table,
    now: NowOption = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    engine: EngineOption = None,
    record: RecordOption = False,
    notify: NotifyOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """The CI gate: judge the latest complete period; exit 1 when a gated metric fails."""
    from tpmkit.judge.gate import parse_gates
    from tpmkit.judge.sources import run_time
    from tpmkit.render import ci as report

    writable(junit, "--junit")
    with loaded_project(project, quiet, engine) as (loaded, step):
        notifications.check_targets(loaded, notify)
        result = loaded.check(
            metric or [],
            period=period,
            at=at,
            by=split(by),
            fail_on=fail_on.value if fail_on else None,
            allow_no_data=allow_no_data,
            early_warning=early_warning,
            gates=parse_gates(gate or [], loaded),
            role=role,
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
            why=why,
            now=run_time(now, loaded.spec.timezone),
        )
    if not quiet:
        notes_to_stderr(result.notes)
    try:
        if output_format is CheckFormat.json:
            sys.stdout.write(report.to_json(result))
        else:
            for line in report.lines(result):
                typer.echo(line)
        sys.stdout.flush()
    except BrokenPipeError:
        # `check | head`: the reader has gone, the gate has not — JUnit, notifications and
        # the history still happen and a breach still exits 1
        closed_pipe()
    if junit is not None:
        report.write_junit(result, loaded.spec.name, junit)
    if github:
        for line in report.github_annotations(result):
            typer.echo(line)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            report.append_summary(Path(summary), report.github_summary(result, loaded.spec.name))
    scope = {"metrics": metric or [], "period": period, "at": at, "by": split(by), "role": role}
    # with --format json, stdout is one JSON document: a dry run's message goes to stderr
    done = notifications.notify(
        loaded,
        result,
        notify,
        dry_run=dry_run,
        scope=scope,
        quiet=quiet,
        stream=sys.stderr if output_format is CheckFormat.json else None,
    )
    if record:
        record_run(loaded, result.evaluation, "check", quiet, done.state())
    if result.failed:
        raise typer.Exit(int(ExitCode.BREACH))  # a failed notification never hides a breach
    if done.failures:
        raise typer.Exit(int(ExitCode.USER_ERROR))
