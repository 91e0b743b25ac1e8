"""`tpmkit scorecard` and `tpmkit report`: judged views of one period."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from tpmkit.cli import notifications
from tpmkit.cli.notifications import DryRunOption, NotifyOption
from tpmkit.cli.options import (
    DEFAULT_PROJECT,
    CacheDirOption,
    EngineOption,
    MetricsArgument,
    NoCacheOption,
    NowOption,
    PeriodOption,
    ProjectOption,
    QuietOption,
    RecordOption,
    WhyOption,
    WideOption,
    cache_choice,
    loaded_project,
    notes_to_stderr,
    record_run,
    split,
    writable,
)
from tpmkit.errors import ExitCode, Issue, UsageError


class ScorecardFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def scorecard(
    project: ProjectOption = DEFAULT_PROJECT,
    role: Annotated[str, typer.Option(help="Whose scorecard (default: agent).")] = "agent",
    period: Annotated[str, typer.Option(help="day, week (ISO), month, quarter or year.")] = "month",
    at: Annotated[
        str, typer.Option(help="The period: latest (complete) or a label such as 2026-10.")
    ] = "latest",
    by: Annotated[list[str] | None, typer.Option(help="Who is scored (default: agent_id).")] = None,
    baseline_periods: Annotated[
        int,
        typer.Option(min=1, help="Each agent's baseline: the first N periods of the data."),
    ] = 3,
    output_format: Annotated[
        ScorecardFormat, typer.Option("--format", "-f", help="Output format.")
    ] = ScorecardFormat.table,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file (atomically).")
    ] = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    engine: EngineOption = None,
    wide: WideOption = False,
) -> None:
    """Balanced scorecard: weighted score per agent (lowest first), points per metric,
    evidence against target, and the coaching list per team lead."""
    from tpmkit.judge import scorecard as scoring

    writable(output)
    with loaded_project(project, quiet, engine) as (loaded, step):
        result = loaded.scorecard(
            role=role,
            period=period,
            at=at,
            by=split(by) or ["agent_id"],
            baseline_periods=baseline_periods,
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
        )
    if not quiet:
        notes_to_stderr(result.notes)
    if output_format is ScorecardFormat.table:
        from tpmkit.render.console import print_scorecard

        print_scorecard(result, {m: d.spec.name for m, d in loaded.metrics.items()}, wide)
        return
    from tpmkit.render import files

    records = scoring.frame(result)
    text = (
        files.to_json(records) if output_format is ScorecardFormat.json else files.to_csv(records)
    )
    if output is None:
        sys.stdout.write(text)
    else:
        files.write(text, output)


class ReportFormat(StrEnum):
    html = "html"
    markdown = "markdown"


def report(
    metric: MetricsArgument = None,
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="The report file; `{period}` in the name is replaced by the period's label "
            "(e.g. reports/{period}.html).",
        ),
    ] = Path("report.html"),
    project: ProjectOption = DEFAULT_PROJECT,
    period: PeriodOption = "week",
    last: Annotated[int, typer.Option(help="Periods shown in each chart.")] = 8,
    at: Annotated[
        str, typer.Option(help="The period reported: latest (complete) or a label.")
    ] = "latest",
    role: Annotated[
        str | None,
        typer.Option(
            help="A role's view: agent, team_lead, quality_specialist, trainer, "
            "operations_manager, director."
        ),
    ] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(help="Group tables by these columns (default: the role view's)."),
    ] = None,
    cadence: Annotated[
        str | None,
        typer.Option(help="Only metrics reviewed at this rhythm: daily, weekly or monthly."),
    ] = None,
    agent: Annotated[
        str | None,
        typer.Option(help="With --role agent: one agent's own report (rows, scorecard, goals)."),
    ] = None,
    output_format: Annotated[
        ReportFormat | None,
        typer.Option("--format", "-f", help="html or markdown (default: from the file name)."),
    ] = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    engine: EngineOption = None,
    record: RecordOption = False,
    why: WhyOption = True,
    now: NowOption = None,
    notify: NotifyOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """A self-contained HTML or Markdown report of one period, for a role's view."""
    from tpmkit.atomic import write_text
    from tpmkit.judge.sources import run_time
    from tpmkit.report.document import to_html
    from tpmkit.report.markdown import to_markdown

    suffix = output.suffix.lower()
    if output_format is None and suffix not in (".html", ".htm", ".md", ".markdown"):
        raise UsageError(
            f"cannot tell the report format from `{output.name}`",
            [Issue("name the file .html or .md, or give --format html|markdown", severity="hint")],
        )
    fmt = output_format or (
        ReportFormat.markdown if suffix in (".md", ".markdown") else ReportFormat.html
    )
    with loaded_project(project, quiet, engine) as (loaded, step):
        notifications.check_targets(loaded, notify)
        result = loaded.report(
            metric or [],
            period=period,
            last=last,
            at=at,
            role=role,
            by=split(by),
            cadence=cadence,
            agent=agent,
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
            why=why,
            now=run_time(now, loaded.spec.timezone),
        )
        step("writing the report")
        text = to_html(result) if fmt is ReportFormat.html else to_markdown(result)
    target = _period_path(output, result.period)
    writable(target)
    write_text(target, text)
    if not quiet:
        notes_to_stderr(result.notes)
        typer.echo(f"wrote {target} ({result.period}, {len(result.cards)} metrics)", err=True)
    scope = {
        "metrics": metric or [],
        "period": period,
        "at": at,
        "role": role,
        "by": split(by),
        "cadence": cadence,
        "agent": agent,
    }
    done = notifications.notify(
        loaded, result, notify, dry_run=dry_run, scope=scope, quiet=quiet, report=target
    )
    if record:
        record_run(loaded, result.evaluation, "report", quiet, done.state())
    if done.failures:
        raise typer.Exit(int(ExitCode.USER_ERROR))


def _period_path(output: Path, label: str) -> Path:
    """`{period}` in the file name replaced by the label, kept to safe characters so the
    result stays in the folder the user chose."""
    import re

    if "{period}" not in str(output):
        return output
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", label)
    return (
        output.with_name(output.name.replace("{period}", safe))
        if "{period}" in output.name
        else Path(str(output).replace("{period}", safe))
    )
