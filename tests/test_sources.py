"""Reading exports: column mapping, derived columns, value formats, files, roster, custom data.

Every expected number is worked out by hand from the inline data next to it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

import tpmkit
from conftest import by_key, evaluate_records
from tpmkit.errors import DataError


def metric(id_: str, dataset: str, compute: str, direction: str = "higher_is_better") -> str:
    return f"id: {id_}\nname: {id_}\nunit: x\ndirection: {direction}\ndataset: {dataset}\ncompute: {compute}\n"


OFFERED = metric("offered", "calls", "{kind: count}")
HANDLED = metric("handled", "calls", "{kind: count, where: answered}")
TALK = metric("talk_total", "calls", "{kind: sum, expr: talk_seconds}", "lower_is_better")
WAIT = metric("wait_mean", "calls", "{kind: mean, expr: wait_seconds}", "lower_is_better")
CSAT = metric("csat_mean", "calls", "{kind: mean, expr: csat}")
CALL_METRICS = {"offered": OFFERED, "handled": HANDLED, "talk": TALK, "wait": WAIT}


def project_yaml(source: str, timezone: str = "UTC", extra: str = "") -> str:
    return f"name: Sources\ntimezone: {timezone}\nmetrics: [metrics/]\nsources:\n  calls: {source}\n{extra}"


def test_column_mapping_with_spaces_and_parentheses(make):
    yaml = project_yaml(
        '{path: calls.csv, columns: {"Call Id": contact_id, "Start Time (UTC)": offered_at, '
        '"Agent Name/ID": agent_id, "Answered?": answered, "Queue Time (s)": wait_seconds, '
        '"Talk Time (sec)": talk_seconds}}'
    )
    calls = """
    Call Id,Start Time (UTC),Agent Name/ID,Answered?,Queue Time (s),Talk Time (sec)
    k1,2026-01-05 09:00:00,a1,true,10,100
    k2,2026-01-05 10:00:00,a2,true,20,50
    k3,2026-01-05 11:00:00,,false,40,
    """
    path = make.project(yaml, metrics=CALL_METRICS, files={"calls.csv": calls})
    index = by_key(evaluate_records(path, period="day"))
    assert index[("offered", "2026-01-05")]["value"] == 3
    assert index[("handled", "2026-01-05")]["value"] == 2  # k1, k2 answered
    assert index[("talk_total", "2026-01-05")]["value"] == 150.0  # 100 + 50 (k3 empty)
    assert index[("wait_mean", "2026-01-05")]["value"] == pytest.approx(70 / 3)  # (10+20+40)/3
    # the mapped agent column works as a dimension under its canonical name
    grouped = by_key(
        evaluate_records(path, ["talk_total"], period="day", by=["agent_id"]), "agent_id"
    )
    assert grouped[("talk_total", "2026-01-05", "a1")]["value"] == 100.0
    assert grouped[("talk_total", "2026-01-05", "a2")]["value"] == 50.0


def test_derive_offered_at_from_date_and_time(make):
    yaml = project_yaml(
        """{path: calls.csv, columns: {"Call Id": contact_id}, derive: {offered_at: "\\"Date\\" || ' ' || \\"Time\\""}}"""
    )
    calls = """
    Call Id,Date,Time,answered,wait_seconds
    k1,2026-01-05,9:12:58,true,5
    k2,2026-01-05,09:59:59,true,5
    k3,2026-01-05,10:00:00,false,30
    k4,2026-01-06,23:05:00,true,5
    """
    path = make.project(yaml, metrics={"offered": OFFERED}, files={"calls.csv": calls})
    index = by_key(evaluate_records(path, period="hour"))
    # "9:12:58" (one-digit hour) and 09:59:59 are both in hour 09 of Jan 5
    assert index[("offered", "2026-01-05T09")]["value"] == 2
    assert index[("offered", "2026-01-05T10")]["value"] == 1
    assert index[("offered", "2026-01-06T23")]["value"] == 1
    assert {k[1] for k in index} == {"2026-01-05T09", "2026-01-05T10", "2026-01-06T23"}


def test_durations_seconds_and_clock_text(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds,talk_seconds
    k1,2026-01-05 09:00:00,true,0:00:20,0:02:23
    k2,2026-01-05 09:10:00,true,01:05,1:00:05
    k3,2026-01-05 09:20:00,true,12.5,02:30
    k4,2026-01-05 09:30:00,true,7,12.5
    """
    path = make.project(
        project_yaml("{path: calls.csv}"), metrics=CALL_METRICS, files={"calls.csv": calls}
    )
    index = by_key(evaluate_records(path, period="day"))
    # talk: 0:02:23 = 143, 1:00:05 = 3605, 02:30 = 150, 12.5 -> 3910.5
    assert index[("talk_total", "2026-01-05")]["value"] == 3910.5
    # wait: 0:00:20 = 20, 01:05 = 65, 12.5, 7 -> 104.5 / 4
    assert index[("wait_mean", "2026-01-05")]["value"] == pytest.approx(104.5 / 4)


