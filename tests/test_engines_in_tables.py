"""Issue 19 item 2: `table:` sources typed as the contract wants are checked by the
database with the reader's rules and computed on the table itself — their rows are never
read to the client (`tpmkit.data.in_tables`); a broken rule sends the table to tpmkit's
reader, which names the bad cell or quarantines its row exactly as before, and a table of
text columns goes through the reader as before. DuckDB here (a database file attached
read-only); PostgreSQL in tests/test_engines_postgres.py."""

from __future__ import annotations

import shutil

import polars as pl
import pytest

pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

from engines.agree import differences
from engines.warehouse import EXAMPLE, table_project, typed_project
from tpmkit.errors import DataError
from tpmkit.project import load

# read to the client on purpose: the lookups the evaluation joins in polars (small), and
# the example's custom datasets, whose columns have no contract type (the reader infers them)
READ = {"agents", "queues", "incidents", "system_events"}
CASES = [
    ("week", ["team"]),
    ("hour", []),
    ("month", ["vendor"]),
    ("all", ["agent_id"]),
    ("week", ["tenure_band"]),  # on each call's own local day, from the joined hire date
]


@pytest.fixture(scope="module")
def pristine(tmp_path_factory):
    return typed_project(tmp_path_factory.mktemp("typed"))


@pytest.fixture
def typed(pristine, tmp_path):
    """A copy of the typed warehouse and its project, for a test that changes it."""
    shutil.copytree(pristine.parent, tmp_path / "project")
    return tmp_path / "project" / "tpmkit.yaml"


@pytest.fixture(scope="module")
def from_files():
    project = load(EXAMPLE / "tpmkit.yaml")
    return {(g, tuple(b)): project.evaluate(period=g, by=b, cache=False) for g, b in CASES}


@pytest.fixture
def reads(monkeypatch):
    """Every read of a table's rows to the client: the datasets tpmkit's reader read
    (`read_table`), and the height of every result the in-engine module fetched."""
    import tpmkit.data.in_tables as in_tables
    from engines.warehouse import count_table_reads

    seen: dict[str, list] = {"tables": count_table_reads(monkeypatch), "fetched": []}
    real_fetch = in_tables.fetch

    def fetch(expr):
        frame = real_fetch(expr)
        seen["fetched"].append(frame.height)
        return frame

    monkeypatch.setattr(in_tables, "fetch", fetch)
    return seen


def _calls_rows() -> int:
    return pl.scan_csv(EXAMPLE / "data" / "acd_calls.csv").select(pl.len()).collect().item()


@pytest.mark.parametrize(("grain", "by"), CASES, ids=[f"{g}-{'-'.join(b)}" for g, b in CASES])
def test_typed_tables_are_computed_where_they_are(pristine, from_files, reads, grain, by):
    evaluation = load(pristine).with_engine("duckdb").evaluate(period=grain, by=by)
    reference = from_files[(grain, tuple(by))]
    assert evaluation.records.height == reference.records.height > 50
    assert differences(reference.records, evaluation.records, by) == []
    # the contacts, tickets, QA, schedule, costs and coaching were never read to the
    # client: only the lookups and the untyped custom datasets went through the reader,
    # and nothing fetched is as large as a tenth of the calls table
    assert set(reads["tables"]) <= READ
    assert {"calls", "tickets", "qa", "schedule", "costs"}.isdisjoint(reads["tables"])
    assert reads["fetched"] and max(reads["fetched"]) < _calls_rows() / 10
    # freshness and completeness: the day counts the database made are the reader's
    ours = {s.name: s for s in evaluation.datasets}
    for theirs in reference.datasets:
        mine = ours[theirs.name]
        assert (mine.rows_read, mine.latest, mine.latest_day) == (
            theirs.rows_read,
            theirs.latest,
            theirs.latest_day,
        ), theirs.name
        assert mine.daily == theirs.daily, theirs.name


