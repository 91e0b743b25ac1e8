"""Issue 19, item 5: on the DuckDB engine, Parquet exports are read and checked by DuckDB
itself (tpmkit.data.in_duckdb) and wall-clock times come from offset arithmetic
(tpmkit.zone_offsets) — with the same rows, types, rules and records as tpmkit's reader
and the polars engine: every rule the reader enforces sends a bad file back to the reader,
which names the file and row (or quarantines the row)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

pytest.importorskip("duckdb", reason="the DuckDB engine needs tpmkit[duckdb]")
pytest.importorskip("ibis", reason="the Ibis engines need tpmkit[duckdb]")

import duckdb

from engines.agree import differences
from engines.fixtures import write_project
from tpmkit import zone_offsets
from tpmkit.data.in_duckdb import CheckedParquet, read_in_duckdb
from tpmkit.data.load import load_dataset
from tpmkit.errors import DataError
from tpmkit.project import load

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "contact-center" / "tpmkit.yaml"
ZONE = "Europe/Berlin"
PLAIN = ("calls", "tickets", "qa", "schedule")  # the datasets DuckDB reads itself


def parquet_copy(project_file: Path, dest: Path) -> Path:
    """The project with every file source rewritten as typed Parquet (the frames tpmkit's
    reader makes, canonical names, no mapping) beside it: its tpmkit-parquet.yaml."""
    project = load(project_file)
    text = yaml.safe_load(project_file.read_text(encoding="utf-8"))
    (dest / "parquet").mkdir(parents=True, exist_ok=True)
    for name, source in project.spec.sources.items():
        if not source.path or name == "system_events":
            continue
        frame = load_dataset(name, source, project.root, project.spec.timezone).frame
        frame.write_parquet(dest / "parquet" / f"{name}.parquet")
        kept = {k: v for k, v in text["sources"][name].items() if k in ("time_column", "types")}
        text["sources"][name] = {"path": str(dest / "parquet" / f"{name}.parquet"), **kept}
    out = project_file.parent / "tpmkit-parquet.yaml"
    out.write_text(yaml.safe_dump(text, sort_keys=False), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    root = tmp_path_factory.mktemp("edges")
    return load(parquet_copy(write_project(root), root))


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    root = tmp_path_factory.mktemp("example")
    copy = root / "project"
    import shutil

    shutil.copytree(EXAMPLE.parent, copy, ignore=shutil.ignore_patterns(".tpmkit"))
    return load(parquet_copy(copy / "tpmkit.yaml", root))


def connection():
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    return con


# -- the zone offsets --------------------------------------------------------------------


def epoch_us(text: str) -> int:
    moment = dt.datetime.fromisoformat(text)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def test_berlin_changes_offset_at_the_instants_the_rules_say():
    # 2026-03-29: clocks go 02:00 CET -> 03:00 CEST, i.e. at 01:00 UTC; 2026-10-25 back
    # at 01:00 UTC; before: +1 h, between: +2 h
    found = zone_offsets.offsets(ZONE)
    spring, autumn = epoch_us("2026-03-29T01:00:00+00:00"), epoch_us("2026-10-25T01:00:00+00:00")
    assert (spring, 7_200_000_000) in found.changes
    assert (autumn, 3_600_000_000) in found.changes
    assert found.at(spring - 1) == 3_600_000_000
    assert found.at(spring) == 7_200_000_000
    assert found.at(autumn - 1) == 7_200_000_000
    assert found.at(autumn) == 3_600_000_000
    assert found.first == 3_600_000_000  # 1970: CET, no summer time until 1980
    assert zone_offsets.offsets("Asia/Kolkata").changes == []  # +05:30 all along


@pytest.mark.parametrize(
    "zone",
    [
        "Europe/Berlin",
        "America/Santiago",
        "Australia/Lord_Howe",
        "Asia/Kolkata",
        "Africa/Casablanca",
    ],
)
def test_the_local_time_macro_gives_polars_wall_clock_times(zone):
    # every change ±1 µs, random instants 1970-2100, and one before that range (1901:
    # DuckDB's own timezone() there; after 2100 ICU and polars' rules part ways)
    found = zone_offsets.offsets(zone)
    rng = random.Random(19)
    points = [start + d for start, _ in found.changes for d in (-1, 0, 1)]
    points += [rng.randrange(0, 4_102_444_800_000_000) for _ in range(3000)]
    points += [epoch_us("1901-06-01T12:00:00+00:00")]
    con = connection()
    con.execute(zone_offsets.local_macro(zone))
    name = zone_offsets.local_macro_name(zone)
    got = con.execute(
        f"SELECT x, epoch_us({name}(make_timestamptz(x))) AS macro FROM (SELECT unnest(?) AS x)",
        [points],
    ).pl()
    reference = (
        pl.from_epoch("x", time_unit="us")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(zone)
        .dt.replace_time_zone(None)
        .dt.epoch("us")
    )
    wrong = got.with_columns(reference.alias("polars")).filter(pl.col("macro") != pl.col("polars"))
    assert wrong.is_empty(), wrong.head()


# -- reading Parquet in DuckDB -----------------------------------------------------------


@pytest.mark.parametrize("name", PLAIN)
def test_duckdb_reads_what_the_reader_reads(edges, name):
    # the same rows, columns, types, values, counts per day and latest time
    source = edges.spec.sources[name]
    con = connection()
    got = read_in_duckdb(con, name, source, edges.root, ZONE, None)
    assert isinstance(got, CheckedParquet)
    reference = load_dataset(name, source, edges.root, ZONE, None)
    assert_frame_equal(got.frame.lazy().collect(), reference.frame)
    assert got.columns == reference.columns
    assert (got.rows_read, got.files, got.time_column) == (
        reference.rows_read,
        reference.files,
        reference.time_column,
    )
    assert got.day_counts == reference.day_counts
    assert got.missing == reference.missing
    view = con.execute(f'SELECT count(*) FROM "{got.view}"').fetchone()[0]
    assert view == reference.frame.height > 0


def test_the_view_holds_the_readers_values(edges):
    # the view itself (not its polars twin) against the reader's frame
    source = edges.spec.sources["tickets"]
    con = connection()
    got = read_in_duckdb(con, "tickets", source, edges.root, ZONE, None)
    assert got is not None
    reference = load_dataset("tickets", source, edges.root, ZONE, None).frame
    view = con.execute(f'SELECT * FROM "{got.view}"').pl()
    view = view.with_columns(
        pl.col(c).dt.convert_time_zone(ZONE)
        for c, t in view.schema.items()
        if isinstance(t, pl.Datetime)
    )
    assert_frame_equal(view, reference, check_dtypes=False)


def bad_copy(tmp_path: Path, edges, name: str, change: pl.Expr) -> tuple[Path, object]:
    """The dataset's Parquet with one cell changed by `change` (on row 3)."""
    frame = pl.read_parquet(edges.root / "parquet" / f"{name}.parquet")
    row = pl.int_range(pl.len()) == 3
    column = change.meta.output_name()
    frame = frame.with_columns(pl.when(row).then(change).otherwise(pl.col(column)).alias(column))
    path = tmp_path / f"{name}.parquet"
    frame.write_parquet(path)
    source = edges.spec.sources[name].model_copy(update={"path": str(path)})
    return path, source


