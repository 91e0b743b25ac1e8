"""How `tpmkit check` reports: plain lines for logs, JSON, JUnit XML, GitHub annotations
and a Markdown step summary. Plain text on purpose: CI logs do not all render colour."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tpmkit.atomic import write_text
from tpmkit.judge.gate import CheckResult, Verdict
from tpmkit.judge.sources import SourceStatus, duration_text
from tpmkit.render.statuses import look
from tpmkit.render.values import fmt_value, group_label, threshold_passed
from tpmkit.vocabulary import BREACHES, NOT_JUDGED, WORST_FIRST, Status


def _group(verdict: Verdict) -> str:
    if not verdict.group:
        return ""
    return " [" + ", ".join(f"{k}={group_label(v)}" for k, v in verdict.group.items()) + "]"


def describe(verdict: Verdict, note: str | None = None) -> str:
    """One line: what, where, when, value vs threshold, owner, trend (and the notes
    annotating the period, when there are)."""
    head = f"{verdict.metric}{_group(verdict)} {verdict.period}"
    if verdict.status in NOT_JUDGED:
        why = verdict.reason or ("no data" if verdict.status == Status.NO_DATA else "")
        if verdict.status == Status.INSUFFICIENT_SAMPLE:
            why = f"only n={verdict.n}, too few to judge"
        body = f"{look(verdict.status).phrase}: {why}"
        if verdict.failed:
            body += " (fails closed; --allow-no-data to let it pass)"
    else:
        body = fmt_value(verdict.value, verdict.unit)
        passed = threshold_passed(verdict.levels)
        if passed:
            body += f", {passed}"
    extras = []
    if verdict.owner:
        extras.append(f"owner: {verdict.owner}")
    if verdict.trend:
        extras.append(f"trend: {verdict.trend}")
    if verdict.projected:
        extras.append(f"projected {verdict.projected}")
    if verdict.control:
        extras.append(f"control: {verdict.control.replace('_', ' ')}")
    if verdict.driver:
        extras.append(f"why: {verdict.driver}")
    if note:
        extras.append(f"note: {note}")
    line = f"{head}: {body}" + (f" ({'; '.join(extras)})" if extras else "")
    return line + (f" → {verdict.action}" if verdict.action else "")


def _counts(result: CheckResult) -> str:
    """`3 ok, 1 no data`: how many verdicts at each status."""
    return ", ".join(f"{n} {look(s).phrase}" for s, n in result.counts().items())


def summary_line(result: CheckResult) -> str:
    """PASS or FAIL, the period and the counts by status."""
    counts = _counts(result)
    failing = _failing_sources(result)
    failures = len(result.failures) + len(failing)
    verdict = f"FAIL: {failures} failing" if failures else "PASS"
    shown = f"{verdict} — {result.period}: {len(result.judged)} judged"
    shown += f" ({counts})" if counts else ""
    aside = len(result.verdicts) - len(result.judged)
    shown += f"; {aside} not judged" if aside else ""
    return shown + "".join(f"; source {s.name} {s.status}" for s in failing)


def _failing_sources(result: CheckResult) -> list[SourceStatus]:
    return [s for s in result.sources if s.failed]


def lines(result: CheckResult) -> list[str]:
    """The log: one line per failing or breaching record, then the summary."""
    out = [f"FAIL {s.message()}" for s in _failing_sources(result)]
    notes = _notes(result)
    for verdict in sorted(result.verdicts, key=_worst_first):
        note = notes(verdict)
        if verdict.failed:
            out.append(f"FAIL {describe(verdict, note)}")
        elif verdict.status in BREACHES or verdict.projected:
            out.append(f"note {describe(verdict, note)}")  # below --fail-on, not gated, or early
        elif note:  # an annotated period says so even when it is fine
            out.append(f"info {describe(verdict, note)}")
    out += [f"info {describe(v)}" for v in off_cadence_verdicts(result)]
    out.append(summary_line(result))
    return out


def off_cadence_verdicts(result: CheckResult) -> list[Verdict]:
    """One verdict per metric not judged because the period is shorter than its cadence
    (its coarsest group first): judging it needs another --period, which the log says once."""
    from tpmkit.engine.status import off_cadence

    seen: dict[str, Verdict] = {}
    for verdict in result.verdicts:
        if verdict.status == Status.NOT_JUDGED and off_cadence(verdict.reason):
            seen.setdefault(verdict.metric, verdict)
    return list(seen.values())


def _notes(result: CheckResult) -> Callable[[Verdict], str | None]:
    """The annotations on each verdict's period (by its metric and group)."""
    evaluation = result.evaluation
    if evaluation is None or evaluation.annotations is None:
        return lambda verdict: None
    from tpmkit.render import notes

    by = evaluation.by
    found = notes.lookup(evaluation.records, evaluation.annotations, by)
    return lambda v: found.get(notes.key(v.metric, v.group or {}, v.period, by))


