"""One vocabulary: Status and Grain are StrEnums whose members are their strings (so files
and polars literals do not change), every status has one look for every renderer, and the
HTML report and its SVG charts paint each status in the same colour."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from rich.style import Style

import tpmkit
from tpmkit.engine.periods import GRAINS
from tpmkit.render.console import stdout
from tpmkit.render.statuses import LOOKS, css_badges, css_variables, look
from tpmkit.render.tables import metric_table
from tpmkit.report.document import to_html
from tpmkit.report.markdown import to_markdown
from tpmkit.report.model import Card, GroupRow, GroupTable, Point, Report
from tpmkit.report.svg import chart
from tpmkit.vocabulary import Grain, Status

# the statuses of kpi-catalogue.md, in the order the overview lists them, and not_judged
# (issue 15: a level the metric is not judged at, an unassigned group, no thresholds)
NAMES = ["ok", "warning", "critical", "no_data", "insufficient_sample", "not_judged"]


def test_statuses_and_grains_are_their_strings():
    assert [s.value for s in Status] == NAMES
    assert GRAINS == ("hour", "day", "week", "month", "quarter", "year", "all")
    assert all(type(g) is str for g in GRAINS)
    assert Status.NO_DATA == "no_data" and f"{Grain.WEEK}" == "week"
    assert json.dumps({"status": Status.INSUFFICIENT_SAMPLE}) == '{"status": "insufficient_sample"}'
    frame = pl.select(pl.lit(Status.CRITICAL).alias("status"))
    assert frame.schema["status"] == pl.String and frame.item() == "critical"


def test_every_status_has_one_look_for_every_renderer():
    assert list(LOOKS) == NAMES  # one entry per status, in the enum's order
    for name in NAMES:
        shown = look(name)
        assert shown.status == name and look(Status(name)) is shown
        assert shown.word and shown.label and shown.phrase and shown.icon  # text: Markdown, CI
        assert Style.parse(shown.style)  # a valid rich style: the terminal
        assert re.fullmatch(r"#[0-9a-f]{6}", shown.colour)  # HTML and SVG
        assert re.fullmatch(r"[a-z]+", shown.css_var)
        assert shown.marker in ("circle", "triangle", "square")
        assert shown.css_class == f"s-{name}"
    looks = list(LOOKS.values())
    for field in ("word", "icon", "colour", "css_var"):  # no two statuses look alike
        assert len({getattr(s, field) for s in looks}) == len(NAMES), field
    assert look("no_data").colour == "#616161"  # the one grey, chosen for contrast
    with pytest.raises(ValueError):
        look("fine")


def test_the_status_css_is_generated_from_the_looks():
    assert css_variables() == (
        "--ok:#2e7d32; --warning:#b26a00; --critical:#c62828; --nodata:#616161; --small:#6a1b9a;"
        " --notjudged:#546e7a;"  # not judged: blue-grey, told apart from no data's grey
    )
    assert css_badges().splitlines()[1] == (
        "  .s-no_data { background: var(--nodata); } "
        ".s-insufficient_sample { background: var(--small); } "
        ".s-not_judged { background: var(--notjudged); }"
    )


def _record(status: str, value: float | None) -> dict[str, object]:
    empty = ("target", "target_upper", "gap_to_target", "warning", "warning_upper")
    return {
        "status": status,
        "value": value,
        "n": 40,
        "unit": "seconds",
        "direction": "lower_is_better",
        **dict.fromkeys(empty),
        "critical": None,
        "critical_upper": None,
        "trend": None,
        "control_signal": None,
        "projected_breach_period": None,
        "projected_status": None,
        "plan": None,
        "plan_status": None,
        "reason": "no qualifying rows" if value is None else None,
    }


def _card(status: str, series: list[Point]) -> Card:
    value = None if status == "no_data" else 30.0
    return Card(
        metric=f"m_{status}",
        name=f"Metric {status}",
        description="",
        unit="seconds",
        direction="lower_is_better",
        owner=None,
        period="2026-W13",
        record=_record(status, value),
        previous=None,
        series=series,
        action=None,
    )


def _report() -> Report:
    # one point per status with a value (even no_data's, to see its colour in a chart)
    series = [Point(f"2026-W0{i + 1}", 10.0 + i, s) for i, s in enumerate(NAMES)]
    return Report(
        project="Colours",
        currency=None,
        period="2026-W13",
        period_start=None,
        period_end=None,
        grain="week",
        role=None,
        cadence=None,
        generated_at=dt.datetime(2026, 4, 1, 9, 0, tzinfo=ZoneInfo("Europe/Berlin")),
        data_from=None,
        data_to=None,
        datasets=[],
        cards=[_card(s, series) for s in NAMES],
    )


def test_html_and_svg_paint_each_status_in_the_same_colour():
    report = _report()
    html = to_html(report)
    variables = dict(re.findall(r"--([a-z]+):(#[0-9a-f]{6});", html))
    badges = dict(re.findall(r"\.s-([a-z_]+) \{ background: var\(--([a-z]+)\); \}", html))
    html_colour = {status: variables[var] for status, var in badges.items()}
    svg = chart(report.cards[0], "c")
    # each point: <title>period: value (word)</title> then its shape, filled
    points = re.findall(
        r"\((\w[\w ]*)\)</title><(circle|polygon|rect) [^>]*fill=\"(#[0-9a-f]+)\"", svg
    )
    word_to_status = {look(s).word: s for s in NAMES}
    svg_colour = {word_to_status[word]: fill for word, _, fill in points}
    svg_shape = {word_to_status[word]: shape for word, shape, _ in points}
    assert set(html_colour) == set(svg_colour) == set(NAMES)
    assert html_colour == svg_colour
    assert svg_colour["no_data"] == "#616161"  # the template's grey, not #757575
    assert svg_shape == {
        "ok": "circle",
        "warning": "polygon",
        "critical": "rect",
        "no_data": "circle",
        "insufficient_sample": "circle",
        "not_judged": "circle",
    }
    # every card's border and badge take their status's colour and word from the looks
    for name in NAMES:
        shown = look(name)
        assert f'style="--c: var(--{shown.css_var})"' in html
        assert f'<span class="badge {shown.css_class}">{shown.icon} {shown.word}</span>' in html
    assert "#757575" not in html + svg


def test_markdown_and_terminal_show_the_word_or_icon_beside_each_status():
    report = _report()
    markdown = to_markdown(report)
    assert "1 critical, 1 warning, 1 no data, 1 small sample, 1 ok" in markdown
    assert "| Metric no_data | — | 40 | No data |" in markdown
    records = pl.DataFrame([{"period": "2026-W13", **_record(s, 1.0)} for s in NAMES])
    console = stdout()
    with console.capture() as captured:
        console.print(metric_table(records, [], width=200))
    text = captured.get()
    for line, name in zip(text.splitlines()[1:], NAMES, strict=True):
        assert f"{look(name).icon} {look(name).label}" in line
    assert "? too few" in text


def test_the_grid_gives_each_site_its_status_icon_and_a_dash_where_it_has_none():
    report = _report()
    report.role = "operations_manager"
    site_a = GroupRow({"site": "A"}, _record("warning", 35.0), None)
    site_b = GroupRow({"site": "B"}, _record("ok", 300.0), None)
    report.tables = [
        GroupTable(["site"], "wait", "Wait", "seconds", [site_a]),
        GroupTable(["site"], "aht", "AHT", "seconds", [site_b]),
    ]
    wait, aht = _card("warning", []), _card("ok", [])
    wait.metric, wait.name, aht.metric, aht.name = "wait", "Wait", "aht", "AHT"
    report.cards = [wait, aht]
    markdown = to_markdown(report)
    assert "| metric | operation | site A | site B |" in markdown
    assert "| Wait | 30.0s ▲ | 35.0s ▲ | — |" in markdown
    assert "| AHT | 30.0s ✓ | — | 300s ✓ |" in markdown
    html = to_html(report)
    assert 'class="num cell-warning" title="Warning">35.0s ▲</td>' in html


def test_only_render_imports_rich():
    package = Path(tpmkit.__file__).parent
    rich = re.compile(r"^\s*(import rich|from rich)\b", re.MULTILINE)
    users = {
        path.relative_to(package).parts[0]
        for path in package.rglob("*.py")
        if rich.search(path.read_text(encoding="utf-8"))
    }
    assert users == {"render"}