def test_booleans_in_every_accepted_spelling(make):
    true_words = ["true", "True", "1", "Y", "y", "YES", " yes "]
    false_words = ["FALSE", "0", "n", "N", "no", "No"]
    lines = ["contact_id,offered_at,answered,wait_seconds"]
    lines += [f"k{i},2026-01-05 09:00:00,{w},5" for i, w in enumerate(true_words + false_words)]
    path = make.project(
        project_yaml("{path: calls.csv}"),
        metrics={"offered": OFFERED, "handled": HANDLED},
        files={"calls.csv": "\n".join(lines) + "\n"},
    )
    index = by_key(evaluate_records(path, period="day"))
    assert index[("offered", "2026-01-05")]["value"] == 13
    # the 7 true spellings (surrounding spaces are trimmed) count as answered
    assert index[("handled", "2026-01-05")]["value"] == 7


def test_empty_field_is_null(make):
    calls = """
    contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds,csat
    k1,2026-01-05 09:00:00,a1,true,10,100,4
    k2,2026-01-05 09:10:00,,true,,,
    k3,2026-01-05 09:20:00,a1,,30,60,2
    """
    path = make.project(
        project_yaml("{path: calls.csv}"),
        metrics={**CALL_METRICS, "csat": CSAT},
        files={"calls.csv": calls},
    )
    index = by_key(evaluate_records(path, period="day"))
    # empty numbers are null, not 0: mean csat (4+2)/2, mean wait (10+30)/2
    assert index[("csat_mean", "2026-01-05")]["value"] == 3.0
    assert index[("csat_mean", "2026-01-05")]["n"] == 2
    assert index[("wait_mean", "2026-01-05")]["value"] == 20.0
    # an empty boolean is unknown, not true: only k1 and k2 are answered
    assert index[("handled", "2026-01-05")]["value"] == 2
    # empty text is null: k2 forms the null agent group
    grouped = by_key(evaluate_records(path, ["offered"], period="day", by=["agent_id"]), "agent_id")
    assert grouped[("offered", "2026-01-05", "a1")]["value"] == 2
    assert grouped[("offered", "2026-01-05", None)]["value"] == 1
    assert "" not in {k[2] for k in grouped}


def test_bom_crlf_and_quoted_comma_newline(make):
    raw = (
        "\ufeffcontact_id,offered_at,queue,answered,wait_seconds,talk_seconds\r\n"
        'k1,2026-01-05 09:00:00,"Billing, EU",true,10,100\r\n'
        'k2,2026-01-05 09:10:00,"Sales\r\nline two",true,20,200\r\n'
        'k3,2026-01-05 09:20:00,"Billing, EU",false,30,\r\n'
    ).encode("utf-8")
    path = make.project(
        project_yaml("{path: calls.csv}"), metrics=CALL_METRICS, files={"calls.csv": raw}
    )
    index = by_key(evaluate_records(path, period="day"))
    # the BOM does not hide `contact_id`; the embedded newline does not split k2
    assert index[("offered", "2026-01-05")]["value"] == 3
    assert index[("talk_total", "2026-01-05")]["value"] == 300.0
    assert index[("wait_mean", "2026-01-05")]["value"] == 20.0  # (10+20+30)/3: CR not in "30"
    grouped = by_key(evaluate_records(path, ["offered"], period="day", by=["queue"]), "queue")
    assert grouped[("offered", "2026-01-05", "Billing, EU")]["value"] == 2
    [sales] = [k for k in grouped if k[2] not in ("Billing, EU",)]
    assert sales[2].startswith("Sales") and sales[2].endswith("line two")
    assert grouped[sales]["value"] == 1


