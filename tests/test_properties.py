"""Property tests (hypothesis) and a fuzz test of the whole command line.

1. An additive metric over a week equals its days' numerators and denominators combined.
2. Every row lands in exactly one period of each grain, in any time zone.
3. The same data split across several files gives the same values as one file.
4. With quarantine, random good and bad rows give the values of the good rows alone, and
   the rejects file holds exactly the bad rows.
5. Random bytes, truncated files and random YAML never produce a traceback: exit 2.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import ProjectFactory
from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.engine.periods import period_start

PROJECT = """
name: Properties
timezone: {tz}
metrics: [metrics/]
sources:
  calls: {{path: "{path}"}}
"""
METRICS = {
    "handled": "id: handled\nname: H\nunit: count\ndirection: higher_is_better\n"
    "dataset: calls\ncompute: {kind: count, where: answered}\n",
    "sl": "id: sl\nname: SL\nunit: percent\ndirection: higher_is_better\ndataset: calls\n"
    'compute: {kind: ratio, where: answered, numerator: "wait_seconds <= 20"}\n',
    "talk": "id: talk\nname: T\nunit: seconds\ndirection: lower_is_better\ndataset: calls\n"
    "compute: {kind: sum, expr: talk_seconds}\n",
}
ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"]
START = dt.datetime(2026, 3, 23)  # the week around the European DST change

calls = st.lists(
    st.tuples(
        st.integers(0, 14 * 24 * 60 - 1),  # minute within two weeks
        st.booleans(),
        st.integers(0, 60),
        st.integers(0, 900),
    ),
    min_size=1,
    max_size=60,
)


def csv_of(rows, start=0) -> str:
    lines = ["contact_id,offered_at,answered,wait_seconds,talk_seconds"]
    for i, (minute, answered, wait, talk) in enumerate(rows, start=start):
        at = START + dt.timedelta(minutes=minute)
        lines.append(f"c{i},{at:%Y-%m-%dT%H:%M:%S}Z,{'Y' if answered else 'N'},{wait},{talk}")
    return "\n".join(lines) + "\n"


def run(tmp: Path, rows, tz="UTC", period="week", files=1, **options):
    factory = ProjectFactory(tmp)
    chunks = [rows[i::files] for i in range(files)]
    written = {}
    offset = 0
    for index, chunk in enumerate(chunks):
        written[f"exports/part{index}.csv"] = csv_of(chunk, start=offset)
        offset += len(chunk)
    path = "exports/*.csv"
    project_file = factory.project(PROJECT.format(tz=tz, path=path), metrics=METRICS, files=written)
    result = api.load(project_file).evaluate(period=period, cache=False, **options)
    return result


def values(result) -> dict:
    return {(r["metric"], r["period"]): (r["value"], r["n"]) for r in result.records.to_dicts()}


SETTINGS = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(calls)
def test_a_week_is_its_days_combined(tmp_path_factory, rows):
    tmp = tmp_path_factory.mktemp("additive")
    days, weeks = values(run(tmp / "d", rows, period="day")), values(run(tmp / "w", rows))
    for label in {p for (_, p) in weeks}:
        monday = dt.date.fromisocalendar(int(label[:4]), int(label[6:]), 1)
        in_week = {(monday + dt.timedelta(days=k)).isoformat() for k in range(7)}
        day_sl = [days[("sl", d)] for d in in_week if ("sl", d) in days]
        hits = sum(round(v * n / 100) for v, n in day_sl if v is not None)
        total = sum(n for _, n in day_sl)
        value, n = weeks[("sl", label)]
        assert n == total
        assert (value is None) if total == 0 else abs(value - 100 * hits / total) < 1e-9
        handled = sum(days[("handled", d)][0] for d in in_week if ("handled", d) in days)
        assert weeks[("handled", label)][0] == handled
        talk = sum(days[("talk", d)][0] for d in in_week if ("talk", d) in days)
        assert abs(weeks[("talk", label)][0] - talk) < 1e-6


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(0, 400 * 24 * 60), min_size=1, max_size=50),
    st.sampled_from(ZONES),
    st.sampled_from(["hour", "day", "week", "month", "quarter", "year"]),
)
def test_every_instant_lands_in_exactly_one_period(minutes, zone, grain):
    instants = pl.Series(
        [dt.datetime(2025, 10, 1) + dt.timedelta(minutes=m) for m in minutes],
        dtype=pl.Datetime("us", "UTC"),
    ).dt.convert_time_zone(zone)
    frame = pl.DataFrame({"t": instants}).with_columns(
        period_start(pl.col("t"), grain).alias("start")
    )
    frame = frame.with_columns(
        pl.col("start").dt.offset_by({"hour": "1h", "day": "1d", "week": "1w", "month": "1mo",
                                      "quarter": "1q", "year": "1y"}[grain]).alias("end")
    )  # fmt: skip
    assert (
        frame.filter((pl.col("start") <= pl.col("t")) & (pl.col("t") < pl.col("end"))).height
        == frame.height
    )


@SETTINGS
@given(calls, st.integers(2, 4), st.sampled_from(ZONES))
def test_one_file_or_several_give_the_same_values(tmp_path_factory, rows, files, zone):
    tmp = tmp_path_factory.mktemp("split")
    one = values(run(tmp / "one", rows, tz=zone))
    several = values(run(tmp / "several", rows, tz=zone, files=files))
    assert one.keys() == several.keys()
    for key, (value, n) in one.items():
        other, other_n = several[key]
        assert n == other_n
        assert (value is None and other is None) or abs(value - other) < 1e-9


BAD_CELLS = [
    ("answered", "maybe"),
    ("wait_seconds", "-3"),
    ("offered_at", "soon"),
    ("talk_seconds", "x"),
]


@SETTINGS
@given(calls, st.lists(st.tuples(st.integers(0, 59), st.integers(0, 3)), max_size=10))
def test_quarantine_leaves_exactly_the_bad_rows_out(tmp_path_factory, rows, spoil):
    tmp = tmp_path_factory.mktemp("quarantine")
    text = csv_of(rows).splitlines()
    header = text[0].split(",")
    bad = {}
    for index, which in spoil:
        if index < len(rows):
            bad[index] = BAD_CELLS[which]
    lines = [text[0]]
    for index, line in enumerate(text[1:]):
        cells = line.split(",")
        if index in bad:
            column, wrong = bad[index]
            cells[header.index(column)] = wrong
        lines.append(",".join(cells))
    factory = ProjectFactory(tmp / "mixed")
    project_file = factory.project(
        PROJECT.format(tz="UTC", path="calls.csv"),
        metrics=METRICS,
        files={"calls.csv": "\n".join(lines) + "\n"},
    )
    result = api.load(project_file).evaluate(
        on_bad_rows="quarantine", cache=False, rejects_dir=tmp / "rejects"
    )
    good = [r for i, r in enumerate(rows) if i not in bad]
    expected = values(run(tmp / "good", good)) if good else {}
    assert values(result) == expected or not good
    (summary,) = result.datasets
    assert summary.quarantined == len(bad)
    if bad:
        rejects = pl.read_csv(summary.rejects_file, infer_schema=False)
        assert sorted(rejects.get_column("contact_id").to_list()) == sorted(f"c{i}" for i in bad)


def test_fuzzed_inputs_never_give_a_traceback(tmp_path):
    runner = CliRunner()
    rng = random.Random(20261125)
    good = csv_of([(60 * i, True, 5, 100) for i in range(20)])
    cases: list[tuple[str, bytes | str]] = [
        ("calls.csv", bytes(rng.randrange(256) for _ in range(500))),
        ("calls.csv", good[: len(good) // 2 - 7]),  # truncated mid-line
        ("calls.csv", good.replace(",", ";", 3)),
        ("calls.csv", "\ufeff" + good.replace("\n", "\r\n")),
        ("calls.csv", ""),
    ]
    for index, (name, content) in enumerate(cases):
        factory = ProjectFactory(tmp_path / f"data{index}")
        project_file = factory.project(
            PROJECT.format(tz="UTC", path=name), metrics=METRICS, files={name: content}
        )
        for command in (["validate"], ["evaluate", "-f", "json", "--no-cache"]):
            result = runner.invoke(app, [*command, "-p", str(project_file)])
            assert result.exit_code in (0, 2), (index, command, result.output)
            assert "Traceback" not in result.output
    documents = [
        "name: [unclosed",
        "- a\n- b",
        "name: x\nmetrics: 5",
        "&a [*a, *a]",
        yaml.safe_dump({"name": 1, "timezone": ["x"], "sources": {"calls": 3}}),
        "".join(rng.choice("ab: -[]{}&*!\n'\"") for _ in range(300)),
        "\x00\x01binary",
    ]
    for index, text in enumerate(documents):
        folder = tmp_path / f"yaml{index}"
        folder.mkdir()
        (folder / "tpmkit.yaml").write_text(text)
        for command in (["validate"], ["evaluate", "-f", "json"], ["check"], ["report"]):
            result = runner.invoke(app, [*command, "-p", str(folder / "tpmkit.yaml")])
            assert result.exit_code == 2, (index, command, result.output)
            assert "Traceback" not in result.output


def test_deep_and_huge_yaml_are_clear_errors(tmp_path):
    runner = CliRunner()
    for index, text in enumerate(
        ["name: x\nsources: " + "[" * 2000 + "]" * 2000, "name: x\n" + "# padding\n" * 600_000]
    ):
        folder = tmp_path / f"y{index}"
        folder.mkdir()
        (folder / "tpmkit.yaml").write_text(text)
        result = runner.invoke(app, ["validate", "-p", str(folder / "tpmkit.yaml")])
        assert result.exit_code == 2 and "Traceback" not in result.output, result.output


def test_parquet_from_other_tools_and_csv_files_in_another_column_order(tmp_path):
    factory = ProjectFactory(tmp_path)
    naive = pl.DataFrame(
        {
            "contact_id": ["c1", "c2"],
            "offered_at": [dt.datetime(2026, 3, 2, 9), dt.datetime(2026, 3, 2, 10)],
            "answered": [True, True],
            "wait_seconds": [10, 30],
            "talk_seconds": [100.0, 200.0],
        }
    ).with_columns(pl.col("contact_id").cast(pl.Categorical))
    aware = naive.with_columns(
        pl.col("offered_at").dt.replace_time_zone("UTC"),
        pl.Series("contact_id", ["c3", "c4"]),  # plain strings in this file
    )
    factory.write("p/a.parquet", b"")
    naive.write_parquet(tmp_path / "p" / "a.parquet")
    aware.write_parquet(tmp_path / "p" / "b.parquet")
    project_file = factory.project(
        PROJECT.format(tz="Europe/Berlin", path="p/*.parquet"), metrics=METRICS
    )
    result = api.load(project_file).evaluate(period="all", cache=False)
    assert values(result)[("handled", "all")] == (4.0, 4)
    assert values(result)[("talk", "all")][0] == 600.0
    reordered = ProjectFactory(tmp_path / "csv")
    reordered.write(
        "e/a.csv", "contact_id,offered_at,answered,wait_seconds\nc1,2026-03-02 09:00,Y,5\n"
    )
    reordered.write(
        "e/b.csv", "wait_seconds,answered,offered_at,contact_id\n30,Y,2026-03-02 10:00,c2\n"
    )
    project_file = reordered.project(PROJECT.format(tz="UTC", path="e/*.csv"), metrics=METRICS)
    result = api.load(project_file).evaluate(period="all", cache=False)
    assert values(result)[("sl", "all")] == (50.0, 2)
