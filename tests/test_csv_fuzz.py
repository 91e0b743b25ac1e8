"""Property test of CSV reading (issue 17): any small generated export — random headers,
values, quoting, separators, line ends and encodings — ends with exit 0 or a located
exit 2, never an internal error (exit 3) or a traceback, and never inf/NaN in the output."""

from __future__ import annotations

import datetime as dt
import json
import math
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tpmkit.cli import app

runner = CliRunner()

NAMES = [
    "contact_id",
    "offered_at",
    "answered",
    "wait_seconds",
    "talk_seconds",
    "hold_seconds",
    "acw_seconds",
    "agent_id",
    "queue",
    "csat",
    "resolved",
    "Talk Time",
    "a;b",
    "x\ty",
    "",
    "naïve",
    "contact_id",  # a repeated header
]
VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            "c1",
            "2026-01-05 10:00",
            "2026-01-05T10:00:00+01:00",
            "05/01/2026 10:00",
            "13/01/2026 10:00",
            "2026-03-29 02:30",
            "Y",
            "N",
            "maybe",
            "0",
            "1",
            "-5",
            "12.5",
            "1e308",
            "-1e308",
            "inf",
            "nan",
            "0:02:30",
            "1:75",
            "München",
            '"',
            "a,b",
            "x\ny",
            "\u00a0",
            "1.234,5",
        ]
    ),
    st.text(max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
)


GOOD = {
    "contact_id": st.sampled_from(["c1", "c2", "c3", "c4", "K-9"]),
    "offered_at": st.datetimes(
        min_value=dt.datetime(2025, 12, 28), max_value=dt.datetime(2026, 2, 3)
    ).map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    "answered": st.sampled_from(["Y", "N", "true", "0", ""]),
    "wait_seconds": st.integers(0, 900).map(str),
    "talk_seconds": st.one_of(st.integers(0, 3600).map(str), st.just("0:02:30"), st.just("")),
    "hold_seconds": st.floats(0, 600, allow_nan=False).map(lambda x: f"{x:.1f}"),
    "acw_seconds": st.integers(0, 300).map(str),
    "agent_id": st.sampled_from(["a1", "a2", ""]),
    "queue": st.sampled_from(["Sales", "Billing", "Tech DE", ""]),
    "csat": st.sampled_from(["1", "3", "5", ""]),
    "resolved": st.sampled_from(["Y", "N", ""]),
}
REQUIRED = ["contact_id", "offered_at", "answered", "wait_seconds"]


@st.composite
def exports(draw: st.DrawFn) -> tuple[bytes, str, str]:
    """(file bytes, separator declared in the project, encoding declared): mostly good
    exports with the required columns, with hostile headers, values, quoting, separators,
    encodings and truncation mixed in."""
    extra = draw(st.lists(st.sampled_from(NAMES), max_size=2))
    required = [c for c in REQUIRED if draw(st.integers(0, 19)) > 0]  # sometimes one is gone
    header = draw(st.permutations([*required, *extra]))
    rows = []
    for _ in range(draw(st.integers(0, 6))):
        row = []
        for name in header:
            hostile = draw(st.integers(0, 9)) == 0 or name not in GOOD
            row.append(draw(VALUES if hostile else GOOD[name]))
        if draw(st.integers(0, 14)) == 0:  # a ragged row
            row = row[: draw(st.integers(0, len(row)))] + draw(st.lists(VALUES, max_size=2))
        rows.append(row)
    written_with = draw(st.sampled_from([",", ",", ",", ";", "\t"]))
    declared = written_with if draw(st.integers(0, 4)) else draw(st.sampled_from([",", ";"]))
    quote_all = draw(st.booleans())
    newline = draw(st.sampled_from(["\n", "\r\n"]))

    def field(value: str) -> str:
        if quote_all or any(c in value for c in (written_with, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    lines = [written_with.join(field(v) for v in line) for line in [header, *rows]]
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "cp1252", "latin-1"]))
    data = text.encode(encoding, errors="replace")
    if draw(st.integers(0, 9)) == 0:
        data = data[: draw(st.integers(0, len(data)))]  # a truncated download
    declared_encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "cp1252"]))
    return data, declared, declared_encoding


def _located(output: str) -> bool:
    return any(name in output for name in ("calls.csv", "tpmkit.yaml"))


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(export=exports(), command=st.sampled_from(["evaluate", "validate"]))
def test_any_csv_export_ends_in_exit_0_or_a_located_exit_2(export, command):
    data, separator, encoding = export
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "calls.csv").write_bytes(data)
        sep = "\\t" if separator == "\t" else separator
        (root / "tpmkit.yaml").write_text(
            "name: Fuzz\nmetrics: [builtin]\nsources:\n"
            f'  calls: {{path: calls.csv, separator: "{sep}", encoding: {encoding}}}\n',
            encoding="utf-8",
        )
        args = [command, "-p", str(root / "tpmkit.yaml")]
        if command == "evaluate":
            args += ["--format", "json", "--period", "all"]
        result = runner.invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    if result.exit_code == 2:
        assert _located(result.output), result.output
    elif command == "evaluate":
        for record in json.loads(result.stdout):
            for value in record.values():
                assert not (isinstance(value, float) and not math.isfinite(value)), record
