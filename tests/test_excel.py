"""Excel cells are read by their type: a date cell as a date, a time-of-day cell as the
clock time, a duration cell as seconds, a whole number without `.0`; so a mapping written
for the CSV export of the same data works on the workbook unchanged."""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from conftest import by_key, evaluate_records
from tpmkit.cli import app
from tpmkit.data.excel import read_sheet
from tpmkit.errors import DataError

# number formats built into Excel (no custom format needed): the style index is the position
STYLES = {"general": 0, "date": 14, "time": 21, "datetime": 22, "duration": 46}
STYLE_INDEX = {name: i for i, name in enumerate(STYLES)}
EPOCH = dt.datetime(1899, 12, 30)


def serial(value: dt.datetime | dt.date | dt.timedelta) -> float:
    """Excel's serial number of a date, a date and time, or a duration (days)."""
    if isinstance(value, dt.timedelta):
        return value / dt.timedelta(days=1)
    if not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time())
    return (value - EPOCH) / dt.timedelta(days=1)


def cell(ref: str, value: object) -> str:
    """One cell: text, a bool, a number, or (style, value) for a formatted number."""
    if isinstance(value, tuple):
        style, number = value
        return f'<c r="{ref}" s="{STYLE_INDEX[style]}"><v>{serial(number)!r}</v></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if value is None:
        return ""
    return f'<c r="{ref}" t="inlineStr"><is><t>{value}</t></is></c>'


def workbook(rows: list[list[object]], sheet: str = "Sheet1") -> bytes:
    """A minimal .xlsx whose cells carry Excel's built-in number formats."""
    body = "".join(
        f'<row r="{r + 1}">'
        + "".join(cell(f"{chr(65 + c)}{r + 1}", v) for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows)
    )
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    package = "http://schemas.openxmlformats.org/package/2006/relationships"
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    xfs = "".join(f'<xf numFmtId="{n}" applyNumberFormat="1"/>' for n in STYLES.values())
    files = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
        f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{office}.worksheet+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{office}.styles+xml"/></Types>',
        "_rels/.rels": f'<?xml version="1.0"?><Relationships xmlns="{package}"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": f'<?xml version="1.0"?><Relationships xmlns="{package}"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{rel}/styles" Target="styles.xml"/></Relationships>',
        "xl/styles.xml": f'<?xml version="1.0"?><styleSheet xmlns="{main}"><fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf/></cellStyleXfs><cellXfs count="{len(STYLES)}">{xfs}</cellXfs></styleSheet>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="{main}"><sheetData>{body}</sheetData></worksheet>',
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


HEADER = ["id", "Date", "Time", "Talk", "Hold", "Wait", "Answered", "Stamp"]
DAY = dt.date(2026, 3, 2)


def sample_rows() -> list[list[object]]:
    return [
        HEADER,
        # talk as a time-of-day cell (h:mm:ss, how the PwC workbook holds it); hold as a
        # duration cell ([h]:mm:ss); wait a plain number; a date and time cell
        [
            "c1",
            ("date", DAY),
            ("time", dt.timedelta(hours=9, minutes=5, seconds=7)),
            ("time", dt.timedelta(minutes=2, seconds=23)),
            ("duration", dt.timedelta(hours=25, seconds=1)),
            12.0,
            True,
            ("datetime", dt.datetime(2026, 3, 2, 9, 5, 7)),
        ],
        [
            "c2",
            ("date", DAY + dt.timedelta(days=1)),
            ("time", dt.timedelta(hours=17, minutes=40)),
            ("time", dt.timedelta(seconds=58)),
            ("duration", dt.timedelta(seconds=30)),
            7.5,
            False,
            ("datetime", dt.datetime(2026, 3, 4)),
        ],
    ]


def test_cells_read_as_a_csv_export_writes_them(tmp_path):
    path = tmp_path / "calls.xlsx"
    path.write_bytes(workbook(sample_rows()))
    frame = read_sheet(path, None)
    assert frame.columns == HEADER
    assert frame.rows() == [
        ("c1", "2026-03-02", "9:05:07", "0:02:23", "90001", "12", "true", "2026-03-02 09:05:07"),
        ("c2", "2026-03-03", "17:40:00", "0:00:58", "30", "7.5", "false", "2026-03-04"),
    ]


def test_a_cell_of_another_type_keeps_its_text_and_is_reported(make):
    rows = sample_rows()
    rows.append(["c3", ("date", DAY), "soon", ("time", dt.timedelta(seconds=5)), "long", 1, True])
    rows[0][5] = "wait_seconds"
    # a duration among texts: fastexcel cannot type that column, each is then read alone
    (make.root / "mixed.xlsx").write_bytes(workbook(rows))
    frame = read_sheet(make.root / "mixed.xlsx", None)
    assert frame.get_column("Hold").to_list() == ["90001", "30", "long"]
    assert frame.get_column("Time").to_list() == ["9:05:07", "17:40:00", "soon"]
    project_file = make.project(
        "name: X\ntimezone: UTC\nmetrics: [builtin]\nsources:\n  calls:\n"
        "    path: calls.xlsx\n    columns: {id: contact_id, Talk: talk_seconds, "
        "Answered: answered}\n"
        '    derive: {offered_at: "\\"Date\\" || \' \' || \\"Time\\""}\n',
        files={"calls.xlsx": workbook(rows)},
    )
    with pytest.raises(DataError) as caught:
        evaluate_records(project_file, ["asa"], period="all", cache=False)
    issue = caught.value.issues[0]
    assert issue.line == 4  # header is row 1
    assert "2026-03-02 soon" in issue.message


