"""Freshness and completeness of sources (issue 18 items 5, 6): `check` never passes on a
stale or truncated export. Every expected figure is worked out by hand in the comments."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from typer.testing import CliRunner

from tpmkit.cli import app
from tpmkit.data.freshness import day_counts
from tpmkit.data.holidays import covered_days
from tpmkit.judge.sources import check_days, duration_text, run_time, trailing
from tpmkit.spec.sourcechecks import age_text, parse_age

runner = CliRunner()
BERLIN = ZoneInfo("Europe/Berlin")
EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center"
D = dt.date


def check(project: Path, *args: str):
    return runner.invoke(app, ["check", "-p", str(project), "--no-cache", "--no-why", *args])


# --- settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "age"),
    [
        ("36h", dt.timedelta(hours=36)),
        ("2d", dt.timedelta(days=2)),
        ("90m", dt.timedelta(minutes=90)),
        ("1w", dt.timedelta(days=7)),
        ("1.5h", dt.timedelta(minutes=90)),
    ],
)
def test_durations(text, age):
    assert parse_age(text) == age


@pytest.mark.parametrize("bad", ["36", "36x", "h", "0h", "-2d", 36, True, "2 days"])
def test_bad_durations_are_refused(bad):
    with pytest.raises(ValueError, match=r"duration|more than 0"):
        parse_age(bad)


def test_ages_are_written_back_as_the_settings_write_them():
    assert [age_text(parse_age(t)) for t in ("36h", "2d", "90m", "1w")] == [
        "36h",
        "2d",
        "90m",
        "7d",
    ]
    assert duration_text(dt.timedelta(days=5, hours=16, minutes=46, seconds=9)) == "5d 16h 46m"
    assert duration_text(dt.timedelta(seconds=20)) == "0m"


PROJECT = """
name: Fresh
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {{path: calls.csv{extra}}}
"""
WAIT = (
    "id: wait\nname: wait\nunit: seconds\ndirection: lower_is_better\ndataset: calls\n"
    "compute: {kind: mean, expr: wait_seconds, where: answered}\n"
    "thresholds: {warning: 300, critical: 600}\n"
)


def test_bad_settings_are_one_plain_error_each(make):
    # `completeness: bool | {min_share}`: a bad min_share also failed the boolean member
    # ("Input should be a valid boolean") and named the class; a duration's error began
    # "Value error," (review of issue 18)
    extra = ", completeness: {min_share: 1.5}, freshness: {max_age: 3x}"
    project = make.project(
        PROJECT.format(extra=extra), metrics={"wait": WAIT}, files={"calls.csv": "x\n"}
    )
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 2
    assert "2 error(s)" in result.output
    assert "`sources.calls.completeness.min_share`: Input should be less than or equal to 1" in (
        result.output
    )
    assert "`sources.calls.freshness.max_age`: `3x` is not a duration" in result.output
    assert "boolean" not in result.output and "Value error" not in result.output
    # a word that is neither: the boolean member's error is the one said
    project = make.project(
        PROJECT.format(extra=", completeness: maybe"),
        metrics={"wait": WAIT},
        files={"calls.csv": "x\n"},
    )
    result = runner.invoke(app, ["validate", "-p", str(project)])
    assert result.exit_code == 2 and "`sources.calls.completeness`" in result.output


def daily_calls(counts: dict[dt.date, int]) -> str:
    """`counts[day]` answered calls with a 10 s wait on each day, spread from 08:00 on."""
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    for day, count in sorted(counts.items()):
        for i in range(count):
            at = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(minutes=5 * i)
            lines.append(f"c{day:%Y%m%d}{i:04d},{at:%Y-%m-%d %H:%M:%S},a1,Y,10")
    return "\n".join(lines) + "\n"


def weeks_of_calls(last: dt.date, weeks: int, per_day: int = 30) -> dict[dt.date, int]:
    first = last - dt.timedelta(days=7 * weeks - 1)
    return {first + dt.timedelta(days=i): per_day for i in range(7 * weeks)}


def fresh_project(make, counts: dict[dt.date, int], extra: str = "") -> Path:
    return make.project(
        PROJECT.format(extra=extra),
        metrics={"wait": WAIT},
        files={"calls.csv": daily_calls(counts)},
    )


@pytest.mark.parametrize(
    ("extra", "where"),
    [
        (", freshness: {max_age: soon}", "`soon` is not a duration"),
        (", freshness: {max_age: 36h, grace: 2h}", "grace"),
        (", completeness: {min_share: 1.5}", "min_share"),
        (", completeness: maybe", "completeness"),
    ],
)
def test_bad_settings_exit_2_located(make, extra, where):
    project = fresh_project(make, weeks_of_calls(D(2026, 3, 8), 2), extra)
    result = check(project)
    assert result.exit_code == 2, result.output
    assert "tpmkit.yaml:5:" in result.output and where in result.output
    assert "Traceback" not in result.output


# --- completeness arithmetic -------------------------------------------------------------

MONDAY = D(2026, 3, 30)
# the 8 Mondays before: 100, 90, 110, 80, 120, 100, 95, 105 → sorted 80 90 95 100 100
# 105 110 120, median (100 + 100) / 2 = 100; min_share 0.6 → below 60 rows is incomplete
EARLIER = dict(
    zip(
        [MONDAY - dt.timedelta(weeks=k) for k in range(1, 9)],
        [100, 90, 110, 80, 120, 100, 95, 105],
        strict=True,
    )
)


def test_a_day_against_the_median_of_its_weekday():
    checked, below, notes = check_days({**EARLIER, MONDAY: 59}, [MONDAY], 0.6)
    assert [(d.rows, d.median, d.weeks) for d in checked] == [(59, 100.0, 8)]
    assert [d.day for d in below] == [MONDAY] and notes == []
    assert below[0].text() == "2026-03-30 Mon: 59 rows vs median 100 (59%)"
    # exactly 0.6 × the median is not below it
    assert check_days({**EARLIER, MONDAY: 60}, [MONDAY], 0.6)[1] == []
    # min_share 0.5: 50 rows are enough, 49 are not
    assert check_days({**EARLIER, MONDAY: 50}, [MONDAY], 0.5)[1] == []
    assert len(check_days({**EARLIER, MONDAY: 49}, [MONDAY], 0.5)[1]) == 1


def test_a_week_without_rows_inside_the_data_counts_zero():
    # the Monday 3 weeks back (110 rows) had none, though the data go back 8 weeks: it
    # counts 0 → 0 80 90 95 100 100 105 120, median (95 + 100) / 2 = 97.5
    daily = dict(EARLIER)
    del daily[MONDAY - dt.timedelta(weeks=3)]
    assert sorted(trailing(daily, MONDAY, min(daily))) == [0, 80, 90, 95, 100, 100, 105, 120]
    checked, _, _ = check_days({**daily, MONDAY: 70}, [MONDAY], 0.6)
    assert checked[0].median == 97.5


def test_days_not_checked_say_why():
    # 3 earlier weeks in the data: not checked; 4: checked (median of 110, 90, 100, 80 = 95)
    three = {MONDAY - dt.timedelta(weeks=k): 100 for k in (1, 2, 3)}
    checked, below, notes = check_days({**three, MONDAY: 1}, [MONDAY], 0.6)
    assert checked == [] and below == []
    assert notes == ["2026-03-30 not checked for completeness: fewer than 4 earlier weeks of data"]
    four = dict(list(EARLIER.items())[:4])
    checked, below, _ = check_days({**four, MONDAY: 1}, [MONDAY], 0.6)
    assert [(d.median, d.weeks) for d in checked] == [(95.0, 4)] and len(below) == 1
    # a trailing median of 19 rows is too thin; 20 is judged
    thin = {MONDAY - dt.timedelta(weeks=k): 19 for k in range(1, 9)}
    _, below, notes = check_days({**thin, MONDAY: 0}, [MONDAY], 0.6)
    assert below == [] and notes == [
        "2026-03-30 not checked for completeness: the trailing median is under 20 rows"
    ]
    enough = {MONDAY - dt.timedelta(weeks=k): 20 for k in range(1, 9)}
    assert len(check_days({**enough, MONDAY: 11}, [MONDAY], 0.6)[1]) == 1  # 11 < 12
    # a holiday is exempt
    _, below, notes = check_days({**EARLIER, MONDAY: 3}, [MONDAY], 0.6, holidays=[MONDAY])
    assert below == [] and notes == [
        "2026-03-30 not checked for completeness: a holiday annotation"
    ]


def test_rows_per_local_day_on_dst_days():
    # Europe/Berlin: 2026-03-29 has 23 hours, 2026-10-25 has 25. One row per hour of each
    # local day, made in UTC: local midnight is 23:00Z (CET) and 22:00Z (CEST).
    spring = pl.datetime_range(
        dt.datetime(2026, 3, 28, 23), dt.datetime(2026, 3, 29, 21), "1h", eager=True
    )
    autumn = pl.datetime_range(
        dt.datetime(2026, 10, 24, 22), dt.datetime(2026, 10, 25, 22), "1h", eager=True
    )
    frame = pl.DataFrame({"at": pl.concat([spring, autumn])}).with_columns(
        pl.col("at").dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/Berlin")
    )
    latest, daily = day_counts(frame, "at")
    assert daily == {D(2026, 3, 29): 23, D(2026, 10, 25): 25}
    assert latest == dt.datetime(2026, 10, 25, 23, tzinfo=BERLIN)
    assert day_counts(frame, "nowhere") == (None, {})


def test_run_time():
    assert run_time("2026-11-16T08:00", "Europe/Berlin") == dt.datetime(
        2026, 11, 16, 8, tzinfo=BERLIN
    )
    assert run_time("2026-11-16", "Europe/Berlin") == dt.datetime(2026, 11, 16, tzinfo=BERLIN)
    utc = run_time("2026-11-16T07:00+00:00", "Europe/Berlin")
    assert utc == dt.datetime(2026, 11, 16, 8, tzinfo=BERLIN)
    assert run_time(None, "UTC") is None


def test_holiday_annotations_cover_local_days():
    from tpmkit.annotations import Annotation

    def note(start, end=None, kind="holiday", **scope):
        return Annotation.model_validate(
            {"from": start, "to": end, "text": "x", "kind": kind, **scope}
        )

    found = covered_days(
        [
            # a timestamp end at exactly local midnight: 24 Dec 00:00 to 27 Dec 00:00 covers
            # the 24th, 25th and 26th
            note("2026-12-24 00:00", "2026-12-27 00:00"),
            # no `to`: the day of `from` alone
            note("2026-12-31 14:00"),
            # a date-only `to` includes its day (as on charts): 1 to 2 Jan is two days
            note("2027-01-01", "2027-01-02"),
            # an outage exempts nothing
            note("2026-11-03 09:00", kind="outage"),
            # a holiday of one site or one metric does not exempt the whole source's day
            note("2026-10-03", group="site", value="Berlin"),
            note("2026-10-03", metric="aht"),
            note("2026-11-01", metric="aht", group="team", value="Red"),
        ],
        "Europe/Berlin",
    )
    assert found.days == {
        D(2026, 12, 24),
        D(2026, 12, 25),
        D(2026, 12, 26),
        D(2026, 12, 31),
        D(2027, 1, 1),
        D(2027, 1, 2),
    }
    assert found.scoped == {
        D(2026, 10, 3): "site Berlin; metric aht",
        D(2026, 11, 1): "metric aht, team Red",
    }


# --- check on small projects -------------------------------------------------------------

SUNDAY = D(2026, 10, 25)  # the end of week 2026-W43, and of summer time in Berlin


def test_a_truncated_day_fails_across_the_dst_week(make):
    # 10 weeks of 30 calls a day up to Sunday 25 Oct (25 hours long); Saturday cut to 5:
    # its 8 earlier Saturdays have 30 each, median 30, 5 < 0.6 × 30 = 18 → incomplete
    counts = weeks_of_calls(SUNDAY, 10)
    whole = fresh_project(make, counts)
    passed = check(whole, "--now", "2026-10-26T08:00", "-f", "json")
    assert passed.exit_code == 0, passed.output
    body = json.loads(passed.stdout)
    (calls,) = body["sources"]
    assert calls["status"] == "ok" and [d["day"] for d in calls["days"]] == [
        f"2026-10-{d}" for d in range(19, 26)
    ]
    assert {d["rows"] for d in calls["days"]} == {30} and body["passed"] is True
    counts[SUNDAY - dt.timedelta(days=1)] = 5
    cut = fresh_project(make, counts)
    failed = check(cut, "--now", "2026-10-26T08:00")
    assert failed.exit_code == 1
    assert (
        "FAIL source calls: incomplete: 2026-10-24 Sat: 5 rows vs median 30 (17%) — below 0.6"
        in failed.stdout
    )
    assert failed.stdout.splitlines()[-1].endswith("; source calls incomplete")
    # min_share 0.15: 5 ≥ 4.5 passes; completeness off passes too
    lower = fresh_project(make, counts, ", completeness: {min_share: 0.15}")
    assert check(lower, "--now", "2026-10-26T08:00").exit_code == 0
    off = fresh_project(make, counts, ", completeness: false")
    assert check(off, "--now", "2026-10-26T08:00").exit_code == 0


def test_too_few_weeks_is_skipped_with_a_note(make):
    # 3 weeks of data: each day of the judged week has only 2 earlier weeks
    counts = weeks_of_calls(SUNDAY, 3)
    counts[SUNDAY - dt.timedelta(days=1)] = 1
    project = fresh_project(make, counts)
    result = check(project, "--now", "2026-10-26T08:00", "-f", "json")
    assert result.exit_code == 0, result.output
    (calls,) = json.loads(result.stdout)["sources"]
    assert calls["status"] == "skipped" and calls["days"] == []
    assert calls["notes"] == [
        "7 days (2026-10-19 to 2026-10-25) not checked for completeness: "
        "fewer than 4 earlier weeks of data"
    ]
    assert "note: completeness not checked for calls" in result.stderr


def test_freshness_and_the_junit_and_github_output(make, tmp_path):
    # latest call: Sunday 25 Oct 08:00 + 29 × 5 min = 10:25 (CET: summer time ended 03:00)
    project = fresh_project(make, weeks_of_calls(SUNDAY, 10), ", freshness: {max_age: 2d}")
    # Tuesday 27 Oct 10:25 is exactly 2 days later: not older than max_age
    assert check(project, "--now", "2026-10-27T10:25").exit_code == 0
    junit, summary = tmp_path / "junit.xml", tmp_path / "summary.md"
    stale = runner.invoke(
        app,
        ["check", "-p", str(project), "--no-cache", "--no-why", "--now", "2026-10-27T10:26",
         "--junit", str(junit), "--github"],
        env={"GITHUB_STEP_SUMMARY": str(summary)},
    )  # fmt: skip
    assert stale.exit_code == 1
    step = summary.read_text(encoding="utf-8")
    assert "❌ 1 failing" in step and "- ❌ source calls: stale: latest timestamp" in step
    line = (
        "FAIL source calls: stale: latest timestamp 2026-10-25 10:25 CET is 2d 0h 1m old "
        "(max_age 2d), complete: 7 day(s) checked"
    )
    assert line.replace(" 0h", "") in stale.stdout
    assert "::error title=source calls stale::source calls: stale" in stale.stdout
    suites = ET.parse(junit).getroot()
    assert (suites.get("tests"), suites.get("failures")) == ("2", "1")
    source_suite = suites.findall("testsuite")[1]
    (case,) = source_suite.findall("testcase")
    failure = case.find("failure")
    assert failure is not None and failure.get("type") == "stale"


# --- the bundled example -------------------------------------------------------------------
# Its data end on Sunday 2026-11-15 (week 2026-W46); the latest call was offered at
# 15:13:51. It fails its gate on metric breaches (exit 1) whatever the sources do, so
# these tests look at the sources and the FAIL lines.


def example_copy(tmp_path: Path) -> Path:
    target = tmp_path / "example"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns(".tpmkit"))
    return target


def sources_of(result) -> dict[str, dict]:
    return {s["name"]: s for s in json.loads(result.stdout)["sources"]}


def test_the_example_the_morning_after_passes_its_source_checks():
    result = check(EXAMPLE / "tpmkit.yaml", "--now", "2026-11-16T08:00", "-f", "json")
    assert result.exit_code == 1  # metric breaches, not sources
    sources = sources_of(result)
    assert not any(s["failed"] for s in sources.values())
    assert sources["calls"]["status"] == "ok"
    # Saturday 14 Nov: 108 calls; the 8 Saturdays before: 117 98 95 99 123 106 121 124 →
    # sorted 95 98 99 106 117 121 123 124, median (106 + 117) / 2 = 111.5
    saturday = sources["calls"]["days"][-1]
    assert (saturday["day"], saturday["rows"], saturday["median"]) == ("2026-11-14", 108, 111.5)
    assert sources["agents"]["status"] == "skipped"
    assert sources["agents"]["notes"] == ["no time column: completeness not checked"]


def test_the_example_five_days_later_with_freshness_is_stale(tmp_path):
    root = example_copy(tmp_path)
    project = root / "tpmkit.yaml"
    text = project.read_text(encoding="utf-8")
    project.write_text(
        text.replace(
            "    path: data/acd_calls.csv\n",
            "    path: data/acd_calls.csv\n    freshness: {max_age: 36h}\n",
            1,
        ),
        encoding="utf-8",
    )
    morning = check(project, "--now", "2026-11-16T08:00")
    assert "FAIL source" not in morning.stdout
    # 15 Nov 15:13:51 to 21 Nov 08:00:00 is 5 days 16 h 46 min 9 s
    late = check(project, "--now", "2026-11-21T08:00")
    assert late.exit_code == 1
    assert (
        "FAIL source calls: stale: latest timestamp 2026-11-15 15:13 CET is 5d 16h 46m old "
        "(max_age 36h)" in late.stdout
    )
    assert late.stdout.splitlines()[-1].endswith("; source calls stale")


def test_the_example_with_its_last_two_days_cut_is_incomplete(tmp_path):
    root = example_copy(tmp_path)
    data = root / "data"
    last_two = ("2026-11-14", "2026-11-15")
    # the calls export: keep every 10th call of each of the last two days (108 → 11, 11 → 2)
    lines = (data / "acd_calls.csv").read_text(encoding="utf-8-sig").splitlines()
    seen = dict.fromkeys(last_two, 0)
    kept = [lines[0]]
    for line in lines[1:]:
        day = line.split(",")[1][:10]
        if day in seen:
            seen[day] += 1
            if (seen[day] - 1) % 10:
                continue
        kept.append(line)
    assert seen == {"2026-11-14": 108, "2026-11-15": 11}
    (data / "acd_calls.csv").write_text("\n".join(kept) + "\n", encoding="utf-8")
    # the system events: 288 a day (3 components × 96 quarter hours) → every 10th: 29
    events = pl.read_parquet(data / "system_events.parquet")
    local = pl.col("at").dt.convert_time_zone("Europe/Berlin").dt.date().cast(pl.String)
    events = events.filter(~local.is_in(last_two) | (pl.int_range(pl.len()).over(local) % 10 == 0))
    events.write_parquet(data / "system_events.parquet")

    result = check(root / "tpmkit.yaml", "--now", "2026-11-16T08:00")
    assert result.exit_code == 1
    # calls: Saturday 11 vs median 111.5 (10%); Sunday's median is under 20 (not judged)
    assert (
        "FAIL source calls: incomplete: 2026-11-14 Sat: 11 rows vs median 111.5 (10%) — "
        "below 0.6" in result.stdout
    )
    # system events: 29 vs 288 on both days (10%)
    assert (
        "FAIL source system_events: incomplete: 2026-11-14 Sat: 29 rows vs median 288 (10%); "
        "2026-11-15 Sun: 29 rows vs median 288 (10%)" in result.stdout
    )
    summary = result.stdout.splitlines()[-1]
    assert summary.endswith("; source calls incomplete; source system_events incomplete")


def test_a_holiday_annotation_exempts_its_day(make):
    # the cut Saturday of the DST week (5 rows vs median 30) is a bank holiday here
    counts = weeks_of_calls(SUNDAY, 10)
    counts[SUNDAY - dt.timedelta(days=1)] = 5
    project = fresh_project(make, counts)
    make.write("annotations.csv", "from,to,text,kind\n2026-10-24,,Bank holiday,holiday\n")
    result = check(project, "--now", "2026-10-26T08:00", "-f", "json")
    assert result.exit_code == 0, result.output
    (calls,) = [s for s in json.loads(result.stdout)["sources"] if s["name"] == "calls"]
    assert calls["status"] == "ok" and len(calls["days"]) == 6
    assert calls["notes"] == ["2026-10-24 not checked for completeness: a holiday annotation"]
    # an outage is no excuse
    make.write("annotations.csv", "from,to,text,kind\n2026-10-24,,Telephony down,outage\n")
    assert check(project, "--now", "2026-10-26T08:00").exit_code == 1


@pytest.mark.parametrize(
    ("scope", "what"),
    [
        (",site,Berlin", "site Berlin"),
        (",,", "metric wait"),
        (",team,Red", "metric wait, team Red"),
    ],
    ids=["site", "metric", "metric-and-team"],
)
def test_a_holiday_of_one_group_or_metric_does_not_exempt_the_day(make, scope, what):
    # the same cut Saturday (5 rows vs median 30), but the holiday is Berlin's only, or
    # wait's only: the other sites' or metrics' rows were expected, so the day is checked
    counts = weeks_of_calls(SUNDAY, 10)
    counts[SUNDAY - dt.timedelta(days=1)] = 5
    project = fresh_project(make, counts)
    metric = "" if what.startswith("site") else "wait"
    make.write(
        "annotations.csv",
        f"from,to,text,kind,metric,group,value\n2026-10-24,,Holiday,holiday,{metric}{scope}\n",
    )
    result = check(project, "--now", "2026-10-26T08:00", "-f", "json")
    assert result.exit_code == 1, result.output
    (calls,) = [s for s in json.loads(result.stdout)["sources"] if s["name"] == "calls"]
    assert calls["status"] == "incomplete" and len(calls["days"]) == 7
    assert [(d["day"], d["rows"], d["median"]) for d in calls["incomplete"]] == [
        ("2026-10-24", 5, 30.0)
    ]
    assert calls["notes"] == [
        "2026-10-24 checked for completeness although a holiday annotation covers it: the "
        f"holiday is for {what} only, not the whole source"
    ]


def test_a_holiday_group_without_its_value_is_a_located_error(make):
    # `group` names the column and `value` its value (data contract): `site=Berlin` in
    # `group` alone is refused with the file and line, exit 2 — not a completeness bug
    project = fresh_project(make, weeks_of_calls(SUNDAY, 10))
    make.write(
        "annotations.csv", "from,to,text,kind,group\n2026-10-24,,Holiday,holiday,site=Berlin\n"
    )
    result = check(project, "--now", "2026-10-26T08:00")
    assert result.exit_code == 2
    assert "annotations.csv:2: error: `group` and `value` go together" in result.output
    assert "Traceback" not in result.output


def test_the_report_names_a_stale_source_in_its_data_quality_lines(make):
    from tpmkit import load

    project = fresh_project(make, weeks_of_calls(SUNDAY, 10), ", freshness: {max_age: 36h}")
    # latest call 25 Oct 10:25 CET; 28 Oct 10:25 is 3 days later
    late = load(project).report(now=dt.datetime(2026, 10, 28, 10, 25, tzinfo=BERLIN))
    assert (
        "source calls: stale: latest timestamp 2026-10-25 10:25 CET is 3d old (max_age 36h), "
        "complete: 7 day(s) checked" in late.quality()
    )
    fresh = load(project).report(now=dt.datetime(2026, 10, 26, 8, tzinfo=BERLIN))
    assert (
        "source calls: fresh: latest timestamp 2026-10-25 10:25 CET is 21h 35m old "
        "(max_age 36h), complete: 7 day(s) checked" in fresh.quality()
    )


def test_a_stale_source_heads_the_report_in_both_formats(make):
    # the data-quality lines close the report; a reader acts on the tiles first, so a stale
    # export is said before them too (review of issue 18)
    from tpmkit import load
    from tpmkit.report.document import to_html
    from tpmkit.report.markdown import to_markdown

    project = fresh_project(make, weeks_of_calls(SUNDAY, 10), ", freshness: {max_age: 36h}")
    late = load(project).report(now=dt.datetime(2026, 10, 28, 10, 25, tzinfo=BERLIN))
    alert = "Data not to be trusted — source calls: stale: latest timestamp 2026-10-25 10:25 CET"
    markdown = to_markdown(late)
    assert alert in markdown and markdown.index(alert) < markdown.index("| metric | value")
    html = to_html(late)
    assert alert in html and html.index(alert) < html.index('<div class="tiles">')
    fresh = load(project).report(now=dt.datetime(2026, 10, 26, 8, tzinfo=BERLIN))
    assert "Data not to be trusted" not in to_markdown(fresh)


def test_now_sets_the_latest_complete_period_and_its_days(make):
    project = fresh_project(make, weeks_of_calls(SUNDAY, 10))
    # Sunday noon: week 43 has not ended, so week 42 (12 to 18 Oct) is judged
    noon = json.loads(check(project, "--now", "2026-10-25T12:00", "-f", "json").stdout)
    assert noon["period"] == "2026-W42"
    (calls,) = noon["sources"]
    assert [d["day"] for d in calls["days"]] == [f"2026-10-{d}" for d in range(12, 19)]
    # Monday 00:00 local: week 43 has just ended (the 25-hour Sunday included)
    monday = json.loads(check(project, "--now", "2026-10-26", "-f", "json").stdout)
    assert monday["period"] == "2026-W43" and len(monday["sources"][0]["days"]) == 7
    # --at a week in progress judges only the days that have ended: Mon to Wed
    ongoing = check(project, "--at", "2026-W43", "--now", "2026-10-22T09:00", "-f", "json")
    (calls,) = json.loads(ongoing.stdout)["sources"]
    assert [d["day"] for d in calls["days"]] == ["2026-10-19", "2026-10-20", "2026-10-21"]
    bad = check(project, "--now", "next tuesday")
    assert bad.exit_code == 2 and "now next tuesday: not a date or time" in bad.output


# --- a missing export: --now decides the latest complete period ----------------------------


def test_with_now_a_week_without_rows_fails_naming_the_source_and_week(make):
    # 10 weeks of 30 calls a day up to Sunday 25 Oct (W43); the export of W44 never came.
    # Run on Tuesday 3 Nov (W45): the latest complete week is W44, by the calendar.
    # The 8 weeks before it hold 7 × 30 = 210 rows each: median 210 ≥ 20, so rows were due.
    project = fresh_project(make, weeks_of_calls(SUNDAY, 10))
    result = check(project, "--now", "2026-11-03T08:00")
    assert result.exit_code == 1
    assert (
        "FAIL source calls: incomplete: no rows in 2026-W44 — did the export run? "
        "(usually 210 rows a week)" in result.stdout
    )
    # the metric of a week without rows has no data: it fails closed too, naming the week
    assert "FAIL wait 2026-W44: no data: no record in 2026-W44" in result.stdout
    assert result.stdout.splitlines()[-1] == (
        "FAIL: 2 failing — 2026-W44: 1 judged (1 no data); source calls incomplete"
    )
    # --allow-no-data lets the metric pass, never the missing export
    allowed = check(project, "--now", "2026-11-03T08:00", "--allow-no-data", "-f", "json")
    assert allowed.exit_code == 1
    (calls,) = json.loads(allowed.stdout)["sources"]
    assert (calls["status"], calls["no_rows_in"], calls["usual_rows"]) == (
        "incomplete",
        "2026-W44",
        210.0,
    )
    # without --now the wall clock only says that weeks have ended: the latest complete
    # week the data reach (W43) is judged, as on every earlier run — freshness is what
    # catches a missing export then (docs/ci.md)
    assert check(project).exit_code == 0
    assert "PASS — 2026-W43" in check(project).stdout


def test_with_now_an_export_cut_midweek_is_judged_on_that_week(make):
    # the export stopped after Wednesday 28 Oct: W44 has Mon-Wed (30 rows each) and nothing
    # from Thursday on. Before, the latest week the data reached completely (W43) was judged
    # and passed; now W44 is judged and Thu 29 .. Sun 1 Nov have 0 rows vs a median of 30.
    counts = weeks_of_calls(SUNDAY, 10)
    counts |= {D(2026, 10, 26) + dt.timedelta(days=i): 30 for i in range(3)}
    project = fresh_project(make, counts)
    result = check(project, "--now", "2026-11-02T08:00", "-f", "json")
    assert result.exit_code == 1
    body = json.loads(result.stdout)
    assert body["period"] == "2026-W44"
    (calls,) = body["sources"]
    assert calls["no_rows_in"] is None
    assert [(d["day"], d["rows"], d["median"]) for d in calls["incomplete"]] == [
        (f"{day}", 0, 30.0) for day in ("2026-10-29", "2026-10-30", "2026-10-31", "2026-11-01")
    ]


def test_a_quiet_source_may_have_a_week_without_rows(make):
    # one call every Monday for 10 weeks: its 8 weeks before W44 hold 1 row each (median 1,
    # under 20) — a source of rare events, not a missing export: a note, and it passes
    counts = {SUNDAY - dt.timedelta(days=6 + 7 * k): 1 for k in range(10)}
    project = fresh_project(make, counts)
    result = check(project, "--now", "2026-11-03T08:00", "--allow-no-data", "-f", "json")
    assert result.exit_code == 0, result.output
    (calls,) = json.loads(result.stdout)["sources"]
    assert calls["status"] == "skipped" and not calls["failed"]
    assert calls["notes"][-1] == (
        "no rows in 2026-W44; not judged a missing export: its 8 week(s) before held a "
        "median of 1 rows, under 20"
    )
    # completeness: false turns the check off
    off = fresh_project(make, weeks_of_calls(SUNDAY, 10), ", completeness: false")
    assert check(off, "--now", "2026-11-03T08:00", "--allow-no-data").exit_code == 0


def test_without_now_a_source_behind_the_others_fails(tmp_path):
    # the example without its QA export's last week (W46, 129 evaluations): the calls reach
    # W46, so W46 is judged without --now, and QA has no row in it. Its weeks W38-W45 held
    # 128 128 132 123 120 128 115 123 → sorted 115 120 123 123 128 128 128 132, median
    # (123 + 128) / 2 = 125.5 (counted with the csv module: evaluated_at is local time)
    root = example_copy(tmp_path)
    qa = root / "data" / "qa.csv"
    lines = qa.read_text(encoding="utf-8-sig").splitlines()
    kept = [lines[0]] + [
        line
        for line in lines[1:]
        if dt.date.fromisoformat(line.split(",")[2][:10]).isocalendar()[:2] != (2026, 46)
    ]
    assert len(lines) - len(kept) == 129
    qa.write_text("\n".join(kept) + "\n", encoding="utf-8")
    result = check(root / "tpmkit.yaml")
    assert result.exit_code == 1
    assert (
        "FAIL source qa: incomplete: no rows in 2026-W46 — did the export run? "
        "(usually 125.5 rows a week)" in result.stdout
    )
    assert "FAIL source calls" not in result.stdout


def test_report_now_sets_the_period_and_names_the_missing_export(make, tmp_path):
    project = fresh_project(make, weeks_of_calls(SUNDAY, 10))
    out = tmp_path / "r.md"

    def report(*args: str) -> str:
        result = runner.invoke(
            app, ["report", "-p", str(project), "--no-cache", "--no-why", "-o", str(out), *args]
        )
        assert result.exit_code == 0, result.output
        return out.read_text(encoding="utf-8")

    # Sunday noon: W43 has not ended → W42; Tuesday 3 Nov: W44, which has no rows
    assert "2026-W42" in report("--now", "2026-10-25T12:00").splitlines()[0]
    late = report("--now", "2026-11-03T08:00")
    assert "2026-W44" in late.splitlines()[0]
    assert (
        "source calls: incomplete: no rows in 2026-W44 — did the export run? "
        "(usually 210 rows a week)" in late
    )
    bad = runner.invoke(app, ["report", "-p", str(project), "-o", str(out), "--now", "soon"])
    assert (
        bad.exit_code == 2 and "error: --now soon: not a date or time" in bad.output
    )  # the flag, named
