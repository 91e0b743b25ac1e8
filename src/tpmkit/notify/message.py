"""The one message a run sends: the period, every breach (metric, level and group, value
against the threshold, owner, action, top driver), early warnings and the report — as a
short text for chat and email, and as a structured document for JSON webhooks.

A breach alerts only at or above its metric's `min_sample`: a group too small to judge has
the status `insufficient_sample`, never `warning` or `critical`, and is not listed."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmkit import __version__
from tpmkit.render.values import fmt_value, group_label, threshold_passed
from tpmkit.vocabulary import BREACHES, Level, Status, level_of

if TYPE_CHECKING:
    from tpmkit.judge.gate import CheckResult
    from tpmkit.report.model import Report

ALERTS_SHOWN = 8  # breaches in the text: a chat message stays one screen
EARLY_SHOWN = 3
ALERTS_IN_JSON = 100  # a webhook gets more, but never an unbounded body
STATUS_ORDER = ("critical", "warning", "no_data")
SOURCE_FAILS = ("stale", "incomplete")
LEVEL_ORDER = [str(level) for level in Level]


def level_name(columns: list[str]) -> str:
    """The level of a grouping (`operation`, `team` …), or its columns when not a level."""
    level = level_of(columns)
    return str(level) if level is not None else " × ".join(columns)


def group_text(group: dict[str, Any]) -> str:
    return ", ".join(f"{k} {group_label(v)}" for k, v in group.items())


def status_key(metric: str, level: str, group: dict[str, Any]) -> str:
    """The key of one metric × level × group in the recorded statuses."""
    return f"{metric} × {level} × {json.dumps(group, sort_keys=True, default=str)}"


@dataclass
class Alert:
    """One breach of the judged period (or a gated metric with no data, which fails)."""

    metric: str
    name: str
    level: str
    group: dict[str, Any]
    period: str
    status: str
    value: float | None
    unit: str
    n: int
    threshold: str | None
    owner: str | None
    action: str | None
    driver: str | None = None
    failed: bool = False  # fails the check's gate
    reason: str | None = None

    def line(self, currency: str | None = None) -> str:
        """`critical — aht, team Berlin: 452s, above critical 420s · owner: … → action`."""
        where = self.name + (f", {group_text(self.group)}" if self.group else "")
        if self.value is None:
            what = f"no data ({self.reason or 'no rows'})"
        else:
            what = fmt_value(self.value, self.unit, currency)
            what += f", {self.threshold}" if self.threshold else ""
        extras = [f"owner: {self.owner}"] if self.owner else []
        if self.driver:
            extras.append(f"why: {self.driver}")
        text = f"{self.status.replace('_', ' ')} — {where}: {what}"
        text += "".join(f" · {e}" for e in extras)
        return text + (f" → {self.action}" if self.action else "")

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class EarlyWarning:
    """A series whose trend passes its next level within the projection horizon."""

    metric: str
    name: str
    level: str
    group: dict[str, Any]
    projected: str  # e.g. "critical by 2026-W49"
    value: float | None
    unit: str

    def line(self, currency: str | None = None) -> str:
        where = self.name + (f", {group_text(self.group)}" if self.group else "")
        return f"{where}: {self.projected} (now {fmt_value(self.value, self.unit, currency)})"

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Message:
    """What one run has to say; `statuses` is what `notify_on: change` compares."""

    command: str  # check or report
    project: str
    period: str
    passed: bool | None  # the check's gate; None for a report
    alerts: list[Alert]
    early: list[EarlyWarning]
    statuses: dict[str, str]  # status_key -> status, every judged metric × level × group
    report: Path | None = None
    currency: str | None = None
    failures: list[str] = field(default_factory=list)  # the metric of each failing verdict
    # metric -> why it is not judged on this period: one shorter than its cadence (a monthly
    # attrition in a weekly run), said so that its silence is not read as "fine"
    off_cadence: dict[str, str] = field(default_factory=dict)
    # each source's status (ok, stale, incomplete, skipped), compared by notify_on: change,
    # and the line of each stale or incomplete one: a gate that fails on an export says so
    sources: dict[str, str] = field(default_factory=dict)
    source_lines: list[str] = field(default_factory=list)

    @property
    def failing(self) -> int:
        return len(self.failures)

    @property
    def counts(self) -> dict[str, int]:
        """Judged metric × level × group per status, worst first."""
        counted = Counter(self.statuses.values())
        order = ("critical", "warning", "no_data", "insufficient_sample", "ok")
        return {s: counted[s] for s in order if counted[s]}

    def narrowed(self, metrics: set[str] | None) -> Message:
        """The message about these metrics only (a target's `roles`/`metrics`)."""
        if metrics is None:
            return self
        failures = [m for m in self.failures if m in metrics]
        return dataclasses.replace(
            self,
            # a stale or truncated export concerns every target
            passed=None if self.passed is None else not (failures or self.source_lines),
            alerts=[a for a in self.alerts if a.metric in metrics],
            early=[e for e in self.early if e.metric in metrics],
            statuses={k: s for k, s in self.statuses.items() if k.split(" × ")[0] in metrics},
            failures=failures,
            off_cadence={m: r for m, r in self.off_cadence.items() if m in metrics},
        )

    def title(self) -> str:
        """One line: the command, project, period and the outcome."""
        head = f"tpmkit {self.command} — {self.project}, {self.period}"
        failed = [f"{self.failing} failing"] if self.failing else []
        bad = [f"source {n} {s}" for n, s in self.sources.items() if s in SOURCE_FAILS]
        failed += bad if len(bad) < 3 else [f"{len(bad)} sources stale or incomplete"]
        if self.passed is not None and not self.passed:
            outcome = ", ".join(["FAIL", *failed])
        elif failed:  # a report: no gate, but its sources are stale or incomplete
            outcome = ", ".join(failed)
        elif self.alerts:
            outcome = f"{len(self.alerts)} breach" + ("es" if len(self.alerts) > 1 else "")
        else:
            outcome = "PASS" if self.passed else "no breach"
        return f"{head}: {outcome}"

    def text(self, limit: int = ALERTS_SHOWN) -> str:
        """The body for chat and email: short, the rest linked or attached."""
        out = []
        if self.source_lines:
            out += [f"Sources ({len(self.source_lines)}):"]
            out += [f"• {line}" for line in self.source_lines] + [""]
        if self.counts:
            judged = sum(self.counts.values())
            counted = ", ".join(f"{n} {s.replace('_', ' ')}" for s, n in self.counts.items())
            out.append(f"{judged} judged: {counted}.")
        if self.alerts:
            out += ["", f"Breaches ({len(self.alerts)}):"]
            out += [f"• {a.line(self.currency)}" for a in self.alerts[:limit]]
            if len(self.alerts) > limit:
                out.append(f"… and {len(self.alerts) - limit} more: {self._rest()}")
        if self.early:
            out += ["", f"Early warnings ({len(self.early)}):"]
            out += [f"• {e.line(self.currency)}" for e in self.early[:EARLY_SHOWN]]
            if len(self.early) > EARLY_SHOWN:
                out.append(f"… and {len(self.early) - EARLY_SHOWN} more: {self._rest()}")
        by_reason: dict[str, list[str]] = {}
        for metric, reason in self.off_cadence.items():
            by_reason.setdefault(reason, []).append(metric)
        for reason, metrics in by_reason.items():
            out += ["", f"Not judged on this period ({reason}): {', '.join(metrics)}."]
        if self.report is not None:
            out += ["", f"Report: {self.report}"]
        return "\n".join(out).strip() + "\n"

    def _rest(self) -> str:
        if self.report is not None:
            return f"see the report, {self.report}"
        return f"`tpmkit {self.command}` lists them all"

    def payload(self) -> dict[str, Any]:
        """The structured body for JSON webhooks."""
        return {
            "tpmkit": __version__,
            "command": self.command,
            "project": self.project,
            "period": self.period,
            "passed": self.passed,
            "title": self.title(),
            "counts": self.counts,
            "sources": self.source_lines,
            "breaches": [a.as_dict() for a in self.alerts[:ALERTS_IN_JSON]],
            "more_breaches": max(0, len(self.alerts) - ALERTS_IN_JSON),
            "early_warnings": [e.as_dict() for e in self.early[:ALERTS_IN_JSON]],
            "not_judged_on_this_period": self.off_cadence,
            "report": str(self.report) if self.report is not None else None,
        }

    def json(self) -> str:
        return json.dumps(self.payload(), indent=1, default=str, ensure_ascii=False)


def _order(alert: Alert) -> tuple[Any, ...]:
    """Failing first, then critical before warning, coarser levels first."""
    rank = STATUS_ORDER.index(alert.status) if alert.status in STATUS_ORDER else len(STATUS_ORDER)
    level = LEVEL_ORDER.index(alert.level) if alert.level in LEVEL_ORDER else len(LEVEL_ORDER)
    return (not alert.failed, rank, level, alert.metric, group_text(alert.group))


def _early_order(warning: EarlyWarning) -> tuple[Any, ...]:
    level = LEVEL_ORDER.index(warning.level) if warning.level in LEVEL_ORDER else len(LEVEL_ORDER)
    return (not warning.projected.startswith("critical"), level, warning.projected, warning.metric)


def from_check(result: CheckResult, project: str, currency: str | None = None) -> Message:
    """The message of a check: its breaches, failing gates and early warnings."""
    alerts, early, statuses = [], [], {}
    off: dict[str, str] = {}
    for v in result.verdicts:
        if v.status == Status.NOT_JUDGED:
            _note_off_cadence(off, v.metric, v.reason)
            continue
        level = level_name(list(v.group))
        statuses[status_key(v.metric, level, v.group)] = str(v.status)
        # a gated metric with no data at all fails; a sample below min_sample never alerts
        if v.status in BREACHES or (v.failed and v.status == Status.NO_DATA):
            alerts.append(
                Alert(
                    metric=v.metric,
                    name=v.name,
                    level=level,
                    group=dict(v.group),
                    period=v.period,
                    status=str(v.status),
                    value=v.value,
                    unit=v.unit,
                    n=v.n,
                    threshold=threshold_passed(v.levels) or None,
                    owner=v.owner,
                    action=v.action,
                    driver=v.driver,
                    failed=v.failed,
                    reason=v.reason if v.value is None else None,
                )
            )
        # a projected breach is an early warning, also for a record breaching already
        if v.projected and v.status != Status.INSUFFICIENT_SAMPLE:
            early.append(
                EarlyWarning(v.metric, v.name, level, dict(v.group), v.projected, v.value, v.unit)
            )
    return Message(
        "check",
        project,
        result.period,
        not result.failed,
        sorted(alerts, key=_order),
        sorted(early, key=_early_order),
        statuses,
        currency=currency,
        failures=[v.metric for v in result.failures],
        off_cadence=off,
        **_sources(result.sources),
    )


def _note_off_cadence(found: dict[str, str], metric: str, reason: str | None) -> None:
    """Keep why `metric` is not judged when it is its cadence (once per metric)."""
    from tpmkit.engine.status import off_cadence

    why = reason.split("; ")[0] if reason else None
    if why is not None and off_cadence(why):
        found.setdefault(metric, why)


def from_report(report: Report, path: Path | None) -> Message:
    """The message of a report: breaches and early warnings of its cards and group tables."""
    alerts, early, statuses = [], [], {}
    cards = {card.metric: card for card in report.cards}
    why = _drivers(report)
    rows: list[tuple[str, list[str], dict[str, Any], dict[str, Any]]] = [
        (card.metric, [], {}, card.record) for card in report.cards
    ]
    for table in report.tables:
        rows += [(table.metric, table.columns, dict(r.group), r.record) for r in table.rows]
    off: dict[str, str] = {}
    for metric, columns, group, record in rows:
        card = cards.get(metric)
        status = str(record.get("status"))
        if card is None or status == Status.NOT_JUDGED:
            _note_off_cadence(off, metric, record.get("reason"))
            continue
        level = level_name(columns)
        statuses[status_key(metric, level, group)] = status
        if status in BREACHES:
            alerts.append(
                Alert(
                    metric=metric,
                    name=card.name,
                    level=level,
                    group=group,
                    period=card.period,
                    status=status,
                    value=record.get("value"),
                    unit=card.unit,
                    n=int(record.get("n") or 0),
                    threshold=threshold_passed(record) or None,
                    owner=card.owner,
                    action=card.actions.get(status) or (None if group else card.action),
                    # the report explains each breached metric's operation-level change
                    driver=record.get("driver") or (None if group else why.get(metric)),
                )
            )
        if record.get("projected_breach_period") and status != Status.INSUFFICIENT_SAMPLE:
            projected = f"{record['projected_status']} by {record['projected_breach_period']}"
            early.append(EarlyWarning(metric, card.name, level, group, projected,
                                      record.get("value"), card.unit))  # fmt: skip
    return Message(
        "report",
        report.project,
        report.period,
        None,
        sorted(alerts, key=_order),
        sorted(early, key=_early_order),
        statuses,
        report=path,
        currency=report.currency,
        off_cadence=off,
        **_sources(report.sources),
    )


def _drivers(report: Report) -> dict[str, str]:
    """Per metric the report explained (its breaches), the top driver in words."""
    from tpmkit.explain.drivers import driver

    found = {metric: driver(explanation) for metric, explanation in report.moved.items()}
    return {metric: top.text for metric, top in found.items() if top is not None}


def _sources(statuses: list[Any]) -> dict[str, Any]:
    """A run's source statuses (`judge.sources.SourceStatus`) as the message keeps them."""
    return {
        "sources": {s.name: s.status for s in statuses},
        "source_lines": [s.message() for s in statuses if s.failed],
    }