BROKEN = [
    ("calls", pl.lit(-1.0).alias("wait_seconds")),  # a negative duration
    ("calls", pl.lit(float("nan")).alias("talk_seconds")),  # not a number
    ("calls", pl.lit(float("-inf")).alias("acw_seconds")),  # not a number
    ("calls", pl.lit(2e15).alias("hold_seconds")),  # implausibly large
    ("calls", pl.lit(4.5).alias("csat")),  # not a whole number
    ("calls", pl.lit(9.0).alias("csat")),  # out of range 1..5
    ("calls", pl.lit("").alias("contact_id")),  # a required value empty (empty text)
    ("calls", pl.lit(None, dtype=pl.Datetime("us", ZONE)).alias("offered_at")),  # required
    ("calls", pl.col("contact_id").shift(1).alias("contact_id")),  # a repeated id
    ("tickets", (pl.col("created_at") - pl.duration(days=3)).alias("resolved_at")),  # order
    ("qa", (pl.col("max_score") + 1).alias("score")),  # a score above its maximum
]


@pytest.mark.parametrize(
    ("name", "change"),
    BROKEN,
    ids=[f"{n}-{c.meta.output_name()}-{i}" for i, (n, c) in enumerate(BROKEN)],
)
def test_a_bad_value_goes_back_to_the_reader_which_names_it(tmp_path, edges, name, change):
    path, source = bad_copy(tmp_path, edges, name, change)
    assert read_in_duckdb(connection(), name, source, edges.root, ZONE, None) is None
    with pytest.raises(DataError) as raised:  # the reader's located error
        load_dataset(name, source, edges.root, ZONE, None)
    located = [i for i in raised.value.issues if i.file and path.name in i.file]
    assert located, raised.value.issues


