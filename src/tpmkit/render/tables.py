"""Records in the terminal: a table per metric coloured by status (`tpmkit evaluate`) and
a row per series with what the trend analysis says (`tpmkit trend`)."""

from __future__ import annotations

from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from rich.text import Text

from tpmkit.engine.tenure import in_tenure_order
from tpmkit.render.fit import fit, show
from tpmkit.render.statuses import LOOKS, TREND_WORDS, look
from tpmkit.render.terminal import group_cell, stdout
from tpmkit.render.values import fmt_gap, fmt_level, fmt_value
from tpmkit.vocabulary import Status

DIRECTION_WORDS = {
    "higher_is_better": "higher is better",
    "lower_is_better": "lower is better",
    "within_band": "within band",
}
# left out in this order when the terminal is too narrow (least useful first): the trend and
# plan words repeat what a glance at the values says; gap follows from value and target
RECORD_DROP = ("trend", "plan", "gap", "n", "target")
TREND_DROP = ("first warned", "control", "target by", "slope/period", "first breach", "trend")
TREND_WRAP = {"metric", "early warning", "first warned", "first breach"}
NO_QUALIFYING_ROWS = "no qualifying rows in this period and group"  # too common to list


def metric_table(
    records: pl.DataFrame,
    by: list[str],
    currency: str | None = None,
    width: int = 80,
    wide: bool = False,
) -> Table:
    """One metric's records as a compact table coloured by status (icon + word, not
    colour alone); see `metric_table_fitted`."""
    return metric_table_fitted(records, by, currency, Console(width=width), wide)[0]


def metric_table_fitted(
    records: pl.DataFrame,
    by: list[str],
    currency: str | None,
    console: Console,
    wide: bool = False,
) -> tuple[Table, list[str]]:
    """One metric's records and the columns left out: period, value and status are always
    shown; group values wrap; trend, plan, gap, n and target are left out, in that order,
    while the table is wider than the console (none with `wide`)."""
    rows = []
    for row in records.iter_rows(named=True):
        unit = row["unit"] or ""
        shown = look(row["status"])
        rows.append(
            {
                "period": row["period"] or "—",
                **{c: group_cell(row[c]) for c in by},
                "value": fmt_value(row["value"], unit, currency),
                "n": f"{row['n']:,}",
                "status": f"{shown.icon} {shown.label}",
                "target": fmt_level(row["target"], row["target_upper"], unit, currency),
                "gap": fmt_gap(row["gap_to_target"], unit, currency),
                "plan": row["plan_status"] or "",
                "trend": _trend_cell(row),
                "__style": shown.style,
            }
        )
    columns = ["period", *by, "value", "n", "status", "target", "gap", "plan", "trend"]
    right = {"value", "n", "target", "gap"}

    def build(names: list[str]) -> Table:
        table = Table(header_style="dim", box=None, pad_edge=False, show_edge=False)
        for name in names:
            table.add_column(
                name,
                justify="right" if name in right else "left",
                no_wrap=name not in by and name != "trend",
                overflow="fold",
            )
        for row in rows:
            styled = {"value", "status"}
            table.add_row(
                *[Text(row[c], style=row["__style"]) if c in styled else row[c] for c in names]
            )
        return table

    return fit(build, columns, RECORD_DROP, console, wide)


def _trend_cell(row: dict[str, Any]) -> str:
    """`worse`, plus the early warning (`worse, warning W39`) or a control signal."""
    words = [TREND_WORDS.get(row.get("trend") or "", "")]
    if row.get("projected_breach_period"):
        period = str(row["projected_breach_period"]).split("-")[-1]
        words.append(f"{row['projected_status']} {period}")
    if row.get("control_signal"):
        words.append(str(row["control_signal"]).replace("_", " "))
    return ", ".join(w for w in words if w)


def _title(metric: str, names: dict[str, str], records: pl.DataFrame) -> str:
    first = records.row(0, named=True)
    unit = first["unit"] or ""
    direction = DIRECTION_WORDS.get(first["direction"] or "", "")
    detail = ", ".join(p for p in (unit, direction) if p)
    name = names.get(metric, "")
    return f"{metric}" + (f" — {name}" if name else "") + (f" ({detail})" if detail else "")


