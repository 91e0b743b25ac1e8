"""Notifications: the outcome of `check` or `report` sent through Apprise to the project's
`notify:` targets and `--notify` URLs, when `notify_on` says it is due (docs/notifications.md).

The package takes a built message and the last recorded run's state; it never loads data or
reads the history itself (`Project.notify` does)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tpmkit.errors import Issue, UsageError
from tpmkit.notify.deliver import Delivery, known, send
from tpmkit.notify.message import Message, from_check, from_report
from tpmkit.notify.targets import Target, target
from tpmkit.spec.loader import Definitions

__all__ = [
    "Message",
    "Notification",
    "Outcome",
    "Target",
    "due",
    "from_check",
    "from_report",
    "notify",
    "targets",
]

NOTIFY_ON = ("breach", "change", "always")


def targets(
    project: Definitions,
    urls: Sequence[str | Target] = (),
    environ: Mapping[str, str] | None = None,
) -> list[Target]:
    """The project's `notify:` targets and the given URLs, variables replaced and checked
    (a missing variable or a URL Apprise cannot use is a usage error, exit 2)."""
    found = [_from_file(project, i, environ) for i in range(len(project.spec.notify))]
    given = [u if isinstance(u, Target) else target(u, "--notify", environ=environ) for u in urls]
    for each in given:
        known(each)
        _metrics_of(project, each)  # unknown metric or role: said before anything runs
    return found + given


def _from_file(project: Definitions, i: int, environ: Mapping[str, str] | None) -> Target:
    """The file's `notify[i]`; a problem also says where it is (file:line:column)."""
    spec = project.spec.notify[i]

    def located(exc: UsageError, part: str) -> UsageError:
        here = project.doc.issue(("notify", i, part), f"notify[{i}].{part}", severity="hint")
        return UsageError(exc.message, [here, *exc.issues])

    try:
        found = target(spec.url, f"notify[{i}] in tpmkit.yaml", spec.roles, spec.metrics, environ)
        known(found)
    except UsageError as exc:
        raise located(exc, "url") from None
    try:
        _metrics_of(project, found)
    except UsageError as exc:
        raise located(exc, "metrics" if spec.metrics else "roles") from None
    return found


def _metrics_of(project: Definitions, each: Target) -> set[str] | None:
    """The metrics a target hears about: its `metrics`, within its roles' views and the
    metrics those roles own (an owner acts on a breach even where the catalogue's view for
    the role leaves the metric out); None for all."""
    from tpmkit.needs import select

    if not each.roles and not each.metrics:
        return None
    try:
        chosen = select(project, each.metrics)
        if not each.roles:
            return {m.spec.id for m in chosen}
        owned = {m.spec.id for m in chosen if m.spec.owner in each.roles}
        return owned | {
            m.spec.id for role in each.roles for m in select(project, each.metrics, role)
        }
    except UsageError as exc:
        raise UsageError(f"{each.where}: {exc.message}", exc.issues) from None


def due(on: str, message: Message, previous: Mapping[str, Any] | None) -> str | None:
    """None when the message is due under `notify_on`, else why it is not sent."""
    if on == "always":
        return None
    if on == "breach":
        if message.alerts or message.source_lines:  # a stale export is to act on too
            return None
        return "no breach (notify_on: breach)"
    if previous is None:
        return None  # no recorded run of this command and scope: send
    if previous.get("notified") is False:
        return None  # the last run's message was not delivered: say it now
    metrics = {_metric(k) for k in message.statuses}  # a target's metrics only
    recorded = dict(previous.get("statuses") or {})
    before = {k: s for k, s in recorded.items() if _metric(k) in metrics}
    # a source's status changing (an export going stale, or back) is a change too; a run
    # recorded before sources were kept compares its metrics only
    sources = previous.get("sources")
    same_sources = sources == message.sources if sources is not None else not message.source_lines
    if before == message.statuses and same_sources:
        return "no status changed since the last recorded run (notify_on: change)"
    return None


def _metric(key: str) -> str:
    return key.split(" × ", 1)[0]


@dataclass
class Outcome:
    """One target's part of a run: sent, skipped (why), or shown (dry run)."""

    target: str  # masked
    message: Message
    skipped: str | None = None
    delivery: Delivery | None = None
    dry_run: bool = False

    @property
    def failed(self) -> bool:
        return self.delivery is not None and not self.delivery.delivered


@dataclass
class Notification:
    """What notifying did, per target; `state` is what the history keeps for the next run."""

    message: Message
    outcomes: list[Outcome] = field(default_factory=list)
    dry_run: bool = False
    scope: dict[str, Any] = field(default_factory=dict)  # the command's options compared

    @property
    def failures(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.failed]

    @property
    def sent(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.delivery is not None and o.delivery.delivered]

    def state(self) -> dict[str, Any]:
        """The statuses `notify_on: change` compares next time, and whether every message
        due was delivered (a dry run or a failure is sent again next run). No target URL."""
        due_unsent = self.dry_run and any(o.skipped is None for o in self.outcomes)
        return {
            "scope": self.scope,
            "statuses": self.message.statuses,
            "sources": self.message.sources,
            "notified": not (self.failures or due_unsent),
        }


def notify(
    project: Definitions,
    message: Message,
    to: Sequence[Target],
    *,
    on: str | None = None,
    dry_run: bool = False,
    previous: Mapping[str, Any] | None = None,
) -> Notification:
    """Send `message` (narrowed to each target's roles and metrics) to each target it is
    due for; with `dry_run`, only say what would be sent."""
    on = on or project.spec.notify_on
    if on not in NOTIFY_ON:
        raise UsageError(
            f"notify_on must be breach, change or always, not `{on}`",
            [Issue("breach: only with a breach; change: when a status changed", severity="hint")],
        )
    result = Notification(message, dry_run=dry_run)
    for each in to:
        narrowed = message.narrowed(_metrics_of(project, each))
        skipped = due(on, narrowed, previous)
        if skipped is not None and on == "breach" and message.alerts:
            # the run has breaches, only not among this target's metrics: say so, never
            # "no breach" while the gate fails
            skipped = (
                f"no breach among this target's metrics ({len(message.alerts)} breach(es) "
                "outside its roles and metrics; notify_on: breach)"
            )
        outcome = Outcome(each.shown, narrowed, skipped, dry_run=dry_run)
        if skipped is None and not dry_run:
            attach = narrowed.report if each.email and narrowed.report is not None else None
            body = narrowed.json() if each.webhook else narrowed.text()
            failure = bool(narrowed.alerts) or narrowed.passed is False
            outcome.delivery = send(each, narrowed.title(), body, failure=failure, attach=attach)
        result.outcomes.append(outcome)
    return result