def test_the_engine_reports_a_bad_value_with_its_file_and_row(tmp_path, edges):
    path, _ = bad_copy(tmp_path, edges, "calls", pl.lit(-5.0).alias("wait_seconds"))
    text = yaml.safe_load((edges.root / "tpmkit-parquet.yaml").read_text(encoding="utf-8"))
    text["sources"]["calls"]["path"] = str(path)
    project_file = edges.root / "tpmkit-bad.yaml"
    project_file.write_text(yaml.safe_dump(text), encoding="utf-8")
    project = load(project_file)
    errors = []
    for engine in ("polars", "duckdb"):
        with pytest.raises(DataError) as raised:
            project.with_engine(engine).evaluate(cache=False, period="week")
        errors.append(raised.value)
    assert [str(e) for e in errors[0].issues] == [str(e) for e in errors[1].issues]
    assert any("row 4" in i.message and i.file == str(path) for i in errors[1].issues)
    # quarantined instead: the same records on both engines, the row left out
    options = {"period": "week", "on_bad_rows": "quarantine", "rejects_dir": tmp_path / "r"}
    reference = project.evaluate(cache=False, **options).records
    other = project.with_engine("duckdb").evaluate(cache=False, **options).records
    assert differences(reference, other, []) == []
    assert reference.get_column("quarantined").max() == 1


def ids_copy(tmp_path: Path, edges, ids: list[str | None]) -> object:
    """The calls' Parquet with `customer_id` set to `ids` (repeated to the file's length)
    and named the id column: an id that may be empty, as a project may choose one."""
    frame = pl.read_parquet(edges.root / "parquet" / "calls.parquet")
    unique = [f"u{i}" for i in range(frame.height)]
    values = (ids + unique)[: frame.height]
    frame = frame.with_columns(pl.Series("customer_id", values, dtype=pl.String))
    path = tmp_path / "calls.parquet"
    frame.write_parquet(path)
    update = {"path": str(path), "id_column": "customer_id"}
    return edges.spec.sources["calls"].model_copy(update=update)


def test_a_repeated_id_beside_empty_ids_goes_back_to_the_reader(tmp_path, edges):
    # DuckDB hashes NULL to a value: counted among the distinct hashes, an empty id would
    # hide one repeat ('a', 'a', NULL: two ids, two distinct hashes); the id column is
    # required, so the empty ids send the dataset to the reader, which names both
    source = ids_copy(tmp_path, edges, ["a", "a", None, None, ""])
    assert read_in_duckdb(connection(), "calls", source, edges.root, ZONE, None) is None
    with pytest.raises(DataError) as raised:  # the reader names the repeat
        load_dataset("calls", source, edges.root, ZONE, None)
    messages = [i.message for i in raised.value.issues]
    assert any("duplicate customer_id" in m for m in messages), messages


def test_a_repeat_claimed_by_a_hash_collision_still_gives_the_readers_records(edges, monkeypatch):
    # two ids with one 64-bit hash cannot be written down; what such a collision does is
    # make the check claim a repeat: the dataset then goes to the reader, which compares
    # the ids themselves (no repeat) and the records are those of the polars engine
    import tpmkit.data.in_duckdb as in_duckdb

    checked = in_duckdb._check
    claimed: list[str] = []

    def collided(con, scan_sql, columns, broken, id_column):
        if "calls" in scan_sql:
            claimed.append(scan_sql)
            return None
        return checked(con, scan_sql, columns, broken, id_column)

    monkeypatch.setattr(in_duckdb, "_check", collided)
    reference, other = both(edges, period="week")
    assert claimed
    assert differences(reference, other, []) == []