def print_records(
    records: pl.DataFrame,
    by: list[str],
    title: str,
    notes: list[str],
    currency: str | None = None,
    names: dict[str, str] | None = None,
    wide: bool = False,
) -> None:
    """Print a table per metric, a status summary, reasons for missing data and notes."""
    console = stdout()
    console.print(Text(title, style="bold underline"))
    for (metric,), part in records.partition_by(
        "metric", as_dict=True, maintain_order=True
    ).items():
        console.print()
        console.print(Text(_title(str(metric), names or {}, part), style="bold"))
        show(console, *metric_table_fitted(part, by, currency, console, wide), wide)
    if not records.is_empty():
        found = dict(records.group_by("status").len().iter_rows())
        parts = [f"[{s.style}]{found[st]} {st}[/]" for st, s in LOOKS.items() if st in found]
        console.print("\n" + " · ".join(parts))
        reasons = (
            records.filter(pl.col("status").eq(Status.NO_DATA) & pl.col("reason").is_not_null())
            .select("metric", "reason")
            .unique(maintain_order=True)
        )
        for metric, reason in reasons.iter_rows():
            if reason != NO_QUALIFYING_ROWS:
                console.print(f"[dim]{metric}: no data — {reason}[/]")
        for metric, reason in off_cadence_reasons(records).items():
            console.print(f"[dim]{metric}: not judged — {reason}[/]")
    for note in notes:
        console.print(f"[yellow]note:[/] {note}", soft_wrap=True)  # paths kept whole


def off_cadence_reasons(records: pl.DataFrame) -> dict[str, str]:
    """Per metric evaluated on a period shorter than its cadence, why it is not judged
    (said once per metric, not per record)."""
    from tpmkit.engine.status import off_cadence

    found: dict[str, str] = {}
    for metric, reason in records.select("metric", "reason").iter_rows():
        why = str(reason).split("; ")[0] if reason else None
        if off_cadence(why) and metric not in found:
            found[metric] = str(why)
    return found


def trend_rows(records: pl.DataFrame, by: list[str], last: int) -> list[dict[str, Any]]:
    """One row per metric × group series: its recent values and what the analysis says."""
    from tpmkit.report.svg import sparkline

    rows = []
    keys = ["metric", *by]
    # bands in tenure order, as the records have them (not as text: 181-365 before 31-90)
    order = [pl.col("metric"), *(in_tenure_order(c) for c in by), pl.col("period_start")]
    ordered = records.sort(order, nulls_last=True)
    for _, series in ordered.group_by(keys, maintain_order=True):
        items = series.to_dicts()
        latest = items[-1]
        recent = items[-last:]
        unit = latest["unit"] or ""
        warned = next((r for r in items if r["projected_breach_period"]), None)
        firsts = [
            f"{level} {hit['period']}"
            for level in (Status.WARNING, Status.CRITICAL)
            if (hit := next((r for r in items if r["status"] == level), None))
        ]
        slope = latest.get("slope")
        shown = look(latest["status"])
        rows.append(
            {
                "metric": latest["metric"],
                **{c: group_cell(latest[c]) for c in by},
                "series": sparkline([r["value"] for r in recent]),
                "latest": f"{fmt_value(latest['value'], unit)} ({latest['period']})",
                "status": f"{shown.icon} {latest['status']}",
                "trend": TREND_WORDS.get(latest["trend"] or "", "—"),
                "slope/period": "—" if slope is None else fmt_gap(slope, unit),
                "early warning": (
                    f"{latest['projected_status']} by {latest['projected_breach_period']}"
                    if latest["projected_breach_period"]
                    else "—"
                ),
                "first warned": (
                    f"{warned['period']} (→ {warned['projected_status']} "
                    f"{warned['projected_breach_period']})"
                    if warned
                    else "—"
                ),
                "first breach": ", ".join(firsts) or "—",
                "target by": latest["projected_target_period"] or "—",
                "control": (latest["control_signal"] or "—").replace("_", " "),
                "__slope": slope,
                "__style": shown.style,
            }
        )
    return rows


def print_trend(
    records: pl.DataFrame,
    by: list[str],
    last: int,
    title: str,
    wide: bool = False,
    annotations: pl.DataFrame | None = None,
) -> None:
    """The series table of `tpmkit trend`, with a legend of its columns: metric, groups,
    series, latest and status always; the rest left out in `TREND_DROP` order while the
    table is wider than the terminal (none with `wide`); then the annotations on the
    periods shown (spans from `Evaluation.annotations`)."""
    rows = trend_rows(records, by, last)
    columns = ["metric", *by, "series", "latest", "status", "trend", "slope/period",
               "early warning", "first warned", "first breach", "target by", "control"]  # fmt: skip

    def build(names: list[str]) -> Table:
        table = Table(
            title=title, title_justify="left", box=None, header_style="bold", pad_edge=False
        )
        for name in names:
            wraps = name in TREND_WRAP or name in by
            table.add_column(name, no_wrap=not wraps, overflow="fold")
        for row in rows:
            table.add_row(
                *(Text(str(row[c]), style=row["__style"] if c == "status" else "") for c in names)
            )
        return table

    out = stdout()
    show(out, *fit(build, columns, TREND_DROP, out, wide), wide)
    from tpmkit.render.notes import note_lines

    for line in note_lines(records, annotations, by, last):
        out.print(Text(f"note {line}"))
    out.print(
        Text(
            "early warning: the period in which the least-squares line of the last 6 periods "
            "passes the next level within 4 periods (fitted on at least 5 values); first "
            "warned: the first period that raised one; first breach: the first period at "
            "each status",
            style="dim",
        )
    )
