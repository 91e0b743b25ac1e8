"""Record components: value = numerator / denominator × scale, computed by hand per kind."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import REPO, by_key, evaluate_records
from tpmkit import history
from tpmkit import project as api
from tpmkit.engine.compute import Input, Request, compute_records
from tpmkit.render.files import to_csv, to_json, write_parquet
from tpmkit.spec.expressions import Quotient, quotient
from tpmkit.spec.models import MetricSpec

PROJECT = """
name: Components
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  tickets: {path: tickets.csv}
"""

# W02 (2026-01-05 .. 01-11): c1-c3 answered (c3's `resolved` unknown), c4 and c5 not.
# W04 (2026-01-19 ..): one unanswered call: no qualifying row for the `answered` metrics.
CALLS = """
contact_id,offered_at,agent_id,customer_id,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds,resolved,csat
c1,2026-01-05 09:00:00,a1,u1,true,10,100,0,20,true,5
c2,2026-01-05 10:00:00,a1,u2,true,30,200,,40,false,3
c3,2026-01-06 11:00:00,a2,u1,true,50,,60,0,,4
c4,2026-01-06 12:00:00,,u3,false,,,,,,
c5,2026-01-07 12:00:00,,,false,3,,,,,
c6,2026-01-20 09:00:00,,u4,false,40,,,,,
"""

# open at the end of W02: t2; W03: t2, t3; W04: t2 (the horizon, 01-27, is in W05)
TICKETS = """
ticket_id,created_at,resolved_at
t1,2026-01-05 09:00:00,2026-01-06 10:00:00
t2,2026-01-06 09:00:00,
t3,2026-01-13 09:00:00,2026-01-21 09:00:00
t4,2026-01-27 09:00:00,
"""


def metric(metric_id: str, compute: str, extra: str = "", dataset: str = "calls") -> str:
    data = f"dataset: {dataset}\n" if dataset else ""
    return (
        f"id: {metric_id}\nname: {metric_id}\nunit: x\ndirection: higher_is_better\n"
        f"{data}compute: {compute}\n{extra}"
    )


METRICS = {
    "offered": metric("offered", "{kind: count}"),
    "handled": metric("handled", '{kind: count, where: "answered"}'),
    "talk_sum": metric("talk_sum", '{kind: sum, expr: "talk_seconds", where: "answered"}'),
    "talk_mean": metric("talk_mean", '{kind: mean, expr: "talk_seconds", where: "answered"}'),
    "hold_median": metric("hold_median", '{kind: median, expr: "hold_seconds"}'),
    "talk_p90": metric("talk_p90", '{kind: percentile, expr: "talk_seconds", p: 90}'),
    "fcr": metric(
        "fcr",
        '{kind: ratio, where: "answered", numerator: "resolved"}',
        "overrides:\n  - when: {agent_id: a1}\n    target: {value: 80}\n",
    ),
    "fcr_share": metric(
        "fcr_share", '{kind: ratio, where: "answered", numerator: "resolved", scale: 1}'
    ),
    "talk_per_acw": metric(
        "talk_per_acw",
        '{kind: ratio_of_sums, numerator: "talk_seconds", denominator: "acw_seconds"}',
    ),
    "csat_stat": metric(
        "csat_stat", '{kind: statistic, expr: "csat", statistic: "{s}"}', "parameters: {s: mean}\n"
    ),
    "csat_stat_median": metric(
        "csat_stat_median", '{kind: statistic, expr: "csat", statistic: median}'
    ),
    "no_repeat": metric(
        "no_repeat",
        '{kind: no_repeat_within, key: customer_id, window_days: 2, where: "answered"}',
    ),
    "csat_spread": metric(
        "csat_spread",
        '{kind: deviation_from_group_mean, expr: "csat", group: agent_id, where: "answered"}',
    ),
    "backlog": metric(
        "backlog",
        "{kind: open_at_period_end, opened: created_at, closed: resolved_at, "
        "horizon: [created_at, resolved_at]}",
        dataset="tickets",
    ),
    "per_hour": metric(
        "per_hour", '{kind: formula, expr: "3600 * handled / talk_sum"}', dataset=""
    ),
    "per_call": metric("per_call", '{kind: formula, expr: "talk_sum / handled"}', dataset=""),
    "unanswered": metric("unanswered", '{kind: formula, expr: "offered - handled"}', dataset=""),
}
FILES = {"calls.csv": CALLS, "tickets.csv": TICKETS}


@pytest.fixture
def path(make):
    return make.project(PROJECT, metrics=METRICS, files=FILES)


@pytest.fixture
def index(path):
    return by_key(evaluate_records(path))


def parts(record):
    return record["numerator"], record["denominator"], record["scale"]


W02 = [
    # metric, value, numerator, denominator, scale
    ("offered", 5.0, 5.0, None, 1.0),
    ("handled", 3.0, 3.0, None, 1.0),
    ("talk_sum", 300.0, 300.0, None, 1.0),  # c3's talk is empty: counts 0
    ("talk_mean", 150.0, 300.0, 2.0, 1.0),  # (100 + 200) / 2 known values
    ("hold_median", 30.0, None, None, None),  # median of 0 and 60: no components
    ("talk_p90", 190.0, None, None, None),  # 100 + 0.9 × 100
    ("fcr", 50.0, 1.0, 2.0, 100.0),  # c3's unknown `resolved` leaves the denominator
    ("fcr_share", 0.5, 1.0, 2.0, 1.0),
    ("talk_per_acw", 500.0, 300.0, 60.0, 100.0),  # 100 × 300 / (20 + 40 + 0)
    ("csat_stat", 4.0, 12.0, 3.0, 1.0),  # statistic: mean of 5, 3, 4
    ("csat_stat_median", 4.0, None, None, None),
    ("no_repeat", 100 * 2 / 3, 2.0, 3.0, 100.0),  # c1 repeats (u1 again 26 h later)
    ("csat_spread", 1.0, 2.0, 2.0, 1.0),  # a1: |5-4| + |3-4|; a2 has one value only
    ("backlog", 1.0, 1.0, None, 1.0),  # t2
    ("per_hour", 36.0, 3.0, 300.0, 3600.0),  # 3600 × 3 / 300
    ("per_call", 100.0, 300.0, 3.0, 1.0),
    ("unanswered", 2.0, None, None, None),  # a difference, not a quotient
]


@pytest.mark.parametrize(("metric_id", "value", "numerator", "denominator", "scale"), W02)
def test_components_of_every_kind(index, metric_id, value, numerator, denominator, scale):
    record = index[(metric_id, "2026-W02")]
    assert record["value"] == pytest.approx(value)
    assert parts(record) == (
        pytest.approx(numerator) if numerator is not None else None,
        denominator,
        scale,
    )


def test_a_stock_carries_its_level_on_every_period_of_its_grid(index):
    levels = {p: parts(index[("backlog", p)]) for p in ("2026-W02", "2026-W03", "2026-W04")}
    assert levels == {
        "2026-W02": (1.0, None, 1.0),
        "2026-W03": (2.0, None, 1.0),
        "2026-W04": (1.0, None, 1.0),
    }


def test_a_period_without_qualifying_rows_has_no_components(index):
    # W04 holds one unanswered call: the answered-only means, ratios and formulas have no
    # value there, so no components either; a count of none is 0 over nothing
    for metric_id in ("talk_mean", "fcr", "no_repeat", "csat_spread", "per_hour", "per_call"):
        record = index[(metric_id, "2026-W04")]
        assert record["value"] is None, metric_id
        assert parts(record) == (None, None, None), metric_id
    assert parts(index[("handled", "2026-W04")]) == (0.0, None, 1.0)
    assert parts(index[("talk_sum", "2026-W04")]) == (0.0, None, 1.0)
    assert parts(index[("offered", "2026-W04")]) == (1.0, None, 1.0)


def test_components_survive_grain_all_and_last(path):
    whole = by_key(evaluate_records(path, ["fcr", "talk_mean", "per_hour"], period="all"))
    assert parts(whole[("fcr", "all")]) == (1.0, 2.0, 100.0)
    assert parts(whole[("talk_mean", "all")]) == (300.0, 2.0, 1.0)
    assert parts(whole[("per_hour", "all")]) == (3.0, 300.0, 3600.0)
    last = evaluate_records(path, ["offered", "backlog"], period="week", last=1)
    assert {(r["metric"], r["period"]): parts(r) for r in last} == {
        ("offered", "2026-W04"): (1.0, None, 1.0),
        ("backlog", "2026-W04"): (1.0, None, 1.0),
    }


def test_components_survive_overrides_and_groups(path):
    rows = by_key(evaluate_records(path, ["fcr", "per_call"], by=["agent_id"]), "agent_id")
    a1 = rows[("fcr", "2026-W02", "a1")]
    assert a1["target"] == 80.0  # the override applies to this group
    assert parts(a1) == (1.0, 2.0, 100.0)  # c1 resolved, c2 not
    assert parts(rows[("fcr", "2026-W02", "a2")]) == (None, None, None)  # c3 unknown only
    assert parts(rows[("per_call", "2026-W02", "a1")]) == (300.0, 2.0, 1.0)


def test_a_metric_without_a_source_has_no_components(make):
    text = PROJECT.replace("  tickets: {path: tickets.csv}\n", "")
    path = make.project(text, metrics=METRICS, files={"calls.csv": CALLS})
    records = by_key(evaluate_records(path, ["backlog"]))
    # backlog has no thresholds: not judged comes before no data, the reason says both
    assert records[("backlog", "all")]["status"] == "not_judged"
    assert records[("backlog", "all")]["reason"].startswith("no thresholds; ")
    assert parts(records[("backlog", "all")]) == (None, None, None)


def test_outputs_and_history_carry_the_components(path, tmp_path):
    project = api.load(path)
    result = project.evaluate(["fcr"], period="week")
    [as_json] = [r for r in json.loads(to_json(result.records)) if r["period"] == "2026-W02"]
    assert (as_json["numerator"], as_json["denominator"], as_json["scale"]) == (1.0, 2.0, 100.0)
    rows = list(csv.DictReader(io.StringIO(to_csv(result.records))))
    [as_csv] = [r for r in rows if r["period"] == "2026-W02"]
    assert (as_csv["numerator"], as_csv["denominator"], as_csv["scale"]) == ("1.0", "2.0", "100.0")
    write_parquet(result.records, tmp_path / "out.parquet")
    parquet = pl.read_parquet(tmp_path / "out.parquet").filter(pl.col("period") == "2026-W02")
    assert parquet.select("numerator", "denominator", "scale").row(0) == (1.0, 2.0, 100.0)
    history.record(project, result, "evaluate")
    stored = history.load(project).records.filter(pl.col("period") == "2026-W02")
    assert stored.select("numerator", "denominator", "scale").row(0) == (1.0, 2.0, 100.0)


def close(value: float, numerator: float, denominator: float, scale: float) -> bool:
    return math.isclose(value, numerator / denominator * scale, rel_tol=1e-9, abs_tol=1e-300)


def test_the_bundled_example_by_team():
    project = api.load(REPO / "examples/contact-center/tpmkit.yaml")
    records = project.evaluate(None, period="week", by=["team"]).records
    with_parts = 0
    for record in records.to_dicts():
        numerator, denominator, scale = parts(record)
        if record["value"] is None:
            assert (numerator, denominator, scale) == (None, None, None), record["metric"]
        elif numerator is not None and denominator is not None and scale is not None:
            assert close(record["value"], numerator, denominator, scale), record
            with_parts += 1
        elif numerator is not None:  # a count, a sum or a stock: the value itself
            assert (denominator, scale, numerator) == (None, 1.0, record["value"])
    assert with_parts > 500
    kinds_with_parts = set(
        records.filter(pl.col("denominator").is_not_null()).get_column("metric").to_list()
    )
    # ratios, means, ratios of sums, the repeat window, calibration, both quotient formulas
    assert {"fcr", "aht", "occupancy", "fcr_repeat", "qa_calibration_variance"} <= kinds_with_parts
    assert "contacts_per_hour" in kinds_with_parts  # (the example has no cost data)
    per_hour = records.filter(pl.col("metric") == "contacts_per_hour").drop_nulls("value")
    assert set(per_hour.get_column("scale").to_list()) == {3600.0}


@pytest.mark.parametrize(
    ("file", "shape"),
    [
        ("cost_per_contact", Quotient("total_cost", "contacts_handled", 1.0)),
        ("contacts_per_hour", Quotient("contacts_handled", "logged_in_time", 3600.0)),
    ],
)
def test_the_catalogue_formulas_are_quotients(file, shape):
    import yaml

    definition = yaml.safe_load((REPO / "metrics" / f"{file}.yaml").read_text())
    assert quotient(definition["compute"]["expr"]) == shape


@pytest.mark.parametrize(
    ("text", "shape"),
    [
        ("a / (b / 60)", Quotient("a", "b", 60.0)),
        ('"a b" / c * 100 / 4', Quotient("a b", "c", 25.0)),
        ("a / b + 1", None),
        ("(a + b) / c", None),
        ("abs(a) / b", None),
        ("a / b / c", None),
        ("a * 8", None),
        ("a / 0", None),
    ],
)
def test_quotient_shapes(text, shape):
    assert quotient(text) == shape


def spec(metric_id: str, compute: dict[str, object]) -> MetricSpec:
    data = {"id": metric_id, "name": metric_id, "compute": compute}
    if compute["kind"] != "formula":
        data["dataset"] = "calls"
    return MetricSpec.model_validate(data)


RANDOM_METRICS = [
    spec("r", {"kind": "ratio", "where": "flag IS NOT NULL OR x > 5", "numerator": "flag"}),
    spec("m", {"kind": "mean", "expr": "x", "where": "flag"}),
    spec("s", {"kind": "ratio_of_sums", "numerator": "x", "denominator": "y", "scale": 7}),
    spec("st", {"kind": "statistic", "expr": "y", "statistic": "mean"}),
    spec("d", {"kind": "deviation_from_group_mean", "expr": "x", "group": "g"}),
    spec("k", {"kind": "no_repeat_within", "key": "g", "window_days": 1}),
    spec("f", {"kind": "formula", "expr": "60 * s / (m / 2)"}),
]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 24 * 6),  # hour of the week
            st.sampled_from([True, False, None]),
            st.one_of(st.none(), st.floats(0, 1000)),
            st.floats(0, 50),
            st.sampled_from(["a", "b", "c", None]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_value_is_numerator_over_denominator_times_scale(rows):
    start = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "offered_at": [start + dt.timedelta(hours=h) for h, *_ in rows],
            "flag": [r[1] for r in rows],
            "x": [r[2] for r in rows],
            "y": [r[3] for r in rows],
            "g": [r[4] for r in rows],
        },
        schema={
            "offered_at": pl.Datetime("us", "UTC"),
            "flag": pl.Boolean,
            "x": pl.Float64,
            "y": pl.Float64,
            "g": pl.String,
        },
    )
    inputs = {"calls": Input(frame.lazy(), "offered_at")}
    records = compute_records(RANDOM_METRICS, inputs, Request("day"), "UTC")
    for record in records.to_dicts():
        numerator, denominator, scale = parts(record)
        if record["value"] is None:
            assert (numerator, denominator, scale) == (None, None, None)
        if record["value"] is not None:  # every one of these kinds has all three parts
            assert None not in (numerator, denominator, scale), record
            assert close(record["value"], numerator, denominator, scale), record
