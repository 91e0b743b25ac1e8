"""Exports as users have them: semicolon CSV with decimal commas in cp1252, custom timestamp
formats, gzip/zstd, Excel sheets, globs whose files differ, the same export downloaded
twice. Each gives the same numbers as a clean UTF-8 CSV."""

from __future__ import annotations

import gzip
import zipfile

import pytest

from conftest import by_key, evaluate_records
from tpmkit import project as api
from tpmkit.errors import DataError

AHT = """
id: aht
name: AHT
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: "talk_seconds"}
"""
ROWS = [
    ("c1", "2026-03-02 09:00", "Y", "120.5", "Zoë", "3"),
    ("c2", "2026-03-03 10:30", "Y", "60", "Jürgen", "4"),
]
EXPECTED = (120.5 + 60) / 2


def project(make, source: str, files: dict) -> object:
    text = f"name: Formats\ntimezone: Europe/Berlin\nmetrics: [metrics/]\nsources:\n  calls: {source}\n"
    return make.project(text, metrics={"aht": AHT}, files=files)


def value(project_file) -> float:
    return by_key(evaluate_records(project_file, period="all", cache=False))[("aht", "all")][
        "value"
    ]


def csv_text(separator=",", comma=False, stamp=lambda s: s) -> str:
    header = ["contact_id", "offered_at", "answered", "talk_seconds", "agent_name", "wait_seconds"]
    lines = [separator.join(header)]
    for cid, at, answered, talk, name, wait in ROWS:
        talk = talk.replace(".", ",") if comma else talk
        lines.append(separator.join([cid, stamp(at), answered, talk, name, wait]))
    return "\n".join(lines) + "\n"


def test_semicolon_decimal_comma_cp1252_and_a_german_timestamp_format(make):
    german = csv_text(";", comma=True, stamp=lambda s: f"{s[8:10]}.{s[5:7]}.{s[:4]} {s[11:]}")
    project_file = project(
        make,
        '{path: calls.csv, separator: ";", decimal_comma: true, encoding: cp1252, '
        'timestamp_format: "%d.%m.%Y %H:%M"}',
        {"calls.csv": german.encode("cp1252")},
    )
    assert value(project_file) == EXPECTED


def test_compressed_csv(make, tmp_path):
    import shutil
    import subprocess

    plain = csv_text().encode()
    project_file = project(make, "{path: calls.csv.gz}", {"calls.csv.gz": gzip.compress(plain)})
    assert value(project_file) == EXPECTED
    if shutil.which("zstd") is None:
        pytest.skip("no zstd program to make the .zst fixture")
    source = tmp_path / "calls.csv"
    source.write_bytes(plain)
    subprocess.run(["zstd", "-q", "-f", str(source), "-o", str(tmp_path / "z")], check=True)
    data = (tmp_path / "z").read_bytes()
    project_file = project(make, "{path: calls.csv.zst}", {"calls.csv.zst": data})
    assert value(project_file) == EXPECTED


def xlsx(rows: list[list[str]], sheet: str) -> bytes:
    """A minimal .xlsx with one sheet of inline strings (what spreadsheet exports hold)."""

    def cell(ref: str, text: str) -> str:
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'

    body = "".join(
        f'<row r="{r + 1}">'
        + "".join(cell(f"{chr(65 + c)}{r + 1}", v) for c, v in enumerate(row))
        + "</row>"
        for r, row in enumerate(rows)
    )
    files = {
        "[Content_Types].xml": '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": f'<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="{sheet}" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": f'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>',
    }
    import io

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def test_excel_sheet(make):
    rows = [["contact_id", "offered_at", "answered", "talk_seconds", "agent_name", "wait_seconds"]]
    rows += [list(r) for r in ROWS]
    project_file = project(
        make, "{path: calls.xlsx, sheet: Calls}", {"calls.xlsx": xlsx(rows, "Calls")}
    )
    assert value(project_file) == EXPECTED
    bad = [*rows, ["c3", "yesterday", "Y", "10", "X", "1"]]
    project_file = project(
        make, "{path: calls.xlsx, sheet: Calls}", {"calls.xlsx": xlsx(bad, "Calls")}
    )
    with pytest.raises(DataError) as caught:
        evaluate_records(project_file, period="all", cache=False)
    issue = caught.value.issues[0]
    assert issue.line == 4 and "not a timestamp" in issue.message  # header is row 1


def test_files_of_a_glob_with_different_columns(make):
    first = (
        "contact_id,offered_at,answered,wait_seconds,talk_seconds\nc1,2026-03-02 09:00,Y,3,100\n"
    )
    second = "contact_id,offered_at,answered,wait_seconds\nc2,2026-03-03 09:00,Y,4\n"
    files = {"exports/a.csv": first, "exports/b.csv": second}
    strict = project(make, "{path: exports/*.csv}", files)
    with pytest.raises(DataError) as caught:
        api.load(strict).evaluate(cache=False)
    message = " ".join(i.render() for i in caught.value.issues)
    assert "a.csv" in message and "b.csv" in message and "union: by_name" in message
    union = project(make, "{path: exports/*.csv, union: by_name}", files)
    assert value(union) == 100.0  # the missing talk time is empty, not zero
    # through the CSV cache too, filled then read: b.csv's converted file has no talk time
    # (it used to end the run with an internal error, ColumnNotFoundError)
    for _ in range(2):
        cached = evaluate_records(union, period="all", cache=True)
        assert by_key(cached)[("aht", "all")]["value"] == 100.0
        assert by_key(cached)[("aht", "all")]["n"] == 1


def test_the_same_export_downloaded_twice(make):
    once = csv_text()
    files = {"exports/calls.csv": once, "exports/calls (1).csv": once}
    strict = project(make, "{path: exports/*.csv}", files)
    with pytest.raises(DataError, match="calls"):
        api.load(strict).evaluate(cache=False)
    deduped = project(make, "{path: exports/*.csv, dedupe: keep_last}", files)
    result = api.load(deduped).evaluate(period="all", cache=False)
    assert result.records.filter(result.records["metric"] == "aht")["value"].item() == EXPECTED
    assert any("2 repeated row(s) of `calls` left out" in note for note in result.notes)
    assert result.datasets[0].rows_read == 4
