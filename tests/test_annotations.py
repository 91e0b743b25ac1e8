"""Annotations (issue 20 item 3): the annotations.csv file and `tpmkit annotate`, the time a
note covers, located errors, CSV formula injection, and `exclude: true` keeping a period
out of trend fits, early warnings and control limits — on hand-computed series."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from tpmkit import project as api
from tpmkit.annotations import Annotation, spans
from tpmkit.cli.app import app
from tpmkit.engine import signals
from tpmkit.engine.notes import mark_excluded, notes_by_record
from tpmkit.engine.trend import add_slope, trend
from tpmkit.errors import DataError, UsageError
from tpmkit.judge.scorecard import baseline_need
from tpmkit.records import Evaluation

runner = CliRunner()
BERLIN = ZoneInfo("Europe/Berlin")
START = dt.datetime(2026, 1, 5, tzinfo=BERLIN)  # Monday of 2026-W02

PROJECT = """\
name: notes
timezone: Europe/Berlin
metrics: [builtin]
sources:
  calls: {path: calls.csv}
"""


def weekly_calls(talks: list[int]) -> str:
    """One answered call each Monday 09:00 from 2026-W02, with the given talk seconds:
    each week's AHT is that call's talk time."""
    lines = ["contact_id,offered_at,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds"]
    for i, talk in enumerate(talks):
        day = dt.date(2026, 1, 5) + dt.timedelta(weeks=i)
        lines.append(f"C{i},{day} 09:00:00,true,5,{talk},0,0")
    return "\n".join(lines) + "\n"


# -- what a note covers ------------------------------------------------------------


def test_a_date_alone_is_its_whole_local_day_and_a_date_only_to_includes_its_day():
    day = Annotation.model_validate({"from": "2026-03-29", "text": "summer time starts"})
    start, end = day.bounds("Europe/Berlin")
    assert (start, end) == (
        dt.datetime(2026, 3, 29, tzinfo=BERLIN),
        dt.datetime(2026, 3, 30, tzinfo=BERLIN),
    )
    assert end.timestamp() - start.timestamp() == 23 * 3600  # the short day of summer time
    week = Annotation.model_validate({"from": "2026-10-05", "to": "2026-10-11", "text": "x"})
    assert week.bounds("Europe/Berlin")[1] == dt.datetime(2026, 10, 12, tzinfo=BERLIN)
    instant = Annotation.model_validate({"from": "2026-10-05 14:00", "text": "x"})
    first, last = instant.bounds("Europe/Berlin")
    assert last - first == dt.timedelta(microseconds=1)  # a single instant
    until = Annotation.model_validate(
        {"from": "2026-10-05 14:00", "to": "2026-10-05 16:30", "text": "x"}
    )
    assert until.bounds("UTC")[1] == dt.datetime(2026, 10, 5, 16, 30, 0, 1, tzinfo=dt.UTC)
    with pytest.raises(ValueError, match="before"):
        Annotation.model_validate({"from": "2026-10-05", "to": "2026-10-04", "text": "x"})


def test_notes_touch_the_records_of_their_periods_metric_and_group():
    weeks = [START + dt.timedelta(weeks=i) for i in range(3)]
    records = pl.DataFrame(
        {
            "metric": ["aht", "aht", "aht", "csat", "aht", "aht"],
            "team": ["Berlin", "Berlin", "Berlin", "Berlin", "Lisbon", "Lisbon"],
            "period_start": [weeks[0], weeks[1], weeks[2], weeks[1], weeks[1], weeks[2]],
            "period": ["W02", "W03", "W04", "W03", "W03", "W04"],
        }
    ).with_columns(
        pl.col("period_start").cast(pl.Datetime("us", "Europe/Berlin")),
        (pl.col("period_start").cast(pl.Datetime("us", "Europe/Berlin")).dt.offset_by("1w")).alias(
            "period_end"
        ),
    )
    notes = [
        # Sunday of W03 (its last day): touches W03 only
        Annotation.model_validate({"from": "2026-01-18", "text": "sunday", "metric": "aht"}),
        # W04's Monday, Berlin only, excluded
        Annotation.model_validate(
            {
                "from": "2026-01-19 08:00",
                "text": "outage",
                "group": "team",
                "value": "Berlin",
                "exclude": True,
            }
        ),
    ]
    table = spans(notes, "Europe/Berlin")
    found = notes_by_record(records, table, ["team"]).to_dicts()
    assert [(r["metric"], r["team"], r["period"], r["notes"]) for r in found] == [
        ("aht", "Berlin", "W03", ["sunday"]),
        ("aht", "Berlin", "W04", ["outage (excluded)"]),
        ("aht", "Lisbon", "W03", ["sunday"]),
    ]
    marked = mark_excluded(records, table, ["team"]).get_column("__excluded").to_list()
    assert marked == [False, False, True, False, False, False]
    # ungrouped records are the whole center's: a note on one team does not mark them
    whole = records.filter(pl.col("team") == "Berlin").drop("team")
    assert not any(mark_excluded(whole, table, []).get_column("__excluded"))


# -- exclude: out of fits, warnings and control limits -----------------------------


def series(values: list[float], excluded: set[int] = frozenset()) -> pl.DataFrame:
    """A weekly lower-is-better series (warning 100, critical 200) through the engine's
    trend and signal steps, with the weeks at `excluded` positions annotated `exclude`."""
    rows = []
    for i, value in enumerate(values):
        start = dt.datetime(2026, 1, 5, tzinfo=dt.UTC) + dt.timedelta(weeks=i)
        rows.append(
            {
                "metric": "m",
                "period_start": start,
                "period_end": start + dt.timedelta(weeks=1),
                "value": float(value),
                "direction": "lower_is_better",
                "status": "ok",
                "warning": 100.0,
                "warning_upper": None,
                "critical": 200.0,
                "critical_upper": None,
                "target": None,
                "target_upper": None,
                "target_is_band": False,
                "target_by": None,
                "baseline": None,
            }
        )
    frame = pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col("period_start", "period_end").cast(pl.Datetime("us", "UTC")),
        pl.col("target_by").cast(pl.Date),
        *(
            pl.col(c).cast(pl.Float64)
            for c in ("warning_upper", "critical_upper", "target", "target_upper", "baseline")
        ),
    )
    notes = [
        Annotation.model_validate(
            {
                "from": (dt.date(2026, 1, 5) + dt.timedelta(weeks=i)).isoformat(),
                "to": (dt.date(2026, 1, 11) + dt.timedelta(weeks=i)).isoformat(),
                "text": "outage",
                "exclude": True,
            }
        )
        for i in sorted(excluded)
    ]
    frame = mark_excluded(frame, spans(notes, "UTC") if notes else None, [])
    frame = add_slope(frame, ["metric"], "week").with_columns(trend().alias("trend"))
    return signals.add_signals(frame, ["metric"], "week").sort("period_start")


def test_an_excluded_outage_week_raises_no_control_signal():
    # limits from the first 8 weeks: mean 20, deviations 0 1 -1 0 1 -1 0 1 → sum of squares
    # 6, sd = sqrt(6 / 7) = 0.9258, 3 sd = 2.777; week 9 at 60 is 40 away: outside_limits
    values = [20, 21, 19, 20, 21, 19, 20, 21, 60]
    assert series(values)["control_signal"].to_list()[-1] == "outside_limits"
    assert series(values, {8})["control_signal"].to_list()[-1] is None


def test_an_excluded_week_inside_the_limit_window_does_not_set_the_limits():
    # week 3 (an outage at 60) inside the first 8 weeks: with it, mean 25, sd 14.14 →
    # 3 sd = 42.4: week 10 at 30 passes; without it the limits come from the 8 kept
    # weeks 20 21 20 21 19 20 21 20 (mean 20.25, sd = sqrt(3.5 / 7) = 0.7071, 3 sd = 2.12):
    # 30 is 9.75 away → outside_limits
    values = [20, 21, 60, 20, 21, 19, 20, 21, 20, 30]
    assert series(values)["control_signal"].to_list()[-1] is None
    excluded = series(values, {2})
    assert excluded["control_signal"].to_list()[-1] == "outside_limits"
    assert excluded["control_signal"].to_list()[2] is None  # the outage week itself


def test_an_excluded_week_is_left_out_of_the_trend_fit_and_the_early_warning():
    # 50 52 54 56 58 then an outage at 95: the last six points' fit with it has slope
    # 7.6 per week and warns (95 + ... passes 100 next week); without it the five kept
    # points 50..58 have slope exactly 2 and their line (58 at week 5, 60 at week 6)
    # passes 100 only after 20 more weeks: no early warning
    values = [50, 52, 54, 56, 58, 95]
    plain = series(values).row(-1, named=True)
    assert plain["slope"] == pytest.approx(
        sum((x - 2.5) * (y - 64.1666667) for x, y in enumerate(values)) / 17.5, rel=1e-6
    )
    assert plain["projected_status"] == "warning"
    kept = series(values, {5}).row(-1, named=True)
    assert kept["slope"] == pytest.approx(2.0)
    assert kept["projected_status"] is None


def test_a_run_skips_an_excluded_week():
    # limits from weeks 1-8 (mean 20); weeks 9-15 all above it but week 12 (excluded)
    # below: without the exclusion the run restarts; with it seven kept weeks above → run
    values = [20, 21, 19, 20, 21, 19, 20, 20, 21, 21, 21, 10, 21, 21, 21, 21]
    assert "run_above" not in series(values)["control_signal"].to_list()
    assert series(values, {11})["control_signal"].to_list()[-1] == "run_above"


# -- the file and the command ------------------------------------------------------


def test_annotate_creates_the_file_neutralises_formulas_and_reads_back(make):
    path = make.project(PROJECT, files={"calls.csv": weekly_calls([300] * 3)})
    result = runner.invoke(
        app,
        [
            "annotate",
            "-p",
            str(path),
            "--from",
            "2026-01-12",
            "--to",
            "2026-01-18",
            "--metric",
            "aht",
            "--group",
            "team=Berlin Tech",
            "--kind",
            "outage",
            "--exclude",
            '=HYPERLINK("x"), CRM slow',
        ],
    )
    assert result.exit_code == 0, result.output
    runner.invoke(app, ["annotate", "-p", str(path), "--from", "2026-01-06", "holiday"])
    text = (path.parent / "annotations.csv").read_text(encoding="utf-8")
    assert text.splitlines() == [
        "from,to,text,kind,metric,group,value,exclude",
        '2026-01-12,2026-01-18,"\'=HYPERLINK(""x""), CRM slow",outage,aht,team,Berlin Tech,true',
        "2026-01-06,,holiday,,,,,",
    ]
    notes = api.load(path).annotations()
    assert notes[0].text == '=HYPERLINK("x"), CRM slow'  # the apostrophe comes off again
    assert (notes[0].group, notes[0].value, notes[0].exclude) == ("team", "Berlin Tech", True)
    assert notes[1].to is None and not notes[1].exclude


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--from", "2026-01-12", "--to", "2026-01-11"],
            "--to 2026-01-11 is before --from 2026-01-12",
        ),
        (["--from", "2026-02-30"], "--from: `2026-02-30` is not a date or a timestamp"),
        (["--from", "2026-01-12", "--metric", "ahtt"], "did you mean `aht`?"),
        (["--from", "2026-01-12", "--kind", "outgae"], "did you mean `outage`?"),
        (["--from", "2026-01-12", "--group", "team"], "--group team: write COLUMN=VALUE"),
        # a group on a column the data do not have would mark no chart (review of issue 20)
        (["--from", "2026-01-12", "--group", "teem=Red"], "no column `teem`"),
        (["--from", "2026-01-12", "--group", "nosuch=1"], "e.g. team, site, vendor"),
    ],
)
def test_annotate_refuses_bad_input_with_the_flag_named(make, args, message):
    path = make.project(PROJECT, files={"calls.csv": weekly_calls([300] * 3)})
    result = runner.invoke(app, ["annotate", "-p", str(path), *args, "note"])
    assert result.exit_code == 2
    assert message in result.output
    assert not (path.parent / "annotations.csv").exists()


def test_an_empty_text_is_said_once_with_its_field(make):
    path = make.project(PROJECT, files={"calls.csv": weekly_calls([300] * 3)})
    result = runner.invoke(app, ["annotate", "-p", str(path), "--from", "2026-01-12", ""])
    assert result.exit_code == 2
    assert result.output.count("at least 1 character") == 1
    assert "annotation text: String should have at least 1 character" in result.output


def test_a_bad_annotations_file_is_located_by_line_and_column(make):
    path = make.project(
        PROJECT,
        files={
            "calls.csv": weekly_calls([300] * 3),
            "annotations.csv": (
                "from,to,text,kind,exclude\n"
                "2026-01-12,,fine,outage,true\n"
                "12.01.2026,,bad date,,\n"
                "2026-01-12,,bad kind,outgae,\n"
                "2026-01-12,,bad flag,,maybe\n"
            ),
        },
    )
    with pytest.raises(DataError) as caught:
        api.load(path).annotations()
    issues = [(i.line, i.column, i.message) for i in caught.value.issues]
    assert issues[0][:2] == (3, 1) and "`12.01.2026` is not a date" in issues[0][2]
    assert issues[1][:2] == (4, 4) and "outgae" in issues[1][2]
    assert issues[2][:2] == (5, 5) and "maybe" in issues[2][2]
    assert caught.value.issues[1].hint and "outage" in caught.value.issues[1].hint
    # the command line says so with exit 2, and adds nothing to a broken file
    result = runner.invoke(app, ["evaluate", "-p", str(path), "aht"])
    assert result.exit_code == 2 and "annotations.csv:3:1" in result.output
    with pytest.raises(DataError):
        api.load(path).annotate("more", start="2026-01-13")


def test_validate_locates_a_group_on_a_column_the_data_do_not_have(make):
    path = make.project(
        PROJECT,
        files={
            "calls.csv": weekly_calls([300]),
            "annotations.csv": (
                "from,text,group,value\n2026-01-12,fine,agent_id,a1\n2026-01-12,x,teem,Red\n"
            ),
        },
    )
    result = runner.invoke(app, ["validate", "-p", str(path)])
    assert result.exit_code == 2
    assert "annotations.csv:3:3: error: group: no column `teem`" in result.output


def test_an_unknown_column_is_named_with_a_suggestion(make):
    path = make.project(
        PROJECT,
        files={"calls.csv": weekly_calls([300]), "annotations.csv": "from,txt\n2026-01-12,x\n"},
    )
    with pytest.raises(DataError) as caught:
        api.load(path).annotations()
    rendered = caught.value.render()
    assert "unknown column `txt`" in rendered and "did you mean `text`?" in rendered


def test_an_excluded_outage_week_stays_out_of_a_real_projects_control_limits(make):
    # AHT per week = that week's one call: 300 302 298 301 299 300 302 298, then 400:
    # mean 300, sd = sqrt(18 / 7) = 1.604, 3 sd = 4.81 → W10 at 400 is outside_limits
    talks = [300, 302, 298, 301, 299, 300, 302, 298, 400]
    path = make.project(PROJECT, files={"calls.csv": weekly_calls(talks)})
    loaded = api.load(path)
    before = loaded.evaluate(["aht"]).records.row(-1, named=True)
    assert (before["period"], before["value"], before["control_signal"]) == (
        "2026-W10",
        400.0,
        "outside_limits",
    )
    loaded.annotate("CRM outage", start="2026-03-02", end="2026-03-08", kind="outage", exclude=True)
    after = api.load(path).evaluate(["aht"])
    row = after.records.row(-1, named=True)
    assert (row["value"], row["control_signal"]) == (400.0, None)  # the value stays shown
    result = runner.invoke(app, ["trend", "aht", "-p", str(path), "--wide"])
    assert "note aht 2026-W10: CRM outage (excluded)" in result.output
    result = runner.invoke(
        app, ["check", "-p", str(path), "aht", "--period", "week", "--at", "2026-W10"]
    )
    assert "note: CRM outage (excluded)" in result.output, result.output
    result = runner.invoke(
        app, ["check", "-p", str(path), "aht", "--at", "2026-W10", "--format", "json"]
    )
    verdict = json.loads(result.stdout)["verdicts"][0]  # stderr has the notes
    assert verdict["note"] == "CRM outage (excluded)" and verdict["control_signal"] is None


def test_a_declared_annotations_source_is_where_annotate_writes(make):
    path = make.project(
        PROJECT + "  annotations: {path: notes/context.csv}\n",
        files={"calls.csv": weekly_calls([300] * 2), "notes/context.csv": "from,text\n"},
    )
    loaded = api.load(path)
    loaded.annotate("holiday", start=dt.date(2026, 1, 6))
    written = path.parent / "notes" / "context.csv"
    assert written.read_text().splitlines() == ["from,text", "2026-01-06,holiday"]
    with pytest.raises(UsageError, match="no column `kind`"):  # its header has no `kind`
        loaded.annotate("outage", start="2026-01-07", kind="outage")
    assert written.read_text().splitlines() == ["from,text", "2026-01-06,holiday"]
    assert not (path.parent / "annotations.csv").exists()


# -- the scorecard's baseline window ----------------------------------------------


def months_evaluation(notes: list[Annotation]) -> Evaluation:
    starts = [dt.datetime(2026, m, 1, tzinfo=dt.UTC) for m in range(1, 8)]
    records = pl.DataFrame(
        {
            "metric": ["aht"] * 6,
            "period_start": starts[:6],
            "period_end": starts[1:],
            "period": [f"2026-{m:02d}" for m in range(1, 7)],
        }
    ).with_columns(pl.col("period_start", "period_end").cast(pl.Datetime("us", "UTC")))
    return Evaluation(records, grain="month", annotations=spans(notes, "UTC") if notes else None)


def test_the_scorecard_baseline_skips_an_excluded_month():
    # six months, a 3-month baseline: January to March; an outage in February (whole
    # operation) moves it to the first three clean months in a row, March to May
    plain = baseline_need(months_evaluation([]), ["aht"], ["agent_id"], 3)
    assert plain is not None and (plain.start, plain.end) == (
        dt.date(2026, 1, 1),
        dt.date(2026, 3, 31),
    )
    outage = Annotation.model_validate(
        {"from": "2026-02-10", "to": "2026-02-12", "text": "outage", "exclude": True}
    )
    moved = baseline_need(months_evaluation([outage]), ["aht"], ["agent_id"], 3)
    assert moved is not None and (moved.start, moved.end) == (
        dt.date(2026, 3, 1),
        dt.date(2026, 5, 31),
    )
    # a note on another metric, on one group, or without exclude leaves it where it was
    for other in (
        outage.model_copy(update={"metric": "csat"}),
        outage.model_copy(update={"group": "team", "value": "Berlin"}),
        outage.model_copy(update={"exclude": False}),
    ):
        same = baseline_need(months_evaluation([other]), ["aht"], ["agent_id"], 3)
        assert same is not None and (same.start, same.end) == (plain.start, plain.end)
    # excluded April too: no three clean months in a row before the last month
    april = outage.model_copy(update={"from_": dt.date(2026, 4, 2), "to": None})
    assert baseline_need(months_evaluation([outage, april]), ["aht"], ["agent_id"], 3) is None


def test_validate_reports_the_annotations_file_once_a_place(make):
    bad = "from,text,kind\n2026-01-05,fine,outage\nxx,bad,outgae\n"
    path = make.project(PROJECT, files={"calls.csv": weekly_calls([300]), "annotations.csv": bad})
    found = [(i.file, i.line, i.column) for i in api.validate(path) if i.severity == "error"]
    where = str(path.parent / "annotations.csv")
    assert found == [(where, 3, 1), (where, 3, 3)]
    # declared as a source, the schema check reads it too: still one issue a place
    path.write_text(PROJECT + "  annotations: {path: annotations.csv}\n", encoding="utf-8")
    found = [(i.file, i.line, i.column) for i in api.validate(path) if i.severity == "error"]
    assert found == [(where, 3, 1), (where, 3, 3)]
