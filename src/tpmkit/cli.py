"""The `tpmkit` command line: parse options, call the library, render, return an exit code.

Heavy modules (polars, rich tables, the engine) are imported inside the commands so that
`tpmkit --help` stays fast.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import os
import sys
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from tpmkit import __version__
from tpmkit.errors import ExitCode, Issue, TpmkitError, UsageError

app = typer.Typer(
    name="tpmkit",
    help="Contact-center performance measures: KPIs and TPMs as YAML, computed on your exports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
metrics_app = typer.Typer(
    help="List the metric catalogue or show one definition.", no_args_is_help=True
)
app.add_typer(metrics_app, name="metrics")

_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])


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
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress display and no notes on stderr.")
]


def handled(func: F) -> F:
    """Turn library errors into a message and exit 2, and bugs into one line and exit 3."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except TpmkitError as exc:
            from tpmkit.render.console import print_error, print_issues

            print_error("error: " + exc.message)
            if exc.issues:
                print_issues(exc.issues)
            if exc.omitted:
                total = len(exc.issues) + exc.omitted
                print_error(f"  ... and {exc.omitted} more ({total} in all)")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except OSError as exc:  # a file or folder we were told to use cannot be used
            from tpmkit.render.console import print_error

            where = f" {exc.filename}" if exc.filename else ""
            reason = exc.strerror or str(exc)
            print_error(f"error: cannot use{where}: {reason}")
            print_error("  check the path and its permissions (is a folder in it a file?)")
            raise typer.Exit(int(ExitCode.USER_ERROR)) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            sys.stderr.write(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in tpmkit. Re-run with --debug for the traceback "
                "and report it.\n"
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tpmkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Contact-center performance measures: KPIs and TPMs as YAML, computed on your exports."""
    _state["debug"] = debug


def _split(values: list[str] | None) -> list[str]:
    """`--by a,b --by c` as [a, b, c], each once."""
    return list(dict.fromkeys(p.strip() for v in values or [] for p in v.split(",") if p.strip()))


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {value!r} is not a date; use YYYY-MM-DD") from None


@app.command("evaluate")
@handled
def evaluate_command(
    metric: MetricsArgument = None,
    project: ProjectOption = DEFAULT_PROJECT,
    period: PeriodOption = "week",
    date_from: Annotated[
        str | None,
        typer.Option("--from", help="First day (YYYY-MM-DD, inclusive, project time zone)."),
    ] = None,
    date_to: Annotated[
        str | None, typer.Option("--to", help="Last day (YYYY-MM-DD, inclusive).")
    ] = None,
    last: Annotated[int | None, typer.Option(help="Only the last N periods of the data.")] = None,
    by: Annotated[
        list[str] | None,
        typer.Option(
            help="Group columns, comma separated (e.g. team or agent_id,team); roster columns "
            "work on any dataset with agent_id."
        ),
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Only the metrics of a role's view: agent, team_lead, quality_specialist, "
            "trainer, operations_manager, director."
        ),
    ] = None,
    output_format: Annotated[
        Format, typer.Option("--format", "-f", help="Output format.")
    ] = Format.table,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file (atomically) instead of stdout."),
    ] = None,
    on_bad_rows: Annotated[
        OnBadRows,
        typer.Option(
            help="fail: stop on bad data (exit 2); quarantine: leave bad rows out, write them "
            "to a rejects file and count them."
        ),
    ] = OnBadRows.fail,
    rejects: Annotated[
        Path | None,
        typer.Option(
            help="Folder for rejects files (default: .tpmkit/rejects beside the project)."
        ),
    ] = None,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    record: RecordOption = False,
) -> None:
    """Compute metrics: one record per metric × period × group."""
    from tpmkit import project as api

    if output_format is Format.parquet and output is None:
        raise UsageError("--format parquet needs --output FILE")
    if output_format is Format.table and output is not None:
        raise UsageError(
            "a table is for the terminal; use --format markdown, csv or json with --output"
        )
    _writable(output)
    with _loaded(project, quiet) as (loaded, step):
        result = api.evaluate(
            loaded,
            metric or [],
            period=period,
            by=_split(by),
            date_from=_date(date_from, "--from"),
            date_to=_date(date_to, "--to"),
            last=last,
            role=role,
            on_bad_rows=on_bad_rows.value,
            rejects_dir=rejects,
            cache=_cache(no_cache, cache_dir),
            progress=step,
        )
    if quiet:
        result.notes.clear()
    _render(result, loaded.spec.name, loaded.spec.currency, output_format, output)
    if record:
        _record(loaded, result, "evaluate", quiet)


def _record(project: Any, result: Any, command: str, quiet: bool) -> None:
    from tpmkit import history

    run_id = history.record(project, result, command)
    if not quiet:
        typer.echo(f"recorded run {run_id} in {history.folder(project)}", err=True)


@contextlib.contextmanager
def _loaded(project: Path, quiet: bool) -> Iterator[tuple[Any, Callable[[str], None]]]:
    """The loaded project and the progress callback, inside the progress display."""
    from tpmkit import project as api

    with _progress(quiet) as step:
        step("reading definitions")
        yield api.load(project), step


def _progress(quiet: bool) -> Any:
    """The progress display (rich is imported only when there is a terminal to show it)."""
    if quiet or not sys.stderr.isatty():
        return contextlib.nullcontext(lambda step: None)
    from tpmkit.render.console import progress

    return progress(True)


def _cache(no_cache: bool, cache_dir: Path | None) -> Path | bool:
    if no_cache:
        return False
    return cache_dir if cache_dir is not None else True


def _render(
    result: Any, name: str, currency: str | None, output_format: Format, output: Path | None
) -> None:
    from tpmkit.render import files

    records = result.records
    if output_format is Format.table:
        from tpmkit.render.console import print_records

        grain = "whole range" if result.grain == "all" else f"by {result.grain}"
        title = f"{name} — {grain}" + (f" × {', '.join(result.by)}" if result.by else "")
        print_records(records, result.by, title, result.notes, currency, result.names)
        return
    _notes_to_stderr(result.notes)
    if output_format is Format.parquet:
        assert output is not None
        files.write_parquet(records, output)
        return
    if output_format is Format.json:
        text = files.to_json(records)
    elif output_format is Format.csv:
        text = files.to_csv(records)
    else:
        text = files.to_markdown(records, result.by, currency, result.notes, title=name)
    if output is None:
        sys.stdout.write(text)
    else:
        files.write(text, output)


def _writable(output: Path | None, option: str = "--output") -> None:
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


def _notes_to_stderr(notes: list[str]) -> None:
    for note in notes:
        sys.stderr.write(f"note: {note}\n")


@app.command()
@handled
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


class FailOn(StrEnum):
    warning = "warning"
    critical = "critical"


class CheckFormat(StrEnum):
    table = "table"
    json = "json"


@app.command()
@handled
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
    by: Annotated[
        list[str] | None, typer.Option(help="Group columns, comma separated (e.g. team).")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            help="Only the metrics of a role's view (agent, team_lead, quality_specialist, "
            "trainer, operations_manager, director)."
        ),
    ] = None,
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
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    record: RecordOption = False,
) -> None:
    """The CI gate: judge the latest complete period; exit 1 when a gated metric fails."""
    from tpmkit.judge import gate as gating
    from tpmkit.render import ci as report

    _writable(junit, "--junit")
    with _loaded(project, quiet) as (loaded, step):
        result = gating.check(
            loaded,
            metric or [],
            period=period,
            at=at,
            by=_split(by),
            fail_on=fail_on.value if fail_on else None,
            allow_no_data=allow_no_data,
            early_warning=early_warning,
            gates=gating.parse_gates(gate or [], loaded),
            role=role,
            cache=_cache(no_cache, cache_dir),
            progress=step,
        )
    if not quiet:
        _notes_to_stderr(result.notes)
    if output_format is CheckFormat.json:
        sys.stdout.write(report.to_json(result))
    else:
        for line in report.lines(result):
            typer.echo(line)
    if junit is not None:
        report.write_junit(result, loaded.spec.name, junit)
    if github:
        for line in report.github_annotations(result):
            typer.echo(line)
        summary = os.environ.get("GITHUB_STEP_SUMMARY")
        if summary:
            report.append_summary(Path(summary), report.github_summary(result, loaded.spec.name))
    if record:
        _record(loaded, result.evaluation, "check", quiet)
    if result.failed:
        raise typer.Exit(int(ExitCode.BREACH))


@app.command()
@handled
def trend(
    metric: Annotated[list[str], typer.Argument(help="Metric ids or aliases.")],
    project: ProjectOption = DEFAULT_PROJECT,
    period: Annotated[
        str, typer.Option(help="hour, day, week (ISO), month, quarter or year.")
    ] = "week",
    by: Annotated[
        list[str] | None, typer.Option(help="Group columns, comma separated (e.g. team).")
    ] = None,
    last: Annotated[int, typer.Option(help="Periods in the sparkline.")] = 12,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="table or json (the records).")
    ] = CheckFormat.table,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
) -> None:
    """Series of a metric: sparkline, trend, early warning, target projection, control
    signals."""
    from tpmkit import project as api

    with _loaded(project, quiet) as (loaded, step):
        result = api.evaluate(
            loaded,
            metric,
            period=period,
            by=_split(by),
            cache=_cache(no_cache, cache_dir),
            progress=step,
        )
    if not quiet:
        _notes_to_stderr(result.notes)
    if output_format is CheckFormat.json:
        from tpmkit.render import files

        sys.stdout.write(files.to_json(result.records))
        return
    from tpmkit.render.console import print_trend

    grouping = f" × {', '.join(result.by)}" if result.by else ""
    print_trend(result.records, result.by, last, f"{loaded.spec.name} — by {period}{grouping}")


@app.command()
@handled
def history(
    metric: Annotated[
        str | None, typer.Argument(help="A metric: its recorded values and definition changes.")
    ] = None,
    project: ProjectOption = DEFAULT_PROJECT,
    by: Annotated[
        list[str] | None,
        typer.Option(help="Only values recorded with this grouping (e.g. team)."),
    ] = None,
    period: Annotated[str | None, typer.Option(help="Only this grain (e.g. week).")] = None,
) -> None:
    """Recorded runs; or a metric's recorded values (latest run wins, restatements shown)
    and how its definition changed, run by run."""
    from tpmkit import history as store
    from tpmkit import project as api
    from tpmkit.render.console import print_history, print_runs

    loaded = api.load(project)
    recorded = store.load(loaded)
    if metric is None:
        print_runs(recorded.runs, store.folder(loaded))
        return
    metric_id = api.resolve_ids(loaded, [metric])[0]
    print_history(recorded, metric_id, ",".join(_split(by)), period)


class ScorecardFormat(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


@app.command()
@handled
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
) -> None:
    """Balanced scorecard: weighted score per agent (lowest first), points per metric,
    evidence against target, and the coaching list per team lead."""
    from tpmkit.judge import scorecard as scoring

    _writable(output)
    with _loaded(project, quiet) as (loaded, step):
        result = scoring.build(
            loaded,
            role=role,
            period=period,
            at=at,
            by=_split(by) or ["agent_id"],
            baseline_periods=baseline_periods,
            cache=_cache(no_cache, cache_dir),
            progress=step,
        )
    if not quiet:
        _notes_to_stderr(result.notes)
    if output_format is ScorecardFormat.table:
        from tpmkit.render.console import print_scorecard

        print_scorecard(result, {m: d.spec.name for m, d in loaded.metrics.items()})
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


@app.command()
@handled
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
    record: RecordOption = False,
) -> None:
    """A self-contained HTML or Markdown report of one period, for a role's view."""
    from tpmkit.atomic import write_text
    from tpmkit.report.build import build
    from tpmkit.report.document import to_html, to_markdown

    suffix = output.suffix.lower()
    if output_format is None and suffix not in (".html", ".htm", ".md", ".markdown"):
        raise UsageError(
            f"cannot tell the report format from `{output.name}`",
            [Issue("name the file .html or .md, or give --format html|markdown", severity="hint")],
        )
    fmt = output_format or (
        ReportFormat.markdown if suffix in (".md", ".markdown") else ReportFormat.html
    )
    with _loaded(project, quiet) as (loaded, step):
        result = build(
            loaded,
            metric or [],
            period=period,
            last=last,
            at=at,
            role=role,
            by=_split(by),
            cadence=cadence,
            agent=agent,
            cache=_cache(no_cache, cache_dir),
            progress=step,
        )
        step("writing the report")
        text = to_html(result) if fmt is ReportFormat.html else to_markdown(result)
    target = _period_path(output, result.period)
    _writable(target)
    write_text(target, text)
    if not quiet:
        _notes_to_stderr(result.notes)
        typer.echo(f"wrote {target} ({result.period}, {len(result.cards)} metrics)", err=True)
    if record:
        _record(loaded, result.evaluation, "report", quiet)


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


class SchemaKind(StrEnum):
    project = "project"
    metric = "metric"


@app.command()
@handled
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
        _writable(output)
        from tpmkit.atomic import write_text

        write_text(output, text)


def _project_or_builtin(project: Path) -> Any:
    """The project, or the built-in catalogue alone when there is no project file."""
    from tpmkit import project as api

    if project == DEFAULT_PROJECT and not project.exists():
        from tpmkit.spec.loader import catalogue_project

        return catalogue_project()
    return api.load(project)


@metrics_app.command("list")
@handled
def metrics_list(
    project: ProjectOption = DEFAULT_PROJECT,
    role: Annotated[str | None, typer.Option(help="Only this role's view.")] = None,
) -> None:
    """The metrics of the project (or the built-in catalogue when there is no project)."""
    from tpmkit import project as api
    from tpmkit.render.console import print_catalogue

    loaded = _project_or_builtin(project)
    print_catalogue(api.select(loaded, (), role))


@metrics_app.command("show")
@handled
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


@app.command()
@handled
def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the project.")] = Path("."),
    example: Annotated[
        bool,
        typer.Option("--example", help="Copy the bundled contact-center example with its data."),
    ] = False,
    force: Annotated[bool, typer.Option(help="Overwrite an existing tpmkit.yaml.")] = False,
) -> None:
    """Create a project: a starter tpmkit.yaml, or the full example with --example."""
    from tpmkit.scaffold import create

    created = create(directory, example=example, force=force)
    typer.echo(f"created {created}")
    typer.echo(f"next: tpmkit evaluate -p {created}")


def main() -> None:
    """Console-script entry point."""
    app()
