"""A metric whose expression the data cannot answer (a `where` of text, a mean of text) is
a located error naming that metric (exit 2) on every engine and for every kind — the
stocks included, which compute their own cells — never an internal error (exit 3)."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from tpmkit.cli import app

runner = CliRunner()
PROJECT = """
name: Refused
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  tickets: {path: tickets.csv}
"""
CALLS = (
    "contact_id,offered_at,agent_id,answered,wait_seconds,queue\n"
    "c1,2026-01-05 10:00:00,a1,true,5,Billing\n"
    "c2,2026-01-06 11:00:00,a1,false,40,Tech\n"
)
TICKETS = (
    "ticket_id,created_at,resolved_at,agent_id\n"
    "t1,2026-01-05 10:00:00,2026-01-06 10:00:00,a1\n"
    "t2,2026-01-06 09:00:00,,a1\n"
)
ASA = """id: asa
name: ASA
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: wait_seconds}
"""
MEAN_OF_TEXT = """id: mean_of_text
name: Mean of a queue name
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: queue}
"""
OPEN_WHERE_TEXT = """id: open_where_text
name: Open tickets, a where of text
unit: count
direction: lower_is_better
dataset: tickets
compute:
  kind: open_at_period_end
  opened: created_at
  closed: resolved_at
  horizon: [created_at, resolved_at]
  where: ticket_id
"""
COUNT_WHERE_TEXT = """id: count_where_text
name: Calls, a where of text
unit: count
direction: higher_is_better
dataset: calls
compute: {kind: count, where: queue}
"""
ENGINES = ["polars", "duckdb"]


def evaluate(make, metrics: dict[str, str], engine: str, *ids: str):
    path = make.project(
        PROJECT, metrics=metrics, files={"calls.csv": CALLS, "tickets.csv": TICKETS}
    )
    args = ["evaluate", "-p", str(path), "--engine", engine, "-q", *ids]
    return runner.invoke(app, args, catch_exceptions=False)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_stock_whose_where_is_text_is_located(make, engine):
    if engine == "duckdb":
        pytest.importorskip("ibis", reason="the DuckDB engine needs tpmkit[duckdb]")
    result = evaluate(make, {"open_where_text": OPEN_WHERE_TEXT}, engine)
    assert result.exit_code == 2, result.output
    # located at the metric's compute block (its first key: line 7, column 3)
    assert "metrics/open_where_text.yaml:7:3: error: metric `open_where_text` cannot be " in (
        result.output
    )
    assert "bug in tpmkit" not in result.output


def test_the_duckdb_engine_names_the_metric_of_a_pass_the_backend_refuses(make):
    pytest.importorskip("ibis", reason="the DuckDB engine needs tpmkit[duckdb]")
    # ASA and the mean of a text share one pass over the calls: only the second is named
    metrics = {"asa": ASA, "mean_of_text": MEAN_OF_TEXT, "count_where_text": COUNT_WHERE_TEXT}
    result = evaluate(make, metrics, "duckdb")
    assert result.exit_code == 2, result.output
    out = result.output
    assert "metrics/mean_of_text.yaml:6:10: error: metric `mean_of_text` cannot be computed" in out
    assert "Could not convert string 'Billing' to DOUBLE" in out
    assert "metrics/count_where_text.yaml:6:10: error: metric `count_where_text` cannot be" in out
    assert "metric `asa`" not in out
    assert "bug in tpmkit" not in out


def test_the_duckdb_engine_still_computes_the_metrics_alone(make):
    pytest.importorskip("ibis", reason="the DuckDB engine needs tpmkit[duckdb]")
    result = evaluate(make, {"asa": ASA}, "duckdb", "-f", "json")
    assert result.exit_code == 0, result.output
