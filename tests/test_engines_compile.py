"""Issue 19: BigQuery, Snowflake and Trino are compiled, not run: every pass of the
example's catalogue is turned into each backend's SQL with `ibis.to_sql`, and what a
backend cannot do is listed here exactly (and in docs/engines.md, which this checks)."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

import ibis

from tpmkit.data import load_dataset
from tpmkit.engine.kinds import kind_of
from tpmkit.engine.window import Window
from tpmkit.engines.cells import plan_pass
from tpmkit.engines.dialect import COMPILE_ONLY, Dialect
from tpmkit.project import load

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "contact-center" / "tpmkit.yaml"
ATTRIBUTED = {"team": "string", "site": "string", "vendor": "string"}  # from the roster

# what each backend cannot do, by metric: exact percentiles have no compile rule in Ibis
# for BigQuery and Trino, and tpmkit refuses rather than approximate
CANNOT = {
    "bigquery": {
        "first_response_time": "no exact percentile",  # a median
        "system_response_p95": "no exact percentile",
    },
    "snowflake": {},
    "trino": {
        "first_response_time": "no exact percentile",
        "system_response_p95": "no exact percentile",
    },
}


@pytest.fixture(scope="module")
def tables():
    project = load(EXAMPLE)
    schemas = {}
    for name, source in project.spec.sources.items():
        frame = load_dataset(name, source, project.root, project.spec.timezone).frame
        schema = dict(ibis.Schema.from_pyarrow(frame.to_arrow().schema).items())
        if name not in ("agents", "queues"):
            schema.update({k: ibis.dtype(v) for k, v in ATTRIBUTED.items() if k not in schema})
        schemas[name] = ibis.table(schema, name=name)
    return project, schemas


def compiled(project, schemas, backend: str) -> dict[str, str]:
    """Each row-aggregated metric's SQL on `backend`, or why it cannot be compiled."""
    out = {}
    for metric in project.metrics.values():
        spec = metric.spec
        if kind_of(spec.compute).plan != "rows" or spec.dataset not in schemas:
            continue
        table = schemas[spec.dataset]
        time_column = spec.time_column or _time_column(project, spec.dataset)
        try:
            planned = plan_pass(
                table,
                Dialect(backend),
                [spec],
                time_column,
                "week",
                ["team"],
                project.spec.timezone,
                Window(),
                {},
                censor=getattr(spec.compute, "censor", None),
            )
            out[spec.id] = ibis.to_sql(planned.query, dialect=backend)
        except Exception as exc:  # the backend's refusal, recorded
            out[spec.id] = f"cannot: {exc}"
    return out


def _time_column(project, dataset: str) -> str:
    from tpmkit.contract import CANONICAL

    source = project.spec.sources[dataset]
    return source.time_column or CANONICAL[dataset].time_column


@pytest.mark.parametrize("backend", COMPILE_ONLY)
def test_the_catalogue_compiles_or_is_refused_by_name(tables, backend):
    project, schemas = tables
    found = compiled(project, schemas, backend)
    assert len(found) > 25
    refused = {m: sql for m, sql in found.items() if sql.startswith("cannot")}
    assert set(refused) == set(CANNOT[backend])
    for metric, why in CANNOT[backend].items():
        assert why in refused[metric] and backend in refused[metric]
    sql = "\n".join(s for s in found.values() if not s.startswith("cannot"))
    # the local time and epoch functions of each backend, never a bare zone cast
    expected = {
        "bigquery": ("UNIX_MICROS", "DATETIME("),
        "snowflake": ("CONVERT_TIMEZONE", "DATE_PART"),
        "trino": ("AT_TIMEZONE", "TO_UNIXTIME"),
    }[backend]
    for word in expected:
        assert word in sql.upper()
    assert "Europe/Berlin" in sql


def test_docs_list_what_each_backend_cannot_do():
    text = (ROOT / "docs" / "engines.md").read_text(encoding="utf-8")
    for backend, refused in CANNOT.items():
        assert backend in text.lower()
        for metric in refused:
            assert metric in text
