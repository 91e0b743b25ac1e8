"""Commands over one evaluation's records: `evaluate`, `trend`, and `history` (records
recorded by earlier runs)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from tpmkit.cli.options import (
    DEFAULT_PROJECT,
    ByOption,
    CacheDirOption,
    CheckFormat,
    EngineOption,
    Format,
    MetricsArgument,
    NoCacheOption,
    OnBadRows,
    PeriodOption,
    ProjectOption,
    QuietOption,
    RecordOption,
    WideOption,
    cache_choice,
    loaded_project,
    notes_to_stderr,
    parse_date,
    record_run,
    split,
    writable,
)
from tpmkit.errors import UsageError


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
    last: Annotated[int | None, typer.Option(help="Each metric's last N periods only.")] = None,
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
    engine: EngineOption = None,
    record: RecordOption = False,
    wide: WideOption = False,
) -> None:
    """Compute metrics: one record per metric × period × group. In a table with no metric
    and no range, a one-screen summary of the latest complete period."""
    if output_format is Format.parquet and output is None:
        raise UsageError("--format parquet needs --output FILE")
    if output_format is Format.table and output is not None:
        raise UsageError(
            "a table is for the terminal; use --format markdown, csv or json with --output"
        )
    writable(output)
    with loaded_project(project, quiet, engine) as (loaded, step):
        result = loaded.evaluate(
            metric or [],
            period=period,
            by=split(by),
            start=parse_date(date_from, "--from"),
            end=parse_date(date_to, "--to"),
            last=last,
            role=role,
            on_bad_rows=on_bad_rows.value,
            rejects_dir=rejects,
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
        )
    if quiet:
        result.notes.clear()
    summary = not metric and date_from is None and date_to is None and last is None
    if output_format is Format.table:
        _print_table(result, loaded.spec.name, loaded.spec.currency, summary, wide)
    else:
        _render(result, loaded.spec.name, loaded.spec.currency, output_format, output)
    if record:
        record_run(loaded, result, "evaluate", quiet)


def _latest_complete(result: Any) -> tuple[dict[str, str], str] | None:
    """Per metric the period `check` would judge, and the common one; None when no period
    is complete yet (the summary then gives way to the full table)."""
    import datetime as dt
    from zoneinfo import ZoneInfo

    from tpmkit.judge import gate

    zone = ZoneInfo(result.timezone)
    specs = list(result.definitions.values())
    try:
        labels = gate.judged_periods(
            result.records, "latest", result, dt.datetime.now(zone), zone, specs
        )
    except UsageError:
        return None
    return labels, gate.common_period(labels)


def _print_table(result: Any, name: str, currency: str | None, summary: bool, wide: bool) -> None:
    from tpmkit.render.console import print_records, print_summary

    judged = _latest_complete(result) if summary and not result.records.is_empty() else None
    grain = "whole range" if result.grain == "all" else f"by {result.grain}"
    title = f"{name} — {grain}" + (f" × {', '.join(result.by)}" if result.by else "")
    if judged is None:
        print_records(result.records, result.by, title, result.notes, currency, result.names, wide)
        return
    labels, period = judged
    print_summary(
        result.records, labels, period, result.by, title, result.notes, currency, result.names, wide
    )


def _render(
    result: Any, name: str, currency: str | None, output_format: Format, output: Path | None
) -> None:
    from tpmkit.render import files

    notes_to_stderr(result.notes)
    if output_format is Format.parquet:  # an incremental run's records copied, not read
        assert output is not None
        files.write_parquet(result.held, output)
        return
    records = result.records
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


def trend(
    metric: Annotated[list[str], typer.Argument(help="Metric ids or aliases.")],
    project: ProjectOption = DEFAULT_PROJECT,
    period: Annotated[
        str, typer.Option(help="hour, day, week (ISO), month, quarter or year.")
    ] = "week",
    by: ByOption = None,
    last: Annotated[int, typer.Option(help="Periods in the sparkline.")] = 12,
    output_format: Annotated[
        CheckFormat, typer.Option("--format", "-f", help="table or json (the records).")
    ] = CheckFormat.table,
    no_cache: NoCacheOption = False,
    cache_dir: CacheDirOption = None,
    quiet: QuietOption = False,
    engine: EngineOption = None,
    wide: WideOption = False,
) -> None:
    """Series of a metric: sparkline, trend, early warning, target projection, control
    signals."""
    with loaded_project(project, quiet, engine) as (loaded, step):
        result = loaded.evaluate(
            metric,
            period=period,
            by=split(by),
            cache=cache_choice(no_cache, cache_dir),
            progress=step,
        )
    if not quiet:
        notes_to_stderr(result.notes)
    if output_format is CheckFormat.json:
        from tpmkit.render import files

        sys.stdout.write(files.to_json(result.records))
        return
    from tpmkit.render.console import print_trend

    grouping = f" × {', '.join(result.by)}" if result.by else ""
    title = f"{loaded.spec.name} — by {period}{grouping}"
    print_trend(result.records, result.by, last, title, wide, result.annotations)


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
    wide: WideOption = False,
) -> None:
    """Recorded runs; or a metric's recorded values (latest run wins, restatements shown)
    and how its definition changed, run by run."""
    from tpmkit import history as store
    from tpmkit import project as api
    from tpmkit.render.console import print_history, print_runs

    loaded = api.load(project)
    recorded = store.load(loaded)
    if metric is None:
        print_runs(recorded.runs, store.folder(loaded), wide)
        return
    metric_id = api.resolve_ids(loaded, [metric])[0]
    print_history(recorded, metric_id, ",".join(split(by)), period, wide)