def test_what_the_reader_must_read_is_not_read_in_duckdb(tmp_path, edges):
    con = connection()
    calls = edges.spec.sources["calls"]
    mapped = calls.model_copy(update={"columns": {"offered_at": "offered_at"}})
    assert read_in_duckdb(con, "calls", mapped, edges.root, ZONE, None) is None
    csv = load(write_project(tmp_path / "csv")).spec.sources["calls"]
    assert read_in_duckdb(con, "calls", csv, tmp_path / "csv", ZONE, set()) is None
    roster = edges.spec.sources["agents"]  # a lookup: joined by polars
    assert read_in_duckdb(con, "agents", roster, edges.root, ZONE, None) is None
    # wall-clock times without a zone: the reader places them (DST gaps are errors)
    frame = pl.read_parquet(edges.root / "parquet" / "calls.parquet")
    naive = frame.with_columns(pl.col("offered_at").dt.replace_time_zone(None))
    naive.write_parquet(tmp_path / "naive.parquet")
    local = calls.model_copy(update={"path": str(tmp_path / "naive.parquet")})
    assert read_in_duckdb(con, "calls", local, edges.root, ZONE, None) is None


# -- the records -------------------------------------------------------------------------


def both(project, **options):
    reference = project.evaluate(cache=False, **options).records
    other = project.with_engine("duckdb").evaluate(cache=False, **options).records
    return reference, other


CASES = [("week", []), ("day", ["team"]), ("hour", []), ("month", ["agent_id"]), ("all", [])]


@pytest.mark.parametrize(("grain", "by"), CASES, ids=[f"{g}-{'-'.join(b)}" for g, b in CASES])
def test_the_adversarial_parquet_project_agrees(edges, grain, by):
    reference, other = both(edges, period=grain, by=by)
    assert reference.height > 0
    assert differences(reference, other, by) == []


@pytest.mark.parametrize(("grain", "by"), [("week", ["agent_id"]), ("day", ["team"])])
def test_the_example_in_parquet_agrees(example, grain, by):
    reference, other = both(example, period=grain, by=by)
    assert reference.filter(pl.col("value").is_not_null()).height > 0.8 * reference.height
    assert differences(reference, other, by) == []


def test_a_cut_range_reads_through_the_reader_and_agrees(edges):
    # --start/--end read only the rows in range: the reader's pushdown, not DuckDB's read
    options = {"period": "week", "start": dt.date(2026, 10, 1), "end": dt.date(2027, 1, 10)}
    reference, other = both(edges, **options)
    assert differences(reference, other, []) == []


# -- what the speed rests on -------------------------------------------------------------


def test_a_parquet_evaluation_on_duckdb_never_imports_pandas(edges):
    # registering an Arrow table in DuckDB, and Ibis' DuckDB result converter, import
    # pandas (a quarter of a second); the Parquet path needs neither
    import subprocess
    import sys

    script = (
        "import sys, tpmkit\n"
        f"records = tpmkit.load({str(edges.root / 'tpmkit-parquet.yaml')!r})"
        ".with_engine('duckdb').evaluate(cache=False, period='week').records\n"
        "assert records.height > 0\n"
        "print('pandas' in sys.modules, 'pyarrow.dataset' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == ["False", "False"], done.stderr


def test_duckdb_passes_cut_periods_with_the_offset_macro(edges):
    # the SQL of a pass calls the project zone's macro, never ICU's timezone()
    from tpmkit.engine.window import Window
    from tpmkit.engines.backend import open_backend
    from tpmkit.engines.cells import plan_pass

    backend = open_backend("duckdb", None, edges.root)
    backend.local_times(ZONE)
    got = read_in_duckdb(
        backend.duckdb(), "calls", edges.spec.sources["calls"], edges.root, ZONE, None
    )
    table = backend.view(got.view)
    spec = edges.metrics["aht"].spec
    planned = plan_pass(
        table, backend.dialect, [spec], "offered_at", "week", [], ZONE, Window(None, None), {}
    )
    sql = str(backend.con.compile(planned.query))
    assert zone_offsets.local_macro_name(ZONE).upper() in sql.upper()
    assert "TIMEZONE(" not in sql.upper()
    backend.close()
