"""Issue 19 item 2: `time_to_proficiency` on the Ibis engines — the per-agent, per-week
means over the contacts computed on the backend (`tpmkit.engines.proficiency`), the
Kaplan–Meier median per cohort finished on the client by the polars plan's own code —
against medians worked out by hand (tests/engines/cohorts.py) and against polars."""

from __future__ import annotations

import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from engines.agree import differences
from engines.cohorts import EXPECTED, write_cohorts
from engines.warehouse import EXAMPLE
from tpmkit.project import load


@pytest.fixture(scope="module")
def cohorts(tmp_path_factory):
    return load(write_cohorts(tmp_path_factory.mktemp("cohorts")))


def _cells(records, by):
    return {
        (r["period"], *(r[b] for b in by)): (r["value"], r["n"])
        for r in records.filter(records["metric"] == "ttp").iter_rows(named=True)
    }


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
@pytest.mark.parametrize(("grain", "by"), list(EXPECTED), ids=lambda v: str(v))
def test_medians_by_hand(cohorts, engine, grain, by):
    records = cohorts.with_engine(engine).evaluate(period=grain, by=list(by)).records
    assert _cells(records, by) == EXPECTED[(grain, by)]


CASES = [("day", []), ("week", ["team"]), ("quarter", ["agent_id"]), ("all", ["team"])]


@pytest.mark.parametrize(("grain", "by"), CASES, ids=[f"{g}-{'-'.join(b)}" for g, b in CASES])
def test_duckdb_agrees_with_polars(cohorts, grain, by):
    reference = cohorts.evaluate(period=grain, by=by).records
    assert reference.height > 0
    assert (
        differences(
            reference, cohorts.with_engine("duckdb").evaluate(period=grain, by=by).records, by
        )
        == []
    )


def test_the_agent_weeks_are_computed_on_the_backend(cohorts, monkeypatch):
    """The polars plan's heavy step (`agent_weeks`, over every call) does not run on
    the DuckDB engine; its client step (`times_from_weeks`) does, on the backend's means."""
    import tpmkit.engine.kinds.proficiency as plan

    calls = {"agent_weeks": 0, "times_from_weeks": 0}
    for name in calls:
        real = getattr(plan, name)

        def counted(*args, _real=real, _name=name, **kwargs):
            calls[_name] += 1
            return _real(*args, **kwargs)

        monkeypatch.setattr(plan, name, counted)
    cohorts.with_engine("duckdb").evaluate(period="month")
    assert calls == {"agent_weeks": 0, "times_from_weeks": 1}
    cohorts.evaluate(period="month")  # the polars engine runs both
    assert calls == {"agent_weeks": 1, "times_from_weeks": 2}


def test_over_parquet_polars_reads_the_files_and_the_calls_stay_in_duckdb(tmp_path, monkeypatch):
    """DuckDB reads the Parquet calls itself (`in_duckdb`); its view has no hire date or
    team (they are the roster's), so the kind computes with polars from the same files,
    and the calls are not uploaded to DuckDB for it (the passes keep the plain view)."""
    import tpmkit.engine.kinds.proficiency as plan
    from engines.cohorts import parquet_cohorts
    from tpmkit.engines.backend import Backend

    uploaded: list[str] = []
    real_upload, real_weekly = Backend.upload, plan.agent_weeks

    def upload(self, name, *args, **kwargs):
        uploaded.append(name)
        return real_upload(self, name, *args, **kwargs)

    def agent_weeks(*args, **kwargs):
        uploaded.append("polars weekly sums")
        return real_weekly(*args, **kwargs)

    monkeypatch.setattr(Backend, "upload", upload)
    monkeypatch.setattr(plan, "agent_weeks", agent_weeks)
    project = load(parquet_cohorts(tmp_path)).with_engine("duckdb")
    for (grain, by), expected in EXPECTED.items():
        uploaded.clear()
        records = project.evaluate(["ttp"], period=grain, by=list(by)).records
        assert _cells(records, by) == expected
        if by:  # grouped by a roster column, a Parquet dataset is uploaded as ever, with
            # the roster's columns: the kind then computes on the backend
            assert "calls" in uploaded and "polars weekly sums" not in uploaded
        else:
            assert "calls" not in uploaded and "polars weekly sums" in uploaded


@pytest.mark.parametrize("backend", ["bigquery", "snowflake", "trino"])
def test_the_agent_weeks_compile_for_the_backends_not_run(backend):
    """The heavy step is plain SQL (a grouped mean and count, the week cut with the
    backend's own local-time and epoch functions): it compiles for every backend."""
    import ibis

    from tpmkit.engines.dialect import Dialect
    from tpmkit.engines.proficiency import weekly_query

    project = load(EXAMPLE / "tpmkit.yaml")
    spec = project.definitions.metrics["time_to_proficiency"].spec
    calls = ibis.table(
        {
            "offered_at": "timestamp('UTC')",
            "agent_id": "string",
            "answered": "boolean",
            "talk_seconds": "float64",
            "hold_seconds": "float64",
            "acw_seconds": "float64",
            "team": "string",
            "hire_date": "date",
        },
        name="calls",
    )
    query = weekly_query(calls, Dialect(backend), spec, calls["offered_at"], "Europe/Berlin")
    sql = ibis.to_sql(query, dialect=backend)
    assert "Europe/Berlin" in sql and "GROUP BY" in sql.upper()
