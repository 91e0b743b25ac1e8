"""`tpmkit explain` and the top driver on `check` lines: plan the evaluations an
explanation needs (the metric over every period, then the two compared periods grouped by
each dimension), evaluate each once, and hand their records to `tpmkit.explain`, which
never reads data.

Each dimension is one evaluation over the window of the two periods; the decomposition
itself works on that evaluation's records (their components), never on rows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import polars as pl

from tpmkit.errors import UsageError
from tpmkit.explain.decompose import decompose
from tpmkit.explain.drivers import DEFAULT_DIMENSIONS, DRILL, driver, driver_of, rank
from tpmkit.explain.model import Decomposition, Explanation
from tpmkit.explain.periods import earlier
from tpmkit.needs import Need, resolve_ids
from tpmkit.records import UNGROUPABLE, Evaluation
from tpmkit.vocabulary import Level

if TYPE_CHECKING:
    from tpmkit.commands import Evaluator
    from tpmkit.judge.gate import CheckResult, Verdict
    from tpmkit.project import Project
    from tpmkit.spec.models import MetricSpec

VS = ("previous", "baseline")


def explain(
    project: Project,
    metric: str,
    *,
    period: str = "week",
    at: str = "latest",
    vs: str = "previous",
    by: Sequence[str] = (),
    drill: bool = False,
    now: dt.datetime | None = None,
    evaluator: Evaluator | None = None,
    searched: Sequence[str] | None = None,
) -> Explanation:
    """Decompose `metric`'s change from the `vs` period to the `at` period over each
    dimension of `by` (default: every dimension the data offer), ranked; with `drill`,
    follow the best dimension's top segment down (site → team → agent). `searched`: the
    dimensions tried without `by` (default: the built-in ones and the project's)."""
    from tpmkit.commands import Evaluator

    if period == "all":
        raise UsageError(
            "explain compares two periods: choose a grain such as week or month, not all"
        )
    metric_id = resolve_ids(project, [metric])[0]
    spec = project.metrics[metric_id].spec
    evaluate = evaluator or Evaluator(project)
    overall = evaluate.one(Need((metric_id,), period))
    after = _judged(overall, spec, at, now)
    before = earlier(overall.records, spec, after, vs)
    totals = _values(overall.records, metric_id, before, after)
    window = _window(overall.records, metric_id, before, after)
    asked = list(dict.fromkeys(by))
    dimensions = asked or list(searched if searched is not None else _candidates(project))
    specs = {m.id: m.spec for m in project.metrics.values()}
    found: list[Decomposition] = []
    skipped: dict[str, str] = {}
    if not asked and Level.AGENT not in spec.judged_at and "agent_id" in dimensions:
        # a queue measure (service level, abandon rate) has no agent share: its abandoned
        # calls reach no agent, so a split by agent names noise; `--by agent_id` still can
        dimensions.remove("agent_id")
        skipped["agent_id"] = f"{metric_id} is not judged at the agent level"
    for dimension in dimensions:
        need = Need((metric_id,), period, (dimension,), *window, explicit=bool(asked))
        try:
            grouped = evaluate.one(need)
        except UsageError as exc:
            if asked:
                raise
            skipped[dimension] = exc.message.removeprefix(f"by {dimension}: ")
            continue
        why = _ungroupable(grouped.records, metric_id)
        if why is not None:
            if asked:
                raise UsageError(f"by {dimension}: {why}")
            skipped[dimension] = why
            continue
        d = decompose(
            grouped.records,
            spec,
            [dimension],
            before,
            after,
            specs=specs,
            totals=totals,
            name=spec.name,
        )
        if len(d.segments) < 2 and not asked:
            skipped[dimension] = "one segment only"
            continue
        found.append(d)
    ranked = rank(found)
    path = _drill(evaluate, spec, specs, ranked, period, window, before, after) if drill else []
    notes = list(dict.fromkeys(n for d in ranked for n in d.notes))
    return Explanation(
        metric=metric_id,
        name=spec.name,
        unit=spec.unit,
        grain=period,
        before_period=before,
        after_period=after,
        before=totals[0],
        after=totals[1],
        decompositions=ranked,
        drill=path,
        skipped=skipped,
        notes=notes,
    )


def _candidates(project: Project) -> list[str]:
    """The built-in dimensions and the project's own (`explain: {dimensions: [...]}`)."""
    own = project.spec.explain.dimensions
    return list(dict.fromkeys([*DEFAULT_DIMENSIONS, *own]))


def _judged(evaluation: Evaluation, spec: MetricSpec, at: str, now: dt.datetime | None) -> str:
    """The label of the later period: `at`, or the latest complete one (as `check`)."""
    from tpmkit.judge.gate import judged_periods

    zone = ZoneInfo(evaluation.timezone)
    moment = now or dt.datetime.now(zone)
    records = evaluation.records.filter(pl.col("metric") == spec.id)
    labels = judged_periods(records, at, evaluation, moment, zone, [spec], calendar=now is not None)
    return labels[spec.id]


def _values(
    records: pl.DataFrame, metric: str, before: str, after: str
) -> tuple[float | None, float | None]:
    """The metric's overall value in each of the two periods."""
    rows = dict(
        records.filter((pl.col("metric") == metric) & pl.col("period").is_in([before, after]))
        .select("period", "value")
        .iter_rows()
    )
    return rows.get(before), rows.get(after)


def _window(records: pl.DataFrame, metric: str, before: str, after: str) -> tuple[dt.date, dt.date]:
    """The local days from the first period's start to the last one's end (inclusive):
    every grouped evaluation reads only those."""
    rows = records.filter((pl.col("metric") == metric) & pl.col("period").is_in([before, after]))
    start = rows.get_column("period_start").min()
    end = rows.get_column("period_end").max()
    assert isinstance(start, dt.datetime) and isinstance(end, dt.datetime)
    return start.date(), (end - dt.timedelta(microseconds=1)).date()


def _ungroupable(records: pl.DataFrame, metric: str) -> str | None:
    """Why the metric has no records by this dimension (its dataset lacks the column)."""
    rows = records.filter(pl.col("metric") == metric)
    if rows.filter(pl.col("period") != "all").height:
        return None
    reasons = [r for r in rows.get_column("reason").to_list() if r]
    return next((r for r in reasons if UNGROUPABLE in r), reasons[0] if reasons else "no data")


def _drill(
    evaluate: Evaluator,
    spec: MetricSpec,
    specs: Mapping[str, MetricSpec],
    ranked: list[Decomposition],
    period: str,
    window: tuple[dt.date, dt.date],
    before: str,
    after: str,
) -> list[Decomposition]:
    """From the best dimension's top segment one level finer at a time: the segment's own
    change split over its children, down to the agents."""
    path: list[Decomposition] = []
    if not ranked or ranked[0].top is None:
        return path
    current = ranked[0]
    within: dict[str, Any] = {}
    while True:
        top = current.top
        dimension = current.dimensions[-1]
        child = DRILL.get(dimension)
        if top is None or child is None or child in within or child == dimension:
            return path
        within = {**within, dimension: top.key[dimension]}
        need = Need((spec.id,), period, (*within, child), *window, explicit=False)
        try:
            grouped = evaluate.one(need)
        except UsageError:
            return path
        if _ungroupable(grouped.records, spec.id) is not None:
            return path
        current = decompose(
            grouped.records, spec, [child], before, after, specs=specs, within=within
        )
        if not current.segments:
            return path
        path.append(current)


def attach_drivers(
    project: Project,
    result: CheckResult,
    evaluator: Evaluator,
    *,
    now: dt.datetime | None = None,
) -> None:
    """Give each failing or breaching verdict of a check its top driver against the
    previous period: at the operation level the best dimension's top segment ("aht +48.0s:
    Berlin Tech +31.0s (rate)"), for a group (`--by team`) its own change split one level
    finer (its agents). A change that cannot be explained (no earlier period, no
    dimension, only small segments) leaves no driver."""
    from tpmkit.vocabulary import BREACHES

    judged = [
        v for v in result.verdicts if (v.failed or v.status in BREACHES) and v.value is not None
    ]
    breached = [v for v in judged if not v.group]
    _group_drivers(project, evaluator, [v for v in judged if v.group], result.grain)
    found = explanations(
        project, evaluator, [(v.metric, v.period) for v in breached], result.grain, now=now
    )
    for verdict in breached:
        top = driver(found[verdict.metric]) if verdict.metric in found else None
        if top is not None:
            verdict.driver = top.text


def explanations(
    project: Project,
    evaluator: Evaluator,
    wanted: Sequence[tuple[str, str]],
    grain: str,
    *,
    now: dt.datetime | None = None,
) -> dict[str, Explanation]:
    """Each (metric, period)'s change against the previous period, explained over every
    dimension the data offer; the metrics share one evaluation per dimension. A change
    that cannot be explained (no earlier period, no dimension) is left out."""
    offered = _plan_together(project, evaluator, wanted, grain)
    out = {}
    for metric, period in wanted:
        try:
            out[metric] = explain(
                project,
                metric,
                period=grain,
                at=period,
                evaluator=evaluator,
                now=now,
                searched=offered,
            )
        except UsageError:
            continue
    return out


def _plan_together(
    project: Project, evaluate: Evaluator, wanted: Sequence[tuple[str, str]], grain: str
) -> list[str]:
    """Evaluate every (metric, period)'s needs together, so that the metrics share one
    evaluation per dimension (and one over every period) instead of one each; the
    dimensions the data offer (a dimension no dataset has is tried once, not per metric)."""
    ids = list(dict.fromkeys(metric for metric, _ in wanted))
    if not ids:
        return []
    evaluate.plan([Need((m,), grain) for m in ids])
    needs = []
    candidates = _candidates(project)
    for metric, period in wanted:
        spec = project.metrics[metric].spec
        try:
            overall = evaluate.one(Need((spec.id,), grain))
            before = earlier(overall.records, spec, period, "previous")
        except UsageError:
            continue
        window = _window(overall.records, spec.id, before, period)
        needs += [Need((spec.id,), grain, (d,), *window, explicit=False) for d in candidates]
    evaluate.plan(needs)
    offered = set()
    for need in {n.key: n for n in needs}.values():
        try:
            evaluate.one(need)
        except UsageError:
            continue
        offered.add(need.by[0])
    return [d for d in candidates if d in offered]


def _group_drivers(
    project: Project, evaluate: Evaluator, verdicts: list[Verdict], grain: str
) -> None:
    """Each breaching group's own change split over the next level down (`DRILL`), the
    metrics sharing one evaluation per grouping."""
    specs = {m.id: m.spec for m in project.metrics.values()}
    planned: list[tuple[Verdict, Need, str, str]] = []
    for verdict in verdicts:
        columns = tuple(verdict.group)
        child = DRILL.get(columns[-1])
        if child is None or child in columns or any(v is None for v in verdict.group.values()):
            continue
        spec = specs[verdict.metric]
        try:
            overall = evaluate.one(Need((spec.id,), grain))
            before = earlier(overall.records, spec, verdict.period, "previous")
        except UsageError:
            continue
        window = _window(overall.records, spec.id, before, verdict.period)
        need = Need((spec.id,), grain, (*columns, child), *window, explicit=False)
        planned.append((verdict, need, before, child))
    evaluate.plan([need for _, need, _, _ in planned])
    for verdict, need, before, child in planned:
        try:
            grouped = evaluate.one(need)
            d = decompose(
                grouped.records,
                specs[verdict.metric],
                [child],
                before,
                verdict.period,
                specs=specs,
                within=verdict.group,
            )
        except UsageError:
            continue
        top = driver_of([d], verdict.group)
        if top is not None:
            verdict.driver = top.text
