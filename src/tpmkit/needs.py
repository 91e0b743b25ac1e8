"""Which evaluations a command needs, planned from the definitions alone (pure: no data).

A `Need` is one evaluation: metrics over one grain, grouping and window. A report, check or
scorecard plans its needs, evaluates each distinct (grain, grouping, window) once — needs
that share one are merged, their metrics united — and judges the records."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field

from tpmkit.errors import Issue, UsageError, did_you_mean
from tpmkit.spec.loader import Definitions, MetricDef
from tpmkit.spec.models import DEFAULT_SCORECARDS, ROLES, Scorecard

ALL_METRICS_ROLES = {"operations_manager", "director"}
CADENCES = ("daily", "weekly", "monthly")
# Which groupings a role's view tabulates (each a list of columns; the first column of a
# two-column grouping is shown as context, e.g. an agent's team). Every view has the
# organisational levels, so its first screen can list every breach where someone owns it
# (issue 15); agents only in the views that name them.
LEVEL_GROUPINGS: list[list[str]] = [["vendor"], ["site"], ["queue"], ["team"]]
AGENT_GROUPING = ["team", "agent_id"]
ROLE_GROUPINGS: dict[str, list[list[str]]] = {
    "agent": [*LEVEL_GROUPINGS, AGENT_GROUPING],
    "team_lead": [*LEVEL_GROUPINGS, AGENT_GROUPING],
    "quality_specialist": [*LEVEL_GROUPINGS, ["evaluator_id"]],
    "trainer": LEVEL_GROUPINGS,
    "operations_manager": LEVEL_GROUPINGS,
    "director": LEVEL_GROUPINGS,
}
SCORED_ROLES = ("team_lead", "operations_manager", "director")  # reports with agent scores
CONTEXT = ("team_lead", "team", "site")  # roster columns shown beside a scored agent

Key = tuple[str, tuple[str, ...], dt.date | None, dt.date | None, int | None]


@dataclass(frozen=True)
class Need:
    """One evaluation: `metrics` by `period` and `by`, over start..end or the last N periods;
    `explicit` when the metrics were named (then a grouping they cannot have is an error,
    and a built-in without a source shows as no data instead of being left out)."""

    metrics: tuple[str, ...]
    period: str
    by: tuple[str, ...] = ()
    start: dt.date | None = None
    end: dt.date | None = None
    last: int | None = None
    explicit: bool = True

    @property
    def key(self) -> Key:
        """(grain, grouping, window): what makes two evaluations different."""
        return (self.period, self.by, self.start, self.end, self.last)


def merge(needs: Iterable[Need]) -> list[Need]:
    """One need per (grain, grouping, window), with the metrics of every need that has it."""
    merged: dict[Key, Need] = {}
    for need in needs:
        seen = merged.get(need.key)
        if seen is None:
            merged[need.key] = need
        else:
            metrics = tuple(dict.fromkeys((*seen.metrics, *need.metrics)))
            merged[need.key] = Need(
                metrics,
                need.period,
                need.by,
                need.start,
                need.end,
                need.last,
                seen.explicit and need.explicit,
            )
    return list(merged.values())


def resolve_ids(project: Definitions, ids: Iterable[str]) -> list[str]:
    """Metric ids (aliases resolved); an unknown id is a UsageError with a suggestion."""
    resolved = []
    for given in ids:
        metric_id = project.aliases.get(given, given)
        if metric_id not in project.metrics:
            hint = did_you_mean(given, [*project.metrics, *project.aliases])
            raise UsageError(
                f"unknown metric `{given}`" + (f"; {hint}" if hint else ""),
                [Issue("see `tpmkit metrics list` for the ids", severity="hint")],
            )
        resolved.append(metric_id)
    return list(dict.fromkeys(resolved))


def select(
    project: Definitions, ids: Sequence[str] = (), role: str | None = None
) -> list[MetricDef]:
    """The metrics asked for: by id, else every metric (of a role's view when given)."""
    if role is not None and role not in ROLES:
        hint = did_you_mean(role, ROLES)
        raise UsageError(
            f"unknown role `{role}`" + (f"; {hint}" if hint else ""),
            [Issue("roles: " + ", ".join(ROLES), severity="hint")],
        )
    metrics = (
        [project.metrics[i] for i in resolve_ids(project, ids)]
        if ids
        else list(project.metrics.values())
    )
    if role is not None and role not in ALL_METRICS_ROLES:
        metrics = [m for m in metrics if role in m.spec.roles]  # the view, as the files list it
    return metrics


def view(
    project: Definitions, ids: Sequence[str], role: str | None, cadence: str | None
) -> list[MetricDef]:
    """The metrics a report shows: the role's view, narrowed to one review cadence."""
    if cadence is not None and cadence not in CADENCES:
        raise UsageError(f"cadence must be one of {', '.join(CADENCES)}, not `{cadence}`")
    chosen = select(project, ids, role)
    if cadence is not None:
        chosen = [m for m in chosen if m.spec.cadence == cadence]
    if not chosen:
        raise UsageError(
            "no metric in this view",
            [Issue("check role and cadence against the metric files", severity="hint")],
        )
    return chosen


def evaluation_need(
    project: Definitions,
    ids: Sequence[str] = (),
    *,
    period: str = "week",
    by: Sequence[str] = (),
    role: str | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
    last: int | None = None,
) -> Need:
    """The need behind one `evaluate` (or `check`): its metrics are named, or a role's view."""
    chosen = select(project, ids, role)
    if not chosen:
        raise UsageError(
            f"no metric matches role `{role}`" if role else "no metrics defined",
            [
                Issue(
                    "check `roles:` in the metric files, or list them with `tpmkit metrics list`",
                    severity="hint",
                )
            ],
        )
    return Need(tuple(m.id for m in chosen), period, tuple(by), start, end, last, bool(ids))


def table_groupings(role: str | None, by: Sequence[str]) -> list[list[str]]:
    """The groupings a report tabulates: `by`, else the role view's."""
    return [list(by)] if by else ROLE_GROUPINGS.get(role or "", [])


def levels_present(
    groupings: list[list[str]], present: Collection[str]
) -> tuple[list[list[str]], list[str]]:
    """A role view's groupings narrowed to the columns the data have (`present`): a
    missing column is dropped from each grouping and a grouping left empty is skipped;
    with the missing columns, for the one note that says so."""
    kept: list[list[str]] = []
    missing: list[str] = []
    for columns in groupings:
        narrowed = [c for c in columns if c in present]
        missing += [c for c in columns if c not in present and c not in missing]
        if narrowed and narrowed not in kept:
            kept.append(narrowed)
    return kept, missing


def missing_levels_note(missing: Sequence[str]) -> str:
    """The one note a report or scorecard gives for the levels its data do not have."""
    return (
        f"no {', '.join(missing)} column in the data: those levels are left out "
        "(a roster, `sources: agents:`, gives each agent's team, team lead and site)"
    )


def table_needs(main: Need, groupings: list[list[str]]) -> list[Need]:
    """Each table's evaluation, and its parent grouping's (the context column)."""
    needs = []
    for columns in groupings:
        needs.append(Need(main.metrics, main.period, tuple(columns), explicit=main.explicit))
        if len(columns) > 1:
            needs.append(
                Need(main.metrics, main.period, tuple(columns[:1]), explicit=main.explicit)
            )
    return needs


def scorecard_grouping(
    by: Sequence[str], present: Collection[str] | None = None
) -> tuple[list[str], list[str]]:
    """(context columns, every grouping column) of a scorecard scoring `by`; only the
    context columns the data have (`present`; None: all of them)."""
    context = [c for c in CONTEXT if c not in by] if list(by) == ["agent_id"] else []
    context = [c for c in context if present is None or c in present]
    return context, [*context, *by]


def scorecard_needs(
    ids: Sequence[str], period: str, by: Sequence[str], present: Collection[str] | None = None
) -> list[Need]:
    """The scorecard's own evaluation, then its team and site averages."""
    _, grouping = scorecard_grouping(by, present)
    metrics = tuple(ids)
    return [
        Need(metrics, period, tuple(grouping)),
        *[Need(metrics, period, (c,)) for c in ("team", "site") if c in grouping],
    ]


def scorecard_for(project: Definitions, role: str) -> Scorecard:
    """The role's scorecard: the project's, else the built-in default."""
    if role in project.spec.scorecards:
        return project.spec.scorecards[role]
    if role in DEFAULT_SCORECARDS:
        return Scorecard.model_validate(DEFAULT_SCORECARDS[role])
    raise UsageError(
        f"no scorecard for role `{role}`",
        [Issue("define one under `scorecards:` in tpmkit.yaml", severity="hint")],
    )


def has_agent_scorecard(project: Definitions) -> bool:
    """True when the project's (or the default) agent scorecard names only its metrics."""
    try:
        card = scorecard_for(project, "agent")
    except UsageError:
        return False
    return all(m in project.metrics for m in card.weights())


@dataclass
class ReportPlan:
    """What a report shows and the evaluations it needs before any data is read; the
    scorecard's baseline and the goals' windows follow from the data (`judge.scorecard.
    baseline_need`, `judge.goals.windows`)."""

    chosen: list[MetricDef]  # the view's metrics, narrowed to the cadence
    main: Need  # the view's evaluation (cards)
    groupings: list[list[str]]  # the tables
    tables: list[Need]  # each table's evaluation and its parent grouping's
    scored: bool  # the report carries the agent scorecard
    scorecard: list[Need]  # its evaluation and its team and site averages
    missing: list[str] = field(default_factory=list)  # level columns the data do not have

    @property
    def needs(self) -> list[Need]:
        """Every evaluation known before the data, each (grain, grouping, window) once."""
        return merge([self.main, *self.tables, *self.scorecard])


def report_needs(
    project: Definitions,
    metrics: Sequence[str] = (),
    *,
    period: str = "week",
    role: str | None = None,
    by: Sequence[str] = (),
    cadence: str | None = None,
    agent: str | None = None,
    present: Collection[str] | None = None,
) -> ReportPlan:
    """Plan a report from the definitions (see `ReportPlan`); the role view's groupings
    keep only the columns `present` in the data (None: all), a given `by` all of them."""
    chosen = view(project, metrics, role, cadence)
    if agent is not None and role != "agent":
        raise UsageError("agent narrows the agent view: use it with role agent")
    if role == "agent" and agent is None:
        # the agent view is personal: without its reader it would name every agent, with
        # their numbers and goals, in a report meant for one
        raise UsageError(
            "role agent: say whose report it is with agent (the agent's id)",
            [
                Issue(
                    "e.g. --role agent --agent A047; a team lead's view names every agent",
                    severity="hint",
                )
            ],
        )
    main = evaluation_need(project, metrics, period=period, role=role)
    groupings = table_groupings(role, by)
    missing: list[str] = []
    if present is not None and not by:
        groupings, missing = levels_present(groupings, present)
    scored = bool(role in SCORED_ROLES or agent) and has_agent_scorecard(project)
    card = list(scorecard_for(project, "agent").weights()) if scored else []
    sheet = (
        scorecard_needs(card, period, ["agent_id"], present) if scored and period != "hour" else []
    )
    tables = table_needs(main, groupings)
    return ReportPlan(chosen, main, groupings, tables, scored, sheet, missing)