def _worst_first(verdict: Verdict) -> tuple[int, int, str]:
    known = verdict.status in WORST_FIRST
    rank = WORST_FIRST.index(Status(verdict.status)) if known else len(WORST_FIRST)
    return (0 if verdict.failed else 1, rank, verdict.metric)


def to_json(result: CheckResult) -> str:
    """The result as JSON: pass or fail, counts, and every verdict worst first."""
    notes = _notes(result)
    data: dict[str, Any] = {
        "period": result.period,
        "passed": not result.failed,
        "counts": result.counts(),
        "verdicts": [
            {
                "metric": v.metric,
                "group": v.group,
                "period": v.period,
                "status": v.status,
                "value": v.value,
                "n": v.n,
                "unit": v.unit,
                "gate": v.level,
                "failed": v.failed,
                "threshold": threshold_passed(v.levels) or None,
                "reason": v.reason,
                "owner": v.owner,
                "trend": v.trend,
                "action": v.action,
                "projected": v.projected,
                "control_signal": v.control,
                "driver": v.driver,
                "note": notes(v),
                "message": describe(v, notes(v)),
            }
            for v in sorted(result.verdicts, key=_worst_first)
        ],
        "sources": [source_json(s) for s in result.sources],
    }
    return json.dumps(data, indent=2, default=str) + "\n"


def source_json(status: SourceStatus) -> dict[str, Any]:
    """A source's freshness and completeness as JSON (times in ISO 8601, ages as text)."""

    def day(d: Any) -> dict[str, Any]:
        return {"day": d.day.isoformat(), "rows": d.rows, "median": d.median,
                "share": round(d.share, 4), "weeks": d.weeks}  # fmt: skip

    return {
        "name": status.name,
        "status": status.status,
        "failed": status.failed,
        "time_column": status.time_column,
        "latest": status.latest.isoformat() if status.latest else None,
        "age": duration_text(status.age) if status.latest else None,
        "age_seconds": status.age.total_seconds() if status.latest and status.age else None,
        "max_age": _age(status.max_age),
        "min_share": status.min_share,
        "days": [day(d) for d in status.days],
        "incomplete": [day(d) for d in status.incomplete],
        "no_rows_in": status.empty,
        "usual_rows": status.usual,
        "notes": status.notes,
        "message": status.message(),
    }


def _age(age: Any) -> str | None:
    from tpmkit.spec.sourcechecks import age_text

    return age_text(age) if age is not None else None


def junit(result: CheckResult, project_name: str) -> str:
    """JUnit XML: one testcase per metric × group; a failing gate is a <failure>, an
    ungated breach is a passing case with the finding in <system-out>, a record not judged
    is <skipped> with its reason."""
    suite = ET.Element(
        "testsuite",
        name=f"tpmkit check {project_name} {result.period}",
        tests=str(len(result.verdicts)),
        failures=str(len(result.failures)),
        errors="0",
        skipped=str(len(result.verdicts) - len(result.judged)),
    )
    for verdict in sorted(result.verdicts, key=lambda v: (v.metric, _group(v))):
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"tpmkit.{verdict.metric}",
            name=f"{verdict.metric}{_group(verdict)} {verdict.period}",
        )
        message = describe(verdict)
        if verdict.failed:
            failure = ET.SubElement(case, "failure", message=message, type=verdict.status)
            failure.text = message
        elif verdict.status == Status.NOT_JUDGED:
            ET.SubElement(case, "skipped", message=message)
        else:
            ET.SubElement(case, "system-out").text = message
    parts = [suite, *([_sources_suite(result, project_name)] if result.sources else [])]
    totals = {
        key: str(sum(int(part.get(key, "0")) for part in parts))
        for key in ("tests", "failures", "skipped")
    }
    suites = ET.Element("testsuites", totals)
    suites.extend(parts)
    ET.indent(suites)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
    )