def test_the_polars_engine_reads_typed_tables_through_the_reader(pristine, from_files, reads):
    records = load(pristine).evaluate(period="week", by=["team"]).records
    assert differences(from_files[("week", ("team",))].records, records, ["team"]) == []
    assert "calls" in reads["tables"]  # polars computes on the client: the rows come


def test_a_text_typed_table_still_goes_through_the_reader(tmp_path, from_files, reads):
    records = (
        load(table_project(tmp_path)).with_engine("duckdb").evaluate(period="week", by=["team"])
    )
    assert differences(from_files[("week", ("team",))].records, records.records, ["team"]) == []
    assert "calls" in reads["tables"]  # text columns: tpmkit's reader types them


def test_a_renaming_columns_mapping_is_done_in_sql(typed, reads):
    import duckdb

    con = duckdb.connect(str(typed.parent / "warehouse.duckdb"))
    con.execute('ALTER TABLE calls RENAME COLUMN contact_id TO "Contact ID"')
    con.execute('ALTER TABLE calls RENAME COLUMN talk_seconds TO "Talk Time"')
    con.close()
    text = typed.read_text(encoding="utf-8").replace(
        "  calls:\n    table: calls\n",
        '  calls:\n    table: calls\n    columns: {"Contact ID": contact_id, "Talk Time": talk_seconds}\n',
    )
    typed.write_text(text, encoding="utf-8")
    project = load(typed)
    reference = load(EXAMPLE / "tpmkit.yaml").evaluate(
        ["aht", "fcr_repeat", "service_level"], period="week", by=["team"], cache=False
    )
    records = project.with_engine("duckdb").evaluate(
        ["aht", "fcr_repeat", "service_level"], period="week", by=["team"]
    )
    assert differences(reference.records, records.records, ["team"]) == []
    assert "calls" not in reads["tables"]


# (dataset, the change, a metric that reads the column, what the message names): one
# broken rule each
BROKEN = {
    "negative-duration": ("calls", "wait_seconds = -5", "asa", ["wait_seconds", "-5"]),
    "fraction-in-int": ("calls", "csat = 3.5", "csat", ["csat", "3.5"]),
    "out-of-range": ("calls", "nps = 11", "nps", ["nps", "11"]),
    "not-a-number": ("calls", "talk_seconds = 'NaN'::DOUBLE", "aht", ["talk_seconds"]),
    "too-large": ("calls", "hold_seconds = 1e16", "aht", ["hold_seconds"]),
    "empty-required": ("calls", "contact_id = NULL", "aht", ["contact_id"]),
    "repeated-id": (
        "calls",
        "contact_id = (SELECT contact_id FROM calls LIMIT 1)",
        "aht",
        ["contact_id", "C0000001"],
    ),
    "out-of-order": (
        "tickets",
        "first_response_at = created_at - INTERVAL 1 HOUR",
        "first_response_time",
        ["first_response_at"],
    ),
    "above-its-maximum": ("qa", "score = max_score + 1", "qa_score", ["score"]),
}
IDS = {"calls": "contact_id", "tickets": "ticket_id", "qa": "evaluation_id"}


@pytest.mark.parametrize("table", ["calls", "tickets", "qa"])
def test_an_unbroken_table_is_not_read(pristine, reads, table):
    metric = next(m for t, _, m, _ in BROKEN.values() if t == table)
    load(pristine).with_engine("duckdb").evaluate([metric], period="week")
    assert table not in reads["tables"]


def _break(path, table: str, change: str) -> None:
    import duckdb

    con = duckdb.connect(str(path.parent / "warehouse.duckdb"))
    id_column = IDS[table]
    third = con.execute(f"SELECT {id_column} FROM {table} LIMIT 1 OFFSET 2").fetchone()[0]
    con.execute(f"UPDATE {table} SET {change} WHERE {id_column} = '{third}'")
    con.close()