def test_timestamps_naive_is_project_zone_offsets_are_converted(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds
    z1,2026-01-05T23:30:00Z,true,1
    n1,2026-01-05 23:30:00,true,1
    o1,2026-01-06T00:30:00+02:00,true,1
    o2,2026-01-05T22:59:59-01:00,true,1
    """
    path = make.project(
        project_yaml("{path: calls.csv}", timezone="Europe/Berlin"),
        metrics={"offered": OFFERED},
        files={"calls.csv": calls},
    )
    days = by_key(evaluate_records(path, period="day"))
    # z1: 23:30Z = 2026-01-06 00:30 Berlin -> day 06
    # n1: naive = Berlin wall clock 2026-01-05 23:30 -> day 05
    # o1: 00:30+02:00 = 22:30Z = 23:30 Berlin on the 5th -> day 05
    # o2: 22:59:59-01:00 = 23:59:59Z = 00:59:59 Berlin on the 6th -> day 06
    assert days[("offered", "2026-01-05")]["value"] == 2
    assert days[("offered", "2026-01-06")]["value"] == 2
    assert days[("offered", "2026-01-05")]["period_start"] == dt.datetime(
        2026, 1, 5, tzinfo=ZoneInfo("Europe/Berlin")
    )
    hours = by_key(evaluate_records(path, period="hour"))
    assert hours[("offered", "2026-01-05T23")]["value"] == 2  # n1, o1
    assert hours[("offered", "2026-01-06T00")]["value"] == 2  # z1, o2


def test_timestamp_with_hour_only_offset(make):
    # ISO 8601 allows a +hh offset; PostgreSQL exports write timestamptz this way
    calls = """
    contact_id,offered_at,answered,wait_seconds
    p1,2026-01-05 23:30:00+00,true,1
    p2,2026-01-06T00:30:00+02,true,1
    """
    path = make.project(
        project_yaml("{path: calls.csv}", timezone="Europe/Berlin"),
        metrics={"offered": OFFERED},
        files={"calls.csv": calls},
    )
    days = by_key(evaluate_records(path, period="day"))
    # p1: 23:30 UTC = 00:30 Berlin on the 6th; p2: 22:30 UTC = 23:30 Berlin on the 5th
    assert days[("offered", "2026-01-05")]["value"] == 1
    assert days[("offered", "2026-01-06")]["value"] == 1


def test_glob_of_several_csv_files(make):
    header = "contact_id,offered_at,answered,wait_seconds,talk_seconds\n"
    files = {
        "exports/calls/2026-01-05.csv": header
        + "k1,2026-01-05 09:00:00,true,5,100\nk2,2026-01-05 10:00:00,true,5,200\n",
        # same columns in another order
        "exports/calls/2026-01-12.csv": "talk_seconds,wait_seconds,answered,offered_at,contact_id\n300,5,true,2026-01-12 09:00:00,k3\n",
        "exports/other/ignored.csv": header + "x1,2026-01-12 09:00:00,true,5,999\n",
    }
    path = make.project(
        project_yaml("{path: exports/calls/*.csv}"), metrics=CALL_METRICS, files=files
    )
    index = by_key(evaluate_records(path))
    assert index[("talk_total", "2026-W02")]["value"] == 300.0  # k1 + k2 from the first file
    assert index[("talk_total", "2026-W03")]["value"] == 300.0  # k3 only; ignored.csv not read
    assert index[("offered", "2026-W03")]["value"] == 1


def test_parquet_with_aware_and_naive_timestamps(make):
    utc = ZoneInfo("UTC")
    frame = pl.DataFrame(
        {
            "contact_id": ["k1", "k2", "k3"],
            # aware: 23:30 UTC is 00:30 Berlin on the 6th
            "offered_at": [
                dt.datetime(2026, 1, 5, 23, 30, tzinfo=utc),
                dt.datetime(2026, 1, 5, 12, 0, tzinfo=utc),
                dt.datetime(2026, 1, 5, 13, 0, tzinfo=utc),
            ],
            # naive: Berlin wall clock
            "answered_at": [
                dt.datetime(2026, 1, 6, 0, 31, 0),
                dt.datetime(2026, 1, 5, 13, 0, 30),
                None,
            ],
            "talk_seconds": [60.0, 120.0, None],
            "csat": [5, None, 3],
        },
        schema_overrides={"offered_at": pl.Datetime("us", "UTC"), "answered_at": pl.Datetime("us")},
    )
    data = make.root / "calls.parquet"
    frame.write_parquet(data)
    path = make.project(
        project_yaml("{path: calls.parquet}", timezone="Europe/Berlin"),
        metrics={**CALL_METRICS, "csat": CSAT},
    )
    index = by_key(evaluate_records(path, period="day"))
    assert index[("offered", "2026-01-06")]["value"] == 1  # k1
    assert index[("offered", "2026-01-05")]["value"] == 2  # k2 (13:00 Berlin), k3 (14:00)
    # answered derived from answered_at; wait = answered_at - offered_at:
    # k1: 00:31:00 - 00:30:00 Berlin = 60 s; k2: 13:00:30 - 13:00 Berlin = 30 s
    assert index[("wait_mean", "2026-01-06")]["value"] == 60.0
    assert index[("wait_mean", "2026-01-05")]["value"] == 30.0
    assert index[("handled", "2026-01-05")]["value"] == 1
    assert index[("csat_mean", "2026-01-05")]["value"] == 3.0  # k2 null, k3 3 (Int64 column)


def test_roster_join_by_team_with_unknown_agents(make):
    yaml = project_yaml(
        "{path: calls.csv}",
        extra='  agents: {path: roster.csv, columns: {"Agent ID": agent_id, "Team (current)": team}}\n',
    )
    calls = """
    contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds
    k1,2026-01-05 09:00:00,a1,true,5,100
    k2,2026-01-05 09:10:00,a2,true,5,200
    k3,2026-01-05 09:20:00,a1,true,5,300
    k4,2026-01-05 09:30:00,a9,true,5,40
    k5,2026-01-05 09:40:00,,false,50,
    """
    roster = """
    Agent ID,name,Team (current),site
    a1,"Doe, Jane",Team A,Berlin
    a2,Zoë,Team B,Porto
    """
    path = make.project(
        yaml, metrics=CALL_METRICS, files={"calls.csv": calls, "roster.csv": roster}
    )
    index = by_key(evaluate_records(path, period="day", by=["team"]), "team")
    assert index[("talk_total", "2026-01-05", "Team A")]["value"] == 400.0  # k1 + k3
    assert index[("talk_total", "2026-01-05", "Team B")]["value"] == 200.0  # k2
    # a9 is not in the roster and k5 has no agent: both fall in the null team
    assert index[("talk_total", "2026-01-05", None)]["value"] == 40.0
    assert index[("offered", "2026-01-05", None)]["value"] == 2
    assert {k[2] for k in index if k[0] == "offered"} == {"Team A", "Team B", None}


SYSTEM_PROJECT = """
name: Tech
timezone: UTC
metrics: [metrics/]
sources:
  system_events: {path: latency.csv, time_column: at}
"""
P90 = metric(
    "response_p90",
    "system_events",
    "{kind: percentile, expr: response_ms, p: 90}",
    "lower_is_better",
)
SLOW = metric("slow_share", "system_events", '{kind: ratio, numerator: "response_ms > 250"}')


def test_custom_dataset_time_column_and_inferred_number(make):
    latency = """
    at,host,response_ms
    2026-01-05 09:00:00,web1,100
    2026-01-05 10:00:00,web2, 500
    2026-01-05 11:00:00,web1,300
    2026-01-05 12:00:00,web2,200
    2026-01-05 13:00:00,web1,400
    2026-01-06 09:00:00,web1,1000
    """
    path = make.project(
        SYSTEM_PROJECT, metrics={"p90": P90, "slow": SLOW}, files={"latency.csv": latency}
    )
    index = by_key(evaluate_records(path, period="day"))
    # Jan 5 sorted: 100 200 300 400 500; p90 at rank 0.9*4 = 3.6 -> 400 + 0.6*100 = 460
    # (a numeric comparison: as text "500" < "1000" would order differently)
    assert index[("response_p90", "2026-01-05")]["value"] == pytest.approx(460.0)
    assert index[("response_p90", "2026-01-05")]["n"] == 5
    assert index[("response_p90", "2026-01-06")]["value"] == 1000.0
    # > 250: 500, 300, 400 of 5 -> 60 %
    assert index[("slow_share", "2026-01-05")]["value"] == pytest.approx(60.0)
    hosts = by_key(evaluate_records(path, ["response_p90"], period="all", by=["host"]), "host")
    # web2: 200, 500 -> p90 = 200 + 0.9*300 = 470
    assert hosts[("response_p90", "all", "web2")]["value"] == pytest.approx(470.0)


def test_missing_required_column_names_dataset_column_and_file(make):
    calls = """
    contact_id,started,answered,wait_seconds
    k1,2026-01-05 09:00:00,true,5
    """
    path = make.project(
        project_yaml("{path: calls.csv}"), metrics={"offered": OFFERED}, files={"calls.csv": calls}
    )
    with pytest.raises(DataError) as caught:
        evaluate_records(path)
    text = caught.value.render()
    assert "calls" in text and "offered_at" in text and "calls.csv" in text
    [issue] = [i for i in caught.value.issues if "offered_at" in i.message]
    assert issue.file is not None and issue.file.endswith("calls.csv")


def test_missing_required_column_after_mapping_typo(make):
    # the mapping names an export header that is not in the file: offered_at stays missing
    yaml = project_yaml('{path: calls.csv, columns: {"Start Tme": offered_at}}')
    calls = """
    contact_id,Start Time,answered,wait_seconds
    k1,2026-01-05 09:00:00,true,5
    """
    path = make.project(yaml, metrics={"offered": OFFERED}, files={"calls.csv": calls})
    with pytest.raises(DataError) as caught:
        evaluate_records(path)
    assert "offered_at" in caught.value.render()
    assert "calls.csv" in caught.value.render()


def test_missing_optional_column_disables_only_its_metrics(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds,talk_seconds
    k1,2026-01-05 09:00:00,true,10,100
    k2,2026-01-05 09:10:00,false,30,
    """
    path = make.project(
        project_yaml("{path: calls.csv}"),
        metrics={**CALL_METRICS, "csat": CSAT},
        files={"calls.csv": calls},
    )
    # named, csat_mean shows why it has no value; in the whole set it is not configured
    # (issue 17 item 7): named once in a note, no record
    named = evaluate_records(path, ["csat_mean"], period="day")
    assert [r["status"] for r in named] == ["not_judged"]
    whole = tpmkit.load(path).evaluate(period="day")
    assert "csat_mean" not in set(whole.records.get_column("metric"))
    assert any("csat_mean (column `csat`" in n for n in whole.notes), whole.notes
    records = evaluate_records(path, period="day")
    csat = [r for r in named if r["metric"] == "csat_mean"]
    assert len(csat) == 1
    # the fixture's csat_mean has no thresholds: not judged comes before no data
    assert csat[0]["status"] == "not_judged" and csat[0]["value"] is None
    assert "csat" in csat[0]["reason"]
    index = by_key(records)
    assert index[("offered", "2026-01-05")]["value"] == 2
    assert index[("talk_total", "2026-01-05")]["value"] == 100.0
    assert index[("wait_mean", "2026-01-05")]["value"] == 20.0
    assert index[("wait_mean", "2026-01-05")]["status"] != "no_data"


def test_answered_and_wait_derived_from_answered_at(make):
    calls = """
    contact_id,offered_at,answered_at,talk_seconds
    k1,2026-01-05 09:00:00,2026-01-05 09:00:45,100
    k2,2026-01-05 09:10:00,2026-01-05 09:12:00,200
    k3,2026-01-05 09:20:00,,
    """
    path = make.project(
        project_yaml("{path: calls.csv}"), metrics=CALL_METRICS, files={"calls.csv": calls}
    )
    index = by_key(evaluate_records(path, period="day"))
    # answered = answered_at is not null: k1, k2
    assert index[("handled", "2026-01-05")]["value"] == 2
    # wait = answered_at - offered_at for answered rows: 45 s and 120 s; k3 unknown
    assert index[("wait_mean", "2026-01-05")]["value"] == 82.5
    assert index[("wait_mean", "2026-01-05")]["n"] == 2