def test_a_workbook_mapped_like_its_csv_gives_the_same_figures(make):
    """Date || ' ' || Time and talk time H:MM:SS, exactly as on the CSV."""
    mapping = (
        "    columns: {id: contact_id, Talk: talk_seconds, Wait: wait_seconds, "
        "Answered: answered, Hold: hold_seconds}\n"
        '    derive: {offered_at: "\\"Date\\" || \' \' || \\"Time\\"", acw_seconds: "0"}\n'
    )
    csv_text = (
        "id,Date,Time,Talk,Hold,Wait,Answered,Stamp\n"
        "c1,2026-03-02,9:05:07,0:02:23,90001,12,true,2026-03-02 09:05:07\n"
        "c2,2026-03-03,17:40:00,0:00:58,30,7.5,false,2026-03-04\n"
    )
    results = {}
    for name, content in (("calls.xlsx", workbook(sample_rows())), ("calls.csv", csv_text)):
        project_file = make.project(
            f"name: X\ntimezone: UTC\nmetrics: [builtin]\nsources:\n  calls:\n    path: {name}\n"
            + mapping,
            files={name: content},
        )
        records = evaluate_records(project_file, ["aht", "contacts_offered"], period="day")
        results[name] = by_key(records)
    assert results["calls.xlsx"].keys() == results["calls.csv"].keys()
    for key, record in results["calls.xlsx"].items():
        assert record["value"] == results["calls.csv"][key]["value"], key
    # c1 answered: talk 143 s + hold 90 001 s (a duration cell longer than a day)
    assert results["calls.xlsx"][("aht", "2026-03-02")]["value"] == 143 + 90001
    assert results["calls.xlsx"][("contacts_offered", "2026-03-03")]["value"] == 1


def test_an_unknown_sheet_names_the_sheets_there_are(tmp_path):
    path = tmp_path / "calls.xlsx"
    path.write_bytes(workbook(sample_rows(), sheet="Calls"))
    with pytest.raises(DataError) as caught:
        read_sheet(path, "Sheet1")
    assert "`Calls`" in caught.value.issues[0].hint


def test_a_repeated_header_is_an_error(tmp_path):
    path = tmp_path / "calls.xlsx"
    path.write_bytes(workbook([["id", "x", "id", "id_1"], ["a", 1, "b", "c"]]))
    with pytest.raises(DataError) as caught:
        read_sheet(path, None)
    assert caught.value.issues[0].message == "header `id` is repeated"
    path.write_bytes(workbook([["id", "x"]]))  # a header only: no rows, no error
    assert read_sheet(path, None).columns == ["id", "x"]
    path.write_bytes(workbook([]))  # an empty sheet
    assert read_sheet(path, None).width == 0


def test_a_file_that_is_not_a_workbook(tmp_path):
    path = Path(tmp_path / "calls.xlsx")
    path.write_text("id,offered_at\n")
    with pytest.raises(DataError) as caught:
        read_sheet(path, None)
    assert caught.value.issues[0].file == str(path)


CELLS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(alphabet="abcXYZ09:-/ .,", max_size=12),
    st.tuples(
        st.sampled_from(["date", "datetime"]),
        st.datetimes(dt.datetime(1900, 3, 1), dt.datetime(2100, 1, 1)),
    ),
    st.tuples(
        st.sampled_from(["time", "duration"]),
        st.timedeltas(dt.timedelta(0), dt.timedelta(days=3)),
    ),
)
FUZZ_HEADER = ["contact_id", "offered_at", "answered", "wait_seconds", "talk_seconds", "csat"]


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(CELLS, min_size=6, max_size=6), max_size=6),
    period=st.sampled_from(["month", "all"]),
)
def test_any_workbook_gives_results_or_a_located_error(tmp_path, rows, period):
    """Every generated workbook ends with exit 0/1 (values) or a located exit 2."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path))  # one folder per example
    (folder / "calls.xlsx").write_bytes(workbook([FUZZ_HEADER, *rows]))
    (folder / "tpmkit.yaml").write_text(
        "name: Fuzz\ntimezone: UTC\nmetrics: [builtin]\nsources:\n  calls: {path: calls.xlsx}\n"
    )
    result = CliRunner().invoke(
        # `all` too: a header-only export gives no_data records (issue 17 item 1)
        app,
        ["evaluate", "-p", str(folder / "tpmkit.yaml"), "--period", period],
    )
    assert result.exit_code in (0, 1, 2), result.output
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert "calls.xlsx" in result.output or "tpmkit.yaml" in result.output, result.output