def _message(error: DataError) -> str:
    return str(error) + "\n" + "\n".join(str(i) for i in error.issues)


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_broken_rule_is_located_by_the_reader_as_before(typed, reads, case):
    table, change, metric, named = BROKEN[case]
    _break(typed, table, change)
    messages = []
    for engine in ("duckdb", "polars"):
        with pytest.raises(DataError) as caught:
            load(typed).with_engine(engine).evaluate([metric], period="week")
        messages.append(_message(caught.value))
        if engine == "duckdb":  # the database found the broken rule: the reader read it
            assert table in reads["tables"]
    assert messages[0] == messages[1]  # the same located error on both engines
    assert f"table `{table}`" in messages[0] and "row 3" in messages[0]
    if case != "empty-required":  # the row's id beside it (here the id is what is empty)
        assert "row 3 (" in messages[0]
    assert "Fix the table" in messages[0]
    for word in named:
        assert word in messages[0]


def test_a_broken_row_is_quarantined_as_before(typed, reads):
    _break(typed, "calls", "wait_seconds = -5")
    runs = [
        load(typed)
        .with_engine(engine)
        .evaluate(["asa", "aht"], period="week", on_bad_rows="quarantine")
        for engine in ("polars", "duckdb")
    ]
    reference, other = (r.records for r in runs)
    assert set(other.get_column("quarantined")) == {1}
    assert differences(reference, other, []) == []
    assert (typed.parent / ".tpmkit" / "rejects" / "calls.rejects.csv").exists()


def test_a_scorecard_reads_the_columns_of_a_checked_table_not_its_rows(pristine, reads):
    # a scorecard asks which columns the data can be grouped by, and tracks the goals
    # over their own date range (a read window)
    load(pristine).with_engine("duckdb").scorecard(role="agent", period="month")
    assert "calls (columns)" in reads["tables"]
    assert "calls" not in reads["tables"]


def test_a_read_window_is_a_filter_in_the_database(pristine, reads):
    import datetime as dt

    start, end = dt.date(2026, 9, 1), dt.date(2026, 9, 30)
    metrics = ["aht", "service_level", "fcr_repeat", "qa_score", "backlog"]
    reference = load(EXAMPLE / "tpmkit.yaml").evaluate(
        metrics, period="week", by=["team"], start=start, end=end, cache=False
    )
    evaluation = (
        load(pristine)
        .with_engine("duckdb")
        .evaluate(metrics, period="week", by=["team"], start=start, end=end)
    )
    assert differences(reference.records, evaluation.records, ["team"]) == []
    assert "calls" not in reads["tables"]
    ours = {s.name: (s.rows_read, s.latest, s.daily) for s in evaluation.datasets}
    assert ours == {s.name: (s.rows_read, s.latest, s.daily) for s in reference.datasets}


@pytest.mark.parametrize("name", ["calls", "tickets", "qa", "schedule", "costs"])
def test_the_view_and_its_twin_are_the_readers_frame(pristine, name):
    """What the engine computes on (the view) and what polars would read if it had to
    (the twin, read from the table only when collected) are the frame tpmkit's reader
    makes of the same table: the same columns, types, values and defaults."""
    from tpmkit.data import load_dataset
    from tpmkit.data.in_tables import fetch, read_in_engine
    from tpmkit.engines.backend import open_backend
    from tpmkit.engines.tables import TableFrames

    project = load(pristine).definitions
    spec = project.spec
    backend = open_backend("duckdb", spec.connection, project.root)
    tables = TableFrames({}, {name: name}, str(spec.connection), project.root)
    checked = read_in_engine(backend, name, spec.sources[name], tables, spec.timezone, None)
    assert checked is not None
    reader = load_dataset(name, spec.sources[name], project.root, spec.timezone, frame=tables[name])
    expected = reader.frame.select(sorted(checked.columns))
    twin = checked.rows.collect().select(expected.columns)
    assert twin.equals(expected) and twin.schema == expected.schema
    instants = [c for c, t in expected.schema.items() if isinstance(t, pl.Datetime)]
    view = fetch(checked.view).select(expected.columns)
    view = view.with_columns(pl.col(instants).dt.convert_time_zone(spec.timezone))
    assert view.equals(expected)
    assert checked.rows.select(pl.len()).collect().item() == checked.rows_read == reader.rows_read
    backend.close()
