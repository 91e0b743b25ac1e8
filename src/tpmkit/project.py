"""The library API: load a project, validate it, evaluate its metrics, and run each
command's plan-evaluate-judge (`commands.py`) on it.

The CLI is a thin layer over these functions; tests and users import them directly."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tpmkit.contract import ATTRIBUTION
from tpmkit.errors import DefinitionError, Issue, UsageError, by_location, did_you_mean
from tpmkit.needs import Key, Need, evaluation_need, resolve_ids, select
from tpmkit.spec.loader import Definitions, load_project

if TYPE_CHECKING:
    from tpmkit.annotations import Annotation
    from tpmkit.coaching.model import CoachingResult
    from tpmkit.commands import Evaluator
    from tpmkit.data.cache import CsvCache
    from tpmkit.explain.model import Explanation
    from tpmkit.judge.gate import CheckResult
    from tpmkit.judge.goals import GoalStatus
    from tpmkit.judge.scorecard import ScorecardResult
    from tpmkit.notify import Notification, Target
    from tpmkit.records import Evaluation
    from tpmkit.report.model import Report

__all__ = ["Project", "cache_for", "load", "resolve_ids", "select", "validate"]


@dataclasses.dataclass
class Project(Definitions):
    """A loaded, validated project: its definitions, and the calls that evaluate them."""

    @property
    def definitions(self) -> Definitions:
        """The definitions alone (what judges and report builders read: metric specs,
        scorecards, goals), without the calls that run the engine."""
        fields = {f.name: getattr(self, f.name) for f in dataclasses.fields(Definitions)}
        return Definitions(**fields)

    def with_engine(self, engine: str) -> Project:
        """The same project computed by `engine` (polars, duckdb or spark) instead of its
        `engine:` (`--engine`)."""
        from tpmkit.engines import ENGINES

        if engine not in ENGINES:
            raise UsageError(f"unknown engine `{engine}`: use {', '.join(ENGINES)}")
        return dataclasses.replace(self, spec=self.spec.model_copy(update={"engine": engine}))

    def evaluate(
        self,
        metrics: Sequence[str] | str | None = None,
        period: str = "week",
        by: Sequence[str] | str = (),
        last: int | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        role: str | None = None,
        data: Mapping[str, Any] | None = None,
        on_bad_rows: str = "fail",
        rejects_dir: Path | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> Evaluation:
        """Evaluate metrics (ids or aliases; default all, or `role`'s view): one record per
        metric × period × group, in the output contract.

        `data` maps a dataset name to a polars or pyarrow frame shaped like its export,
        used instead of (or without) the source's files. `cache`: True uses the project's
        CSV cache (its `cache:` folder, unless it sets `cache: false`), False reads every
        export afresh, a path uses that cache folder. `progress` is called with each step
        ("reading calls", "computing 36 metrics")."""
        need = self.need(metrics, period=period, by=by, last=last, start=start, end=end, role=role)
        found = self.evaluate_many(
            [need],
            data=data,
            on_bad_rows=on_bad_rows,
            rejects_dir=rejects_dir,
            cache=cache,
            progress=progress,
        )
        return found[need.key]

    def need(
        self,
        metrics: Sequence[str] | str | None = None,
        *,
        period: str = "week",
        by: Sequence[str] | str = (),
        last: int | None = None,
        start: dt.date | str | None = None,
        end: dt.date | str | None = None,
        role: str | None = None,
    ) -> Need:
        """The `Need` (one evaluation's metrics, grain, grouping and window) of these
        arguments, checked; for `evaluate_many`."""
        ids = _names("metrics", metrics)
        start, end = _day("start", start), _day("end", end)
        if last is not None and (isinstance(last, bool) or not isinstance(last, int)):
            raise UsageError(f"last must be a whole number of periods, not {last!r}")
        check_window(period, start, end, last)
        by = _names("by", by)
        return evaluation_need(
            self, ids, period=period, by=by, role=role, start=start, end=end, last=last
        )

    def evaluate_many(
        self,
        needs: Iterable[Need],
        *,
        data: Mapping[str, Any] | None = None,
        on_bad_rows: str = "fail",
        rejects_dir: Path | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> dict[Key, Evaluation]:
        """Evaluate several needs, each distinct (grain, grouping, window) once and each
        dataset read once per set of columns; the evaluations by `Need.key`."""
        from tpmkit.commands import Evaluator

        evaluate = Evaluator(
            self,
            data=self._data(data),
            on_bad_rows=on_bad_rows,
            rejects_dir=rejects_dir,
            cache=cache,
            progress=progress,
        )
        return evaluate(needs)

    def _evaluator(
        self,
        period: str | None,
        data: Mapping[str, Any] | None,
        cache: Path | bool,
        progress: Callable[[str], None] | None,
    ) -> Evaluator:
        """The evaluator a command's needs share (each need evaluated once), after checking
        the grain it is asked for."""
        from tpmkit.commands import Evaluator

        if period is not None:
            check_window(period, None, None, None)
        return Evaluator(self, data=self._data(data), cache=cache, progress=progress)

    def _data(self, data: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """`data`, checked: a mapping from the name of a dataset some metric reads (or the
        project configures) to a frame — a misspelt name must not quietly fall back to the
        files on disk."""
        if data is None:
            return None
        if not isinstance(data, Mapping):
            raise UsageError(
                f"data must map dataset names to frames, e.g. {{'calls': frame}}, "
                f"not a {type(data).__name__}"
            )
        known = set(self.spec.sources) | {lookup for lookup, _ in ATTRIBUTION}  # roster, queues
        known.add("coaching")  # the coaching log (`coaching`), read by no metric
        known |= {str(m.spec.dataset) for m in self.metrics.values() if m.spec.dataset}
        for name in data:
            if name not in known:
                hint = did_you_mean(str(name), sorted(known))
                raise UsageError(
                    f"data: no metric reads a dataset `{name}` and the project has no such "
                    "source" + (f"; {hint}" if hint else ""),
                    [Issue("datasets: " + ", ".join(sorted(known)), severity="hint")],
                )
        return data

    def check(
        self,
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
        data: Mapping[str, Any] | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
        why: bool = True,
    ) -> CheckResult:
        """The CI gate: evaluate once, judge the latest complete period (or `at`); with
        `why`, each breaching operation-level verdict carries its top driver."""
        from tpmkit import commands, explaining

        evaluate = self._evaluator(period, data, cache, progress)
        result = commands.check(
            self,
            metrics,
            period=period,
            at=at,
            by=by,
            role=role,
            fail_on=fail_on,
            gates=gates,
            allow_no_data=allow_no_data,
            early_warning=early_warning,
            now=now,
            evaluator=evaluate,
        )
        if why:
            explaining.attach_drivers(self, result, evaluate, now=now)
        return result

    def explain(
        self,
        metric: str,
        *,
        period: str = "week",
        at: str = "latest",
        vs: str = "previous",
        by: Sequence[str] | str = (),
        drill: bool = False,
        now: dt.datetime | None = None,
        data: Mapping[str, Any] | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> Explanation:
        """Why `metric` moved from the `vs` period (previous, baseline or a label) to `at`
        (default: the latest complete one): its change split into segment contributions
        over each dimension of `by` (default: every one the data offer), ranked."""
        from tpmkit import explaining

        evaluate = self._evaluator(period, data, cache, progress)
        return explaining.explain(
            self,
            metric,
            period=period,
            at=at,
            vs=vs,
            by=_names("by", by),
            drill=drill,
            now=now,
            evaluator=evaluate,
        )

    def annotations(self) -> list[Annotation]:
        """The project's annotations (its `annotations` source, or annotations.csv beside
        tpmkit.yaml), validated; see docs/annotations.md."""
        from tpmkit.annotations import read

        return read(self, {*self.metrics, *self.aliases})

    def annotate(
        self,
        text: str,
        *,
        start: str | dt.date | dt.datetime,
        end: str | dt.date | dt.datetime | None = None,
        metric: str | None = None,
        group: Mapping[str, str] | None = None,
        kind: str | None = None,
        exclude: bool = False,
    ) -> Annotation:
        """Append a note (written atomically; the file is created with its header): a
        date-only `start` without `end` is that whole local day, a date-only `end`
        includes its day; `exclude` keeps the periods it touches out of trend fits,
        early warnings and control limits."""
        from tpmkit.annotations import annotate

        return annotate(
            self,
            text,
            start=start,
            end=end,
            metric=metric,
            group=group,
            kind=kind,
            exclude=exclude,
            groups=group_columns(self),
        )

    def scorecard(
        self,
        *,
        role: str = "agent",
        period: str = "month",
        at: str = "latest",
        by: Sequence[str] = ("agent_id",),
        baseline_periods: int = 3,
        now: dt.datetime | None = None,
        data: Mapping[str, Any] | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> ScorecardResult:
        """A role's balanced scorecard of the judged period (see `judge.scorecard`)."""
        from tpmkit import commands

        evaluate = self._evaluator(period, data, cache, progress)
        return commands.scorecard(
            self,
            role=role,
            period=period,
            at=at,
            by=by,
            baseline_periods=baseline_periods,
            now=now,
            evaluator=evaluate,
        )

    def coaching(
        self,
        *,
        metric: str | None = None,
        coach: str | None = None,
        window: int = 4,
        data: Mapping[str, Any] | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
    ) -> CoachingResult:
        """Each coaching session's effect on its metric (`metric` for sessions naming none)
        against the team's uncoached agents, with summaries per coach and per topic
        (kpi-catalogue.md "Coaching effect"; `window` weeks before and after)."""
        from tpmkit.coaching import run

        evaluate = self._evaluator("week", data, cache, progress)
        return run.run(self, evaluate, metric=metric, coach=coach, window=window, data=data)

    def goals(
        self,
        as_of: dt.date | None = None,
        *,
        data: Mapping[str, Any] | None = None,
        cache: Path | bool = True,
    ) -> list[GoalStatus]:
        """Every goal of the project as of `as_of` (default: the last day with data)."""
        from tpmkit import commands

        return commands.goals(self, as_of, self._evaluator(None, data, cache, None))

    def report(
        self,
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
        data: Mapping[str, Any] | None = None,
        cache: Path | bool = True,
        progress: Callable[[str], None] | None = None,
        why: bool = True,
    ) -> Report:
        """The report of one period for a role's view; render it with
        `tpmkit.to_html` or `tpmkit.to_markdown`. With `why` (default), each breached
        metric's change against the previous period is explained (its top driver beside
        the breach, and a "What moved" section)."""
        from tpmkit import commands

        evaluate = self._evaluator(period, data, cache, progress)
        return commands.report(
            self,
            metrics,
            period=period,
            last=last,
            at=at,
            role=role,
            by=by,
            cadence=cadence,
            agent=agent,
            now=now,
            evaluator=evaluate,
            why=why,
        )

    def notify(
        self,
        result: CheckResult | Report,
        urls: Sequence[str | Target] = (),
        *,
        report: Path | str | None = None,
        on: str | None = None,
        dry_run: bool = False,
        scope: Mapping[str, Any] | None = None,
    ) -> Notification:
        """Send a check's or report's outcome to the `notify:` targets and `urls` when
        `notify_on` (or `on`) says so (docs/notifications.md)."""
        from tpmkit import notifying

        return notifying.notify(
            self, result, urls, report=report, on=on, dry_run=dry_run, scope=scope
        )


def load(project_file: Path | str) -> Project:
    """Load a project and its metrics; every definition problem raises one DefinitionError."""
    definitions, issues = load_project(project_file)
    issues.extend(_definition_issues(definitions))
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise DefinitionError(f"{len(errors)} problem(s) in the definitions", by_location(errors))
    fields = {f.name: getattr(definitions, f.name) for f in dataclasses.fields(definitions)}
    return Project(**fields)


def validate(project_file: Path | str, rows: int | None = 10_000) -> list[Issue]:
    """Every issue (errors and warnings) in the project, its metric files and data schemas;
    data values are checked on the first `rows` rows of each file (None: all)."""
    from tpmkit.data.schema import schema_issues

    project, issues = load_project(project_file)
    definition_issues = _definition_issues(project)
    issues.extend(definition_issues)
    if not any(i.message.startswith("unknown time zone") for i in definition_issues):
        issues.extend(schema_issues(project, rows))  # data cannot be read without a valid zone
        # a declared `annotations` source is also read by the schema check: one issue a place
        seen = {(i.file, i.line, i.column) for i in issues}
        issues.extend(
            i for i in _annotation_issues(project) if (i.file, i.line, i.column) not in seen
        )
    if project.spec.notify:
        from tpmkit.notify.checks import notify_issues

        issues.extend(notify_issues(project))
    return by_location(issues)


def group_columns(project: Definitions) -> set[str]:
    """The columns an annotation may be scoped to: any the project's data can be grouped
    by (the exports' own, and what the roster and the queues attribute)."""
    from tpmkit.data.schema import available_columns

    return {c for columns in available_columns(project).values() for c in columns}


def _annotation_issues(project: Definitions) -> list[Issue]:
    """The located problems of the project's annotations file (docs/annotations.md)."""
    from tpmkit.annotations import read
    from tpmkit.errors import TpmkitError

    try:
        read(project, {*project.metrics, *project.aliases}, group_columns(project))
    except TpmkitError as exc:
        return exc.issues or [Issue(exc.message)]
    return []


def _definition_issues(definitions: Definitions) -> list[Issue]:
    """The project-level checks and each kind's own checks against the exports' columns."""
    from tpmkit.data.schema import available_columns
    from tpmkit.engine.kinds.checks import check_kinds
    from tpmkit.spec.checks import check_project

    columns = available_columns(definitions)
    return check_project(definitions) + check_kinds(definitions, columns)


def _names(parameter: str, given: Any) -> list[str]:
    """Metric ids or column names: one as text, or a list of them."""
    if given is None:
        return []
    if isinstance(given, str):
        return [given]
    if isinstance(given, Iterable) and all(isinstance(g, str) for g in given):
        return list(given)
    raise UsageError(f"{parameter} must be a name or a list of names, not {given!r}")


def _day(parameter: str, given: Any) -> dt.date | None:
    """A date given as a date, a datetime (its day) or ISO text such as 2026-11-09."""
    if given is None or (isinstance(given, dt.date) and not isinstance(given, dt.datetime)):
        return given
    if isinstance(given, dt.datetime):
        return given.date()
    if isinstance(given, str):
        try:
            return dt.date.fromisoformat(given)
        except ValueError:
            pass
    raise UsageError(f"{parameter} must be a date such as 2026-11-09, not {given!r}")


def check_window(period: str, start: dt.date | None, end: dt.date | None, last: int | None) -> None:
    """A UsageError naming the parameter when the grain or window cannot be evaluated."""
    from tpmkit.engine.periods import GRAINS

    if start and end and end < start:
        raise UsageError(f"end {end} is before start {start}")
    if last is not None and (start or end):
        raise UsageError("give either last or start/end, not both")
    if last is not None and last < 1:
        raise UsageError("last must be 1 or more")
    if period not in GRAINS:
        hint = did_you_mean(period, GRAINS)
        raise UsageError(
            f"unknown period `{period}`" + (f"; {hint}" if hint else ""),
            [Issue("periods: " + ", ".join(GRAINS), severity="hint")],
        )


def cache_for(project: Definitions, cache: Path | bool) -> CsvCache | None:
    """The CSV cache a run uses, or None."""
    from tpmkit.data.cache import CsvCache

    if cache is False or (cache is True and project.spec.cache is False):
        return None
    folder = cache if isinstance(cache, Path) else project.root / str(project.spec.cache)
    return CsvCache(folder)
