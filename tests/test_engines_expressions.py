"""The row expressions of metric files read the same on the Ibis engines as on polars:
every function of the allow-list (its documented example), SQL's three-valued logic, and
differences of instants across a DST change; what the Ibis engines cannot read yet is
refused by name (a located error, exit 2), never computed differently."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import polars as pl
import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

import ibis

from tpmkit.engines.dialect import Dialect
from tpmkit.engines.translate import to_ibis
from tpmkit.spec.expressions import ExpressionError
from tpmkit.spec.functions import EXAMPLE_ROW, FUNCTIONS

ZONE = "Europe/Berlin"
BERLIN = ZoneInfo(ZONE)


@pytest.fixture(scope="module")
def table():
    row = dict(EXAMPLE_ROW)
    row["at"] = dt.datetime.fromisoformat(str(row["at"])).replace(tzinfo=BERLIN)
    frame = pl.DataFrame(
        [
            row,
            {
                **row,
                "name": None,
                "wait": None,
                "at": dt.datetime(2026, 10, 25, 1, 30, tzinfo=dt.UTC),
            },
        ],
        schema={
            "name": pl.String,
            "wait": pl.Float64,
            "clock": pl.String,
            "day": pl.String,
            "empty": pl.Float64,
            "at": pl.Datetime("us", ZONE),
        },
    ).with_columns(
        flag=pl.Series([True, None]),
        start=pl.Series(
            [
                dt.datetime(2026, 3, 28, 12, tzinfo=BERLIN),
                dt.datetime(2026, 10, 24, 12, tzinfo=BERLIN),
            ]
        ).dt.convert_time_zone(ZONE),
    )
    con = ibis.duckdb.connect()
    con.raw_sql("SET TimeZone = 'UTC'")
    con.con.register("t", frame.to_arrow())
    return frame, con, con.table("t")


def both(table, text: str) -> tuple[list, list]:
    frame, con, t = table
    reference = frame.select(v=pl.sql_expr(text)).get_column("v").to_list()
    got = con.to_polars(t.select(v=to_ibis(text, t, Dialect("duckdb"), ZONE))).get_column("v")
    return reference, got.to_list()


def same(a: list, b: list) -> bool:
    if len(a) == 1 and len(b) > 1:  # an expression of literals: polars gives one value
        a = a * len(b)
    return len(a) == len(b) and all(
        x == y or (isinstance(x, float) and y is not None and abs(x - y) < 1e-12)
        for x, y in zip(a, b, strict=True)
    )


EXAMPLES = sorted((n, e) for n, (e, _) in FUNCTIONS.items() if e)


@pytest.mark.parametrize(("name", "example"), EXAMPLES, ids=[n for n, _ in EXAMPLES])
def test_every_function_reads_as_on_polars(table, name, example):
    reference, got = both(table, example)
    assert same(reference, got), (reference, got)


LOGIC = [
    "NOT flag",
    "flag AND wait > 10",
    "flag OR wait > 10",
    "coalesce(flag, false)",
    "wait IN (12.5, 3)",
    "wait BETWEEN 12 AND 13",
    "name LIKE '%An%'",
    "CASE WHEN wait > 20 THEN 'long' WHEN wait > 10 THEN 'mid' END",
    "wait / 4",
    "(at - start) / INTERVAL '1 hour'",  # across both DST changes: 23 and 25 hour days
    "at - start <= INTERVAL '13 hours'",
    "date_part('day', at)",
]


@pytest.mark.parametrize("text", LOGIC)
def test_three_valued_logic_and_time_differences_read_as_on_polars(table, text):
    reference, got = both(table, text)
    assert same(reference, got), (reference, got)


def test_what_the_ibis_engines_cannot_read_is_refused_by_name(table):
    _, _, t = table
    with pytest.raises(ExpressionError, match="not yet available on the Ibis engines"):
        to_ibis("date_part('dow', at)", t, Dialect("duckdb"), ZONE)


def test_a_refused_expression_is_a_located_error(make):
    from typer.testing import CliRunner

    from tpmkit.cli import app

    metric = """\
    id: weekday_calls
    name: Weekday calls
    owner: team_lead
    unit: count
    direction: higher_is_better
    dataset: calls
    compute: {kind: count, where: "date_part('dow', offered_at) BETWEEN 1 AND 5"}
    """
    calls = "contact_id,offered_at,answered,wait_seconds\na,2026-01-05 09:00:00,true,4\n"
    path = make.project(
        "name: t\nmetrics: [metrics/]\nsources:\n  calls: {path: calls.csv}\n",
        metrics={"weekday_calls": metric},
        files={"calls.csv": calls},
    )
    result = CliRunner().invoke(app, ["evaluate", "-p", str(path), "--engine", "duckdb", "-q"])
    assert result.exit_code == 2
    assert (
        "weekday_calls.yaml" in result.output
        and "not yet available on the Ibis engines" in result.output
    )
    ok = CliRunner().invoke(app, ["evaluate", "-p", str(path), "-q"])
    assert ok.exit_code == 0
