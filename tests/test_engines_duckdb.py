"""Issue 19: the whole catalogue through polars (the reference) and Ibis-DuckDB gives the
same records — identical n, values and components to 1e-9 relative, the same statuses and
reasons — on the example and on the adversarial project (tests/engines/fixtures.py)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from engines.agree import differences
from engines.fixtures import write_project
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"


@pytest.fixture(scope="module")
def example():
    return load(EXAMPLE)


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    return load(write_project(tmp_path_factory.mktemp("edges")))


def both(project, **options):
    reference = project.evaluate(cache=False, **options).records
    other = project.with_engine("duckdb").evaluate(cache=False, **options).records
    return reference, other


EXAMPLE_CASES = [
    ("week", []),
    ("day", ["team"]),
    ("hour", []),
    ("month", ["vendor"]),
    ("all", ["team"]),
    ("week", ["agent_id"]),
]


@pytest.mark.parametrize(
    ("grain", "by"), EXAMPLE_CASES, ids=[f"{g}-{'-'.join(b)}" for g, b in EXAMPLE_CASES]
)
def test_the_example_catalogue_agrees(example, grain, by):
    reference, other = both(example, period=grain, by=by)
    assert reference.height > 0
    assert reference.filter(pl.col("value").is_not_null()).height > 0.8 * reference.height
    assert differences(reference, other, by) == []


def test_the_example_agrees_on_a_cut_range(example):
    # a range cutting weeks: partial periods, a stock's grid cut by the window
    options = {"period": "week", "start": dt.date(2026, 9, 2), "end": dt.date(2026, 10, 14)}
    reference, other = both(example, **options)
    assert "not_judged" in reference.get_column("status").to_list()
    assert differences(reference, other, []) == []


EDGE_CASES = [
    ("hour", []),
    ("day", ["team"]),
    ("week", []),
    ("week", ["agent_id"]),
    ("month", ["team"]),
    ("quarter", []),
    ("year", ["team"]),
    ("all", ["team"]),
]


@pytest.mark.parametrize(
    ("grain", "by"), EDGE_CASES, ids=[f"{g}-{'-'.join(b)}" for g, b in EDGE_CASES]
)
def test_the_adversarial_project_agrees(edges, grain, by):
    reference, other = both(edges, period=grain, by=by)
    assert differences(reference, other, by) == []


def test_the_adversarial_project_agrees_on_ranges_cut_at_dst_days(edges):
    for start, end in [
        (dt.date(2026, 3, 29), dt.date(2026, 3, 29)),
        (dt.date(2026, 10, 25), dt.date(2027, 1, 1)),
    ]:
        for grain in ("hour", "week"):
            reference, other = both(edges, period=grain, start=start, end=end)
            assert reference.height > 0
            assert differences(reference, other, []) == []


def test_the_adversarial_project_reaches_its_edges(edges):
    """The fixture is adversarial only if its records fall on the edges it claims."""
    weeks = edges.evaluate(["contacts_offered"], period="week").records
    labels = set(weeks.get_column("period").to_list())
    assert {"2026-W52", "2026-W53", "2027-W01"} <= labels
    hours = edges.evaluate(["contacts_offered"], period="hour").records
    by_label = dict(zip(hours.get_column("period"), hours.get_column("n"), strict=True))
    # the fall-back hour twice, each with its offset: 02:30+02:00 and 02:30+01:00, 02:59:59.999999+01:00
    assert by_label["2026-10-25T02:00+02:00"] == 1
    assert by_label["2026-10-25T02:00+01:00"] == 2
    assert "2026-03-29T02" not in by_label  # the hour spring skips
    # 1 µs before midnight is the day before
    days = edges.evaluate(["contacts_offered"], period="day").records
    day_n = dict(zip(days.get_column("period"), days.get_column("n"), strict=True))
    assert day_n["2026-12-27"] >= 1 and day_n["2026-12-28"] >= 1
    teams = edges.evaluate(["aht"], period="all", by=["team"]).records
    assert None in teams.get_column("team").to_list()  # agents with no team: a null group
    fcr = edges.evaluate(["fcr_repeat"], period="week").records
    assert fcr.get_column("n").sum() > 0


def test_the_comparison_can_fail(edges):
    """A disagreement as small as the tolerance allows twice over is reported, and so is
    truncating periods in UTC instead of the project's zone."""
    reference, _ = both(edges, period="week")
    nudged = reference.with_columns(
        pl.when(pl.int_range(pl.len()) == 3)
        .then(pl.col("value") * (1 + 3e-9))
        .otherwise(pl.col("value"))
        .alias("value")
    )
    assert len(differences(reference, nudged, [])) == 1
    utc = load(write_project(edges.root / "utc")).with_engine("duckdb")
    utc = type(utc)(**{**utc.__dict__, "spec": utc.spec.model_copy(update={"timezone": "UTC"})})
    in_utc = utc.evaluate(period="day", cache=False).records
    local, _ = both(edges, period="day")
    assert differences(local, in_utc, []) != []


COMMANDS = [
    ["check"],
    ["trend", "aht"],
    ["scorecard"],
    ["explain", "service_level"],
    ["report", "-o", "{out}"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_every_evaluating_command_takes_engine_and_says_the_same(tmp_path, command):
    from typer.testing import CliRunner

    from tpmkit.cli import app

    outputs = []
    for engine in ("polars", "duckdb"):
        out = tmp_path / f"{engine}.html"
        args = [a.replace("{out}", str(out)) for a in command]
        result = CliRunner().invoke(app, [*args, "-p", str(EXAMPLE), "-q", "--engine", engine])
        assert result.exit_code in (0, 1), result.output  # 1: check's gate found a breach
        written = out.read_text(encoding="utf-8") if out.exists() else ""
        # the report's minute of making: two runs may straddle a minute's turn
        written = re.sub(r"<b>Generated</b> [^<]*<", "<b>Generated</b> …<", written)
        outputs.append((result.exit_code, result.output, written))
    assert outputs[0] == outputs[1]
    assert outputs[0][1] or outputs[0][2]


def test_a_date_time_column_chosen_by_a_metric_is_local_midnight(make):
    """A metric's own `time_column` that is a date (not the dataset's time column, which
    is registered as instants) is read as local midnight, as polars reads it."""
    rows = "\n".join(
        f"o{i},2026-03-{27 + i % 3}T23:30:00+01:00,2026-03-{28 + i % 3},{i}" for i in range(9)
    )
    metric = """\
    id: orders_by_business_day
    name: Orders by business day
    owner: team_lead
    unit: count
    direction: higher_is_better
    dataset: orders
    time_column: business_day
    compute: {kind: count}
    """
    path = make.project(
        "name: t\ntimezone: Europe/Berlin\nmetrics: [metrics/]\nsources:\n"
        "  orders:\n    path: orders.csv\n    time_column: placed_at\n"
        "    types: {placed_at: timestamp, business_day: date, amount: float}\n",
        metrics={"orders_by_business_day": metric},
        files={"orders.csv": "order_id,placed_at,business_day,amount\n" + rows + "\n"},
    )
    project = load(path)
    for grain in ("day", "hour", "week"):
        reference, other = both(project, period=grain)
        assert reference.get_column("n").sum() == 9
        assert differences(reference, other, []) == []
    days = project.evaluate(period="day", cache=False).records
    assert dict(zip(days.get_column("period"), days.get_column("n"), strict=True)) == {
        "2026-03-28": 3,
        "2026-03-29": 3,
        "2026-03-30": 3,
    }