def _sources_suite(result: CheckResult, project_name: str) -> ET.Element:
    """A second suite: one case per source, failing when stale or incomplete, skipped
    when nothing about it could be checked."""
    failing = _failing_sources(result)
    unchecked = [s for s in result.sources if s.status == "skipped"]
    suite = ET.Element(
        "testsuite",
        name=f"tpmkit sources {project_name} {result.period}",
        tests=str(len(result.sources)),
        failures=str(len(failing)),
        errors="0",
        skipped=str(len(unchecked)),
    )
    for status in result.sources:
        case = ET.SubElement(
            suite, "testcase", classname="tpmkit.sources", name=f"source {status.name}"
        )
        message = "; ".join([status.message(), *status.notes])
        if status.failed:
            ET.SubElement(
                case, "failure", message=status.message(), type=status.status
            ).text = message
        elif status.status == "skipped":
            ET.SubElement(case, "skipped", message=message)
        else:
            ET.SubElement(case, "system-out").text = message
    return suite


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotations(result: CheckResult) -> list[str]:
    """Workflow commands: ::error for a failing gate, ::warning for other breaches."""
    out = []
    for status in _failing_sources(result):
        title = _escape_property(f"source {status.name} {status.status}")
        out.append(f"::error title={title}::{_escape_data(status.message())}")
    for verdict in sorted(result.verdicts, key=_worst_first):
        if verdict.failed:
            kind = "error"
        elif verdict.status in BREACHES:
            kind = "warning"
        else:
            continue
        title = _escape_property(f"{verdict.metric} {verdict.status} {verdict.period}")
        out.append(f"::{kind} title={title}::{_escape_data(describe(verdict))}")
    return out


def github_summary(result: CheckResult, project_name: str) -> str:
    """A Markdown section for $GITHUB_STEP_SUMMARY."""
    from tpmkit.render.files import markdown_cell

    failing = _failing_sources(result)
    head = "✅ passed" if not result.failed else f"❌ {len(result.failures) + len(failing)} failing"
    out = [f"### tpmkit check — {markdown_cell(project_name)}, {result.period}: {head}", ""]
    out += [f"{len(result.judged)} judged: {_counts(result)}", ""]
    out += [f"- ❌ {markdown_cell(s.message())}" for s in failing] + ([""] if failing else [])
    shown = [
        v for v in sorted(result.verdicts, key=_worst_first) if v.failed or v.status in BREACHES
    ]
    if shown:
        out += [
            "| | metric | group | value | threshold | owner | trend |",
            "|---|---|---|---|---|---|---|",
        ]
        for v in shown:
            group = ", ".join(f"{k}={group_label(val)}" for k, val in v.group.items()) or "—"
            cells = [
                "❌" if v.failed else "⚠️",
                v.metric,
                group,
                fmt_value(v.value, v.unit) if v.value is not None else look(v.status).phrase,
                threshold_passed(v.levels) or "—",
                v.owner or "—",
                v.trend or "—",
                v.action or "—",
            ]
            out.append("| " + " | ".join(markdown_cell(str(c)) for c in cells) + " |")
    return "\n".join(out) + "\n"


def append_summary(path: Path, text: str) -> None:
    """Append to the step summary file (GitHub creates it; appending is its contract)."""
    with path.open("a", encoding="utf-8") as handle:
        handle.write(text)


def write_junit(result: CheckResult, project_name: str, path: Path) -> None:
    write_text(path, junit(result, project_name))
