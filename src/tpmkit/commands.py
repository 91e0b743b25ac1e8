"""One library call per command: plan the evaluations a check, scorecard, goal review or
report needs (`needs.py`), evaluate each distinct (grain, grouping, window) once, judge
the records. The judges and report builder never see anything that can run the engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmkit.engines.session import EngineSession
from tpmkit.errors import NoSuchColumn, TpmkitError, UsageError
from tpmkit.needs import (
    Key,
    Need,
    evaluation_need,
    merge,
    missing_levels_note,
    report_needs,
    scorecard_grouping,
    scorecard_needs,
)
from tpmkit.records import Evaluation

if TYPE_CHECKING:
    from tpmkit.judge.gate import CheckResult
    from tpmkit.judge.goals import GoalStatus
    from tpmkit.judge.scorecard import ScorecardResult
    from tpmkit.project import Project
    from tpmkit.report.model import Report


class Evaluator:
    """Evaluates needs for one command: each (grain, grouping, window) once, and each
    dataset read once per set of columns."""

    def __init__(
        self,
        project: Project,
        *,
        data: Mapping[str, Any] | None = None,
        on_bad_rows: str = "fail",
        rejects_dir: Path | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        from tpmkit.project import cache_for

        self.project = project
        self.engine = EngineSession(project)  # the Ibis backend, opened on first use
        self.data = self.engine.with_tables(data)
        self.on_bad_rows = on_bad_rows
        self.rejects_dir = rejects_dir
        self.cache = cache_for(project, cache)
        self.progress = progress
        self.done: dict[Key, Evaluation] = {}
        self.metrics: dict[Key, set[str]] = {}
        self.planned: dict[Key, Need] = {}
        self.loads: dict[tuple[Any, ...], Any] = {}
        self.columns: set[str] | None = None  # what the data can be grouped by, once asked

    def plan(self, needs: Iterable[Need]) -> None:
        """Announce needs to be evaluated later, so that needs sharing a (grain, grouping,
        window) with them are merged into one evaluation."""
        self.planned.update({n.key: n for n in merge([*self.planned.values(), *needs])})

    def __call__(self, needs: Iterable[Need]) -> dict[Key, Evaluation]:
        """The evaluation of each need, by key (needs already evaluated are reused)."""
        from tpmkit.evaluation import run

        needs = list(needs)
        self.plan(needs)
        out = {}
        for key in dict.fromkeys(n.key for n in needs):
            need = self.planned[key]
            known = self.metrics.get(key)
            if known is None or not set(need.metrics) <= known:
                project = self.project
                if need.by and self.progress:
                    self.progress(f"grouping by {', '.join(need.by)}")
                backend = self.engine.backend()
                with backend.in_utc() if backend is not None else nullcontext():
                    self.done[key] = run(
                        project,
                        [project.metrics[m] for m in need.metrics],
                        explicit=need.explicit,
                        period=need.period,
                        by=list(need.by),
                        start=need.start,
                        end=need.end,
                        last=need.last,
                        on_bad_rows=self.on_bad_rows,
                        rejects_dir=self.rejects_dir,
                        cache=self.cache,
                        progress=self.progress,
                        data=self.data,
                        loads=self.loads,
                        backend=backend,
                    )
                self.metrics[key] = set(need.metrics)
            out[key] = self.done[key]
        return out

    def one(self, need: Need) -> Evaluation:
        """The evaluation of one need."""
        return self([need])[need.key]

    def grouping_columns(self) -> set[str]:
        """The columns the data can be grouped by, from the exports' headers (or the given
        frames) alone: each dataset's mapped and derived columns, and what the roster (by
        agent_id) and the queues (by queue) attribute."""
        from tpmkit.contract import ATTRIBUTION
        from tpmkit.data.frames import frame_label
        from tpmkit.data.read import scan
        from tpmkit.spec.models import Source

        if self.columns is None:
            spec = self.project.spec
            data = self.data or {}
            headers: dict[str, set[str]] = {}
            lookups = dict(ATTRIBUTION)
            for name in {*spec.sources, *data}:
                source = spec.sources.get(name) or Source(path=frame_label(name))
                # a table source: its columns only, not its rows (engines/tables.py)
                header = getattr(data, "header", data.get)
                try:
                    frame = header(name) if name in data else None
                    scanned = scan(name, source, self.project.root, frame)
                except TpmkitError:
                    if name in lookups:  # a roster that cannot be read is not "no roster"
                        raise
                    continue  # said when (and if) the evaluation reads this dataset
                headers[name] = (
                    set.intersection(*({*s.canonical, *s.derive} for s in scanned))
                    if scanned
                    else set()
                )
            found = set()
            for name, columns in headers.items():
                found |= columns
                for lookup, key in lookups.items():
                    if name != lookup and key in columns and lookup in headers:
                        found |= headers[lookup]
            self.columns = found
        return self.columns


def check(
    project: Project,
    metrics: Sequence[str] = (),
    *,
    period: str = "week",
    at: str = "latest",
    by: Sequence[str] = (),
    role: str | None = None,
    fail_on: str | None = None,
    gates: dict[str, str] | None = None,
    allow_no_data: bool = False,
    early_warning: bool = False,
    now: dt.datetime | None = None,
    evaluator: Evaluator | None = None,
) -> CheckResult:
    """Evaluate the metrics once and judge one period (see `judge.gate`)."""
    from tpmkit.judge import gate

    if fail_on is not None and fail_on not in gate.LEVELS:
        raise UsageError(f"fail_on must be warning or critical, not `{fail_on}`")
    # the operation level always, plus the level of the `--by` grouping
    groupings = [(), tuple(by)] if by else [()]
    needs = [evaluation_need(project, metrics, period=period, by=g, role=role) for g in groupings]
    found = (evaluator or Evaluator(project))(needs)
    results = [
        gate.check(
            found[need.key],
            fail_on=fail_on,
            at=at,
            allow_no_data=allow_no_data,
            early_warning=early_warning,
            gates=gates,
            now=now,
        )
        for need in needs
    ]
    result = gate.combine(results)
    _judge_sources(project, result, now)
    return result


def _judge_sources(project: Project, result: CheckResult, now: dt.datetime | None) -> None:
    """Each source the check read, judged for freshness and completeness on the days of
    the judged period (`judge/sources.py`); a source that fails fails the check."""
    from tpmkit.judge import sources

    if result.evaluation is None:
        return
    result.sources = _source_statuses(project, result.evaluation, result.period, now)
    note = sources.skipped_note(result.sources)
    if note:
        result.notes.append(note)


def _source_statuses(
    project: Project, evaluation: Evaluation, label: str, now: dt.datetime | None
) -> list[Any]:
    """The freshness and completeness of each dataset `evaluation` read, on the days of
    the period `label`, at `now` (default: the wall clock)."""
    from zoneinfo import ZoneInfo

    from tpmkit.data.holidays import holiday_days
    from tpmkit.judge import sources

    moment = now or dt.datetime.now(ZoneInfo(evaluation.timezone))
    found = holiday_days(project.definitions) if evaluation.datasets else None
    spec = project.spec.sources
    if found is None:
        return sources.judge_sources(evaluation, spec, label, moment)
    return sources.judge_sources(evaluation, spec, label, moment, found.days, found.scoped)


def goals(
    project: Project, as_of: dt.date | None = None, evaluator: Evaluator | None = None
) -> list[GoalStatus]:
    """Every goal of the project, as of `as_of` (default: the last day with data)."""
    from tpmkit.judge import goals as tracking

    evaluate = evaluator or Evaluator(project)
    definitions = project.definitions
    first = tracking.latest_need(definitions, as_of)
    latest = evaluate.one(first) if first else None
    windows = tracking.windows(definitions, as_of, latest)
    found = evaluate([n for w in windows if (n := w.need()) is not None])
    return tracking.track(definitions, windows, found)


def scorecard(
    project: Project,
    *,
    role: str = "agent",
    period: str = "month",
    at: str = "latest",
    by: Sequence[str] = ("agent_id",),
    baseline_periods: int = 3,
    now: dt.datetime | None = None,
    evaluator: Evaluator | None = None,
) -> ScorecardResult:
    """Score every group of the judged period (see `judge.scorecard`)."""
    from tpmkit.judge import scorecard as scoring

    evaluate = evaluator or Evaluator(project)
    definitions = project.definitions
    card, ids = scoring.card_ids(definitions, role, period)
    present = evaluate.grouping_columns()
    main, *averages = scorecard_needs(ids, period, by, present)
    found = evaluate([main, *averages])
    evaluation = found[main.key]
    context, grouping = scorecard_grouping(by, present)
    missing = [c for c in scorecard_grouping(by)[0] if c not in context]
    baseline = scoring.baseline_need(evaluation, ids, grouping, baseline_periods)
    tracked: list[Any] = []
    if project.spec.goals:
        label = scoring.judged_label(evaluation, ids, at, now)
        tracked = goals(project, scoring.judged_day(evaluation, label), evaluate)
    result = scoring.build(
        card,
        evaluation,
        role=role,
        at=at,
        by=by,
        baseline=evaluate.one(baseline) if baseline else None,
        averages={n.by[0]: found[n.key] for n in averages},
        goals=tracked,
        now=now,
    )
    if missing:
        result.notes.append(missing_levels_note(missing))
    return result


def _level_tables(
    evaluate: Evaluator,
    tables: Sequence[Need],
    groupings: Sequence[list[str]],
    notes: list[str],
    *,
    asked: bool,
) -> tuple[dict[Key, Evaluation], list[list[str]]]:
    """Each table's evaluation, leaving out the groupings whose column the data of the view's
    metrics do not have (quality evaluations carry no queue, though the calls do), said once
    in `notes`; `report_needs` has already left out the levels no data of the project has."""
    found: dict[Key, Evaluation] = {}
    absent: dict[str, None] = {}
    for need in tables:
        try:
            found[need.key] = evaluate.one(need)
        except NoSuchColumn as exc:
            if asked:  # a grouping the reader typed (`--by`) is theirs to correct
                raise
            absent[exc.column] = None
    if absent:
        names = ", ".join(absent)
        notes.append(f"no {names} column in the data of this view's metrics: left out")
    kept = [g for g in groupings if not absent.keys() & set(g)]
    return found, kept


def report(
    project: Project,
    metrics: Sequence[str] = (),
    *,
    period: str = "week",
    last: int = 8,
    at: str = "latest",
    role: str | None = None,
    by: Sequence[str] = (),
    cadence: str | None = None,
    agent: str | None = None,
    now: dt.datetime | None = None,
    evaluator: Evaluator | None = None,
    why: bool = True,
) -> Report:
    """Evaluate the view's metrics (each grouping once) and assemble the report of one
    period; `agent` narrows the agent view to one person; with `why`, each breached
    metric's change is explained (`tpmkit.explain`) for its breach and "What moved"."""
    from tpmkit import people
    from tpmkit.report import build

    if last < 1:
        raise UsageError("last must be 1 or more")
    evaluate = evaluator or Evaluator(project)
    plan = report_needs(
        project,
        metrics,
        period=period,
        role=role,
        by=by,
        cadence=cadence,
        agent=agent,
        present=evaluate.grouping_columns(),
    )
    evaluate.plan(plan.needs)  # a scorecard grouping shared with a table is evaluated once
    evaluation = evaluate.one(plan.main)
    # a metric the data cannot compute is named in the evaluation's note, not shown
    chosen = [m for m in plan.chosen if m.id in evaluation.definitions] or plan.chosen
    label, day = build.report_period_end(evaluation, chosen, at, now)
    card: ScorecardResult | None = None
    notes = [missing_levels_note(plan.missing)] if plan.missing else []
    if plan.scored:
        try:
            card = scorecard(project, period=period, at=label, evaluator=evaluate, now=now)
        except UsageError as exc:  # e.g. the agent scorecard's metrics have no data here
            notes.append(f"no agent scorecard: {exc.message}")
    tracked: list[Any] = []
    if project.spec.goals and role in ("agent", "team_lead"):
        tracked = goals(project, day, evaluate)
    found, groupings = _level_tables(evaluate, plan.tables, plan.groupings, notes, asked=bool(by))
    built = build.build(
        project.definitions,
        evaluation,
        chosen,
        last=last,
        at=at,
        role=role,
        cadence=cadence,
        agent=agent,
        now=now,
        tables={n.by: found[n.key] for n in plan.tables if n.key in found},
        groupings=groupings,
        scorecard=card,
        goals=tracked,
        notes=notes,
    )
    if why and period != "all":
        from tpmkit.explaining import explanations

        periods = {c.metric: c.period for c in built.cards}
        wanted = [(r.metric, periods[r.metric]) for r in built.breach_rows()]
        built.moved = explanations(project, evaluate, wanted, period, now=now)
    built.sources = _source_statuses(project, evaluation, built.period, now)
    built.people = people.sections(  # issue 20: workforce, coaching, the agent's sessions
        project,
        evaluate,
        role=role,
        agent=agent,
        grain=period,
        period=built.period,
        records=evaluation.records,
    )
    built.notes.extend(built.people.notes if built.people else [])
    return built
