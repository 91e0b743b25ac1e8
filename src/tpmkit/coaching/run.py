"""Read the coaching log, evaluate the coached metric per agent and week, and estimate each
session's effect (kpi-catalogue.md, "Coaching effect"; the arithmetic is in `effect`).

Windows are whole ISO weeks around the session's week w (the week holding `coached_at`,
in neither window): before = w−N … w−1, after = w+1 … w+N, held = the N weeks starting
with the first week that starts after t + 8 weeks (w+9 … w+8+N). Every window is pooled
from the per-agent weekly cells: a mean from each cell's n, mean and standard deviation
(sum and sum of squares add up exactly), a share from its hits and rows. The comparison
group is the session's team's agents with no session of their own from w−N to the end of
the window compared (the whole operation when the team has none, said per session)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from tpmkit.coaching.effect import did, mean_part, over_agents, share_part
from tpmkit.coaching.model import INSUFFICIENT, CoachingResult, Estimate, SessionEffect, Summary
from tpmkit.engine.kinds import kind_of
from tpmkit.errors import Issue, UsageError
from tpmkit.needs import Need, resolve_ids

if TYPE_CHECKING:
    from tpmkit.commands import Evaluator
    from tpmkit.spec.loader import Definitions
    from tpmkit.spec.models import MetricSpec

HELD_AFTER = 8  # weeks after the session where the held window starts (the catalogue's)
_MONDAY = dt.date(1970, 1, 5)  # week numbers count from a Monday


def _week(day: pl.Expr) -> pl.Expr:
    """The week number of a local day (weeks start on Monday)."""
    return ((day - pl.lit(_MONDAY)).dt.total_days() // 7).cast(pl.Int64)


def week_label(week: int) -> str:
    """The ISO label of a week number (`_week`): 2026-W38."""
    year, number, _ = (_MONDAY + dt.timedelta(weeks=week)).isocalendar()
    return f"{year}-W{number:02d}"


# what a metric's rows are, in a trainer's words (its dataset's)
ROWS = {"calls": "calls", "tickets": "tickets", "qa": "QA evaluations", "schedule": "shifts"}


def coaching(
    project: Definitions,
    evaluate: Evaluator,
    *,
    metric: str | None = None,
    coach: str | None = None,
    window: int = 4,
    log: pl.DataFrame,
) -> CoachingResult:
    """Every session of the log (`coach`'s only, when given) on its metric (`metric` for
    sessions that name none; with `metric`, only the sessions on it), with summaries per
    coach and per topic."""
    if window < 1:
        raise UsageError("window must be at least 1 week")
    notes: list[str] = []
    sessions = log
    if coach is not None:
        sessions = sessions.filter(pl.col("coach").str.to_lowercase() == coach.lower())
        if sessions.is_empty():
            known = sorted({str(c) for c in log.get_column("coach").drop_nulls().unique()})
            raise UsageError(
                f"coach {coach}: no session in the coaching log",
                [Issue("coaches: " + ", ".join(known), severity="hint")] if known else [],
            )
    asked = resolve_ids(project, [metric])[0] if metric else None
    if asked is not None:
        _check_kind(project.metrics[asked].spec, asked)
    targets = _targets(project, sessions, asked, notes)
    roster = _roster_agents(project)
    results: list[SessionEffect] = []
    coaches: list[Summary] = []
    topics: list[Summary] = []
    for metric_id in sorted(targets.get_column("metric").unique()):
        spec = project.metrics[metric_id].spec
        chosen = targets.filter(pl.col("metric") == metric_id)
        cells = _cells(evaluate, metric_id, spec)
        found = _sessions(chosen, cells, log, spec, window, notes, roster)
        results.extend(found)
        coaches.extend(_summaries(found, "coach", spec))
        topics.extend(_summaries(found, "topic", spec))
    metrics = sorted({s.metric for s in results})
    specs = {m: project.metrics[m].spec for m in metrics}
    return CoachingResult(
        metrics=metrics,
        window=window,
        sessions=results,
        coaches=coaches,
        topics=topics,
        directions={m: str(s.direction) for m, s in specs.items()},
        units={m: s.unit for m, s in specs.items()},
        notes=notes,
    )


def _check_kind(spec: MetricSpec, metric_id: str) -> bool:
    """True for a mean or a share metric; a UsageError for another kind."""
    kind = kind_of(spec.compute)
    if kind.name == "mean" or kind.binomial:
        if spec.direction not in ("higher_is_better", "lower_is_better"):
            raise UsageError(
                f"metric {metric_id}: a coaching effect needs a direction "
                "(higher_is_better or lower_is_better) to say improved or worsened"
            )
        return True
    raise UsageError(
        f"metric {metric_id}: a coaching effect is measured on a mean or a share metric, "
        f"not a {kind.name}",
        [Issue("choose e.g. aht, csat, qa_score or fcr", severity="hint")],
    )


def _targets(
    project: Definitions, sessions: pl.DataFrame, asked: str | None, notes: list[str]
) -> pl.DataFrame:
    """One row per (session, metric it targets): a comma-separated `metric` splits; an
    empty one takes `asked`; with `asked`, only sessions on it."""
    named = sessions.with_columns(
        pl.col("metric").fill_null("").str.split(",").list.eval(pl.element().str.strip_chars())
    ).explode("metric")
    if asked is not None:
        named = named.with_columns(
            pl.when(pl.col("metric") == "")
            .then(pl.lit(asked))
            .otherwise(pl.col("metric"))
            .alias("metric")
        )
    untargeted = named.filter(pl.col("metric") == "").height
    if untargeted:
        notes.append(
            f"{untargeted} session(s) name no metric: `tpmkit coaching --metric ID` analyses them"
        )
    named = named.filter(pl.col("metric") != "")
    ids = {m: project.aliases.get(m, m) for m in named.get_column("metric").unique()}
    unknown = sorted(m for m, i in ids.items() if i not in project.metrics)
    if unknown:
        notes.append("sessions on unknown metrics left out: " + ", ".join(unknown))
    named = named.with_columns(pl.col("metric").replace_strict(ids, default=None)).filter(
        pl.col("metric").is_in([i for i in ids.values() if i in project.metrics])
    )
    if asked is not None:
        return named.filter(pl.col("metric") == asked)
    kept = []
    for metric_id in sorted(named.get_column("metric").unique()):
        try:
            _check_kind(project.metrics[metric_id].spec, metric_id)
            kept.append(metric_id)
        except UsageError as exc:
            notes.append(f"left out: {exc.message}")
    return named.filter(pl.col("metric").is_in(kept))


def _cells(evaluate: Evaluator, metric_id: str, spec: MetricSpec) -> pl.DataFrame:
    """Per (team, agent, week): rows n and the pooled sums (mean: Σx and Σx²; share: hits)."""
    evaluation = evaluate.one(Need((metric_id,), "week", ("team", "agent_id")))
    records = evaluation.records.filter(
        (pl.col("metric") == metric_id) & pl.col("agent_id").is_not_null() & (pl.col("n") > 0)
    )
    week = _week(pl.col("period_start").dt.date()).alias("week")
    if kind_of(spec.compute).binomial:
        return records.select(
            "team",
            "agent_id",
            week,
            pl.col("denominator").cast(pl.Int64).alias("n"),
            pl.col("numerator").alias("s1"),
            pl.lit(0.0).alias("s2"),
            pl.col("scale"),
        ).filter(pl.col("n") > 0)
    n, mean, sd = pl.col("n"), pl.col("value"), pl.col("sd").fill_null(0.0)
    return records.select(
        "team",
        "agent_id",
        week,
        n,
        (mean * n).alias("s1"),
        (sd * sd * (n - 1) + n * mean * mean).alias("s2"),
        pl.lit(1.0).alias("scale"),
    )


def _windows(window: int) -> dict[str, tuple[int, int]]:
    """Each part's weeks relative to the session's week (inclusive)."""
    return {
        "before": (-window, -1),
        "after": (1, window),
        "held": (HELD_AFTER + 1, HELD_AFTER + window),
    }


def _sessions(
    chosen: pl.DataFrame,
    cells: pl.DataFrame,
    log: pl.DataFrame,
    spec: MetricSpec,
    window: int,
    notes: list[str],
    roster: set[str] | None = None,
) -> list[SessionEffect]:
    """The estimate of every chosen session (rows of the log with their `metric`); a
    session that cannot be estimated says why in a trainer's words (`roster`: the agent ids
    of the roster, to tell an unknown agent from one without rows)."""
    if chosen.is_empty():
        return []
    latest = cells.get_column("week").max() if not cells.is_empty() else None
    last_week = int(latest) if isinstance(latest, int) else None
    seen = set(cells.get_column("agent_id").unique().to_list()) if not cells.is_empty() else set()
    rows = ROWS.get(str(spec.dataset), f"{spec.dataset} rows")
    sessions = chosen.select(
        "session_id",
        "agent_id",
        "coached_at",
        "coach",
        "topic",
        _week(pl.col("coached_at").dt.date()).alias("w"),
    )
    # the agent's team: the last one seen up to the end of the after-window
    teams = (
        sessions.join(cells.select("agent_id", "week", "team"), on="agent_id", how="inner")
        .filter(pl.col("week") <= pl.col("w") + window)
        .sort("week")
        .group_by("session_id")
        .agg(pl.col("team").last())
    )
    sessions = sessions.join(teams, on="session_id", how="left")
    every = log.select(
        pl.col("agent_id").alias("other"), _week(pl.col("coached_at").dt.date()).alias("cw")
    )
    parts = _parts(sessions, cells, every, window)
    ranges = _windows(window)
    lower = spec.direction == "lower_is_better"
    is_mean = not kind_of(spec.compute).binomial
    minimum = max(spec.min_sample, 2 if is_mean else 1)
    top = cells.get_column("scale").max() if not cells.is_empty() else None
    scale = float(top) if isinstance(top, int | float) else 1.0
    out = []
    for row in sessions.sort("coached_at", "session_id").iter_rows(named=True):
        mine = parts.get(row["session_id"], {})

        def part(name: str, mine: dict[str, tuple[int, float, float]] = mine) -> Any:
            n, s1, s2 = mine.get(name, (0, 0.0, 0.0))
            return share_part(n, s1, scale) if not is_mean else mean_part(n, s1, s2)

        team_known = all(part(f"team {p}").n > 0 for p in ("before", "after"))
        group = "team" if team_known else "operation"
        before, after = part("own before"), part("own after")
        comp_before, comp_after = part(f"{group} before"), part(f"{group} after")
        options = {"lower_is_better": lower, "min_sample": minimum, "is_mean": is_mean}
        w, agent = int(row["w"]), str(row["agent_id"])
        reach = last_week is not None and w + ranges["after"][1] <= last_week
        why = _why_not(agent, spec.id, rows, seen, roster, before.n + after.n == 0)
        if why is None and not reach:
            # the after-window ends later than the data (its weeks are in the JSON's parts)
            why = f"after-window not reached (data end {week_label(last_week or 0)})"
        if why is not None and before.n + after.n == 0 and agent in seen:
            why += f" ({week_label(w - window)} – {week_label(w + window)})"
        estimate = (
            did(before, after, comp_before, comp_after, rows=rows, **options)  # type: ignore[arg-type]
            if why is None
            else Estimate(None, None, None, INSUFFICIENT, reason=why)
        )
        held, held_reason = None, None
        held_last = w + ranges["held"][1]
        if why is not None:
            held_reason = "no effect to follow up"
        elif last_week is None or held_last > last_week:
            held_reason = f"not reached (data end {week_label(last_week or 0)})"
        else:
            held_group = "team held" if part("team held before").n > 0 else "operation held"
            held = did(
                before,
                part("own held"),
                part(f"{held_group} before"),
                part(f"{held_group} after"),
                rows=rows,
                **options,  # type: ignore[arg-type]
            )
        out.append(
            SessionEffect(
                session_id=str(row["session_id"]),
                agent_id=str(row["agent_id"]),
                coached_at=row["coached_at"],
                coach=row["coach"],
                topic=row["topic"],
                metric=spec.id,
                team=row["team"],
                comparison=group,
                before=before,
                after=after,
                comparison_before=comp_before,
                comparison_after=comp_after,
                estimate=estimate,
                held=held,
                held_reason=held_reason,
            )
        )
    # only sessions with an effect: one without says its own reason
    wider = [s.session_id for s in out if s.comparison == "operation" and s.estimate.effect]
    if wider:
        notes.append(
            "sessions compared with the whole operation (their team had no uncoached agent "
            "in the windows): " + ", ".join(wider)
        )
    return out


def _why_not(
    agent: str, metric: str, rows: str, seen: set[str], roster: set[str] | None, empty: bool
) -> str | None:
    """Why a session has no effect before any arithmetic: an agent unknown to the roster and
    the data, an agent without rows of the metric, or none in the windows."""
    if agent not in seen:
        if roster is not None and agent not in roster:
            return f"unknown agent {agent} (not in the roster or the {rows})"
        if roster is None:
            return f"unknown agent {agent} (not in the {rows})"
        return f"{agent} has no {rows} for {metric} at all"
    if empty:
        return f"{agent} has no {rows} in the window"
    return None


def _roster_agents(project: Definitions) -> set[str] | None:
    """The roster's agent ids (None without a roster, or when it cannot be read: the
    sessions then say only that the data do not name the agent)."""
    source = project.spec.sources.get("agents")
    if source is None:
        return None
    from tpmkit.data.load import load_dataset
    from tpmkit.errors import DataError

    try:
        roster = load_dataset(
            "agents", source, Path(project.root), project.spec.timezone, None, cache=None
        ).frame
    except (DataError, UsageError):
        return None
    if "agent_id" not in roster.columns:
        return None
    return {str(a) for a in roster.get_column("agent_id").drop_nulls().unique().to_list()}


def _parts(
    sessions: pl.DataFrame, cells: pl.DataFrame, every: pl.DataFrame, window: int
) -> dict[str, dict[str, tuple[int, float, float]]]:
    """Per session: (n, Σ, Σ²) of each part — own before/after/held, and the comparison's
    (team or operation; `… held before/after` for the held window, whose uncoached agents
    have no session through its end)."""
    ranges = _windows(window)
    frames = []
    for name, (lo, hi) in ranges.items():
        own = sessions.join(cells, on="agent_id", how="inner", suffix="_cell").filter(
            pl.col("week").is_between(pl.col("w") + lo, pl.col("w") + hi)
        )
        frames.append(
            own.select("session_id", pl.lit(f"own {name}").alias("part"), "n", "s1", "s2")
        )
    base = sessions.select("session_id", "w", pl.col("team").alias("session_team"))
    for scope, through in (("", window), (" held", HELD_AFTER + window)):
        # agents with a session of their own from w−N to the end of the compared window
        tainted = base.join(every, how="cross").filter(
            pl.col("cw").is_between(pl.col("w") - window, pl.col("w") + through)
        )
        tainted = tainted.select("session_id", pl.col("other").alias("agent_id")).unique()
        pairs = ("before", "held" if scope else "after")
        for label, part in zip(("before", "after"), pairs, strict=True):
            lo, hi = ranges[part]
            rows = (
                base.join(cells, how="cross")
                .filter(pl.col("week").is_between(pl.col("w") + lo, pl.col("w") + hi))
                .join(tainted, on=["session_id", "agent_id"], how="anti")
            )
            team = rows.filter(pl.col("team") == pl.col("session_team"))
            for group, frame in (("team", team), ("operation", rows)):
                frames.append(
                    frame.select(
                        "session_id",
                        pl.lit(f"{group}{scope} {label}").alias("part"),
                        "n",
                        "s1",
                        "s2",
                    )
                )
    summed = (
        pl.concat(frames)
        .group_by("session_id", "part")
        .agg(pl.col("n").sum(), pl.col("s1").sum(), pl.col("s2").sum())
    )
    out: dict[str, dict[str, tuple[int, float, float]]] = {}
    for session, part, n, s1, s2 in summed.iter_rows():
        out.setdefault(str(session), {})[str(part)] = (int(n), float(s1), float(s2))
    return out


def _summaries(found: Sequence[SessionEffect], by: str, spec: MetricSpec) -> list[Summary]:
    """Per coach or topic: each agent's mean session effect, then their mean and interval."""
    lower = spec.direction == "lower_is_better"
    names = sorted({getattr(s, by) for s in found}, key=lambda v: (v is None, str(v)))
    out = []
    for name in names:
        mine = [s for s in found if getattr(s, by) == name]
        main = _per_agent(mine, lambda s: s.estimate)
        held = _per_agent(mine, lambda s: s.held)
        held_reason = None
        if not held:
            # the commonest reason of its sessions (ties: the first)
            reasons = [s.held_reason or (s.held.reason if s.held else None) for s in mine]
            known = [r for r in reasons if r]
            held_reason = max(known, key=known.count) if known else "no agent has a held effect"
        out.append(
            Summary(
                by=by,
                name=name,
                metric=spec.id,
                sessions=len(mine),
                agents=len(main),
                estimate=over_agents(main, lower_is_better=lower),
                held_agents=len(held),
                held=over_agents(held, lower_is_better=lower) if held else None,
                held_reason=held_reason,
            )
        )
    return out


def _per_agent(sessions: Sequence[SessionEffect], pick: Any) -> list[float]:
    """Each agent's mean effect over their estimable sessions (agents are the unit)."""
    effects: dict[str, list[float]] = {}
    for s in sessions:
        estimate = pick(s)
        if (
            estimate is not None
            and estimate.effect is not None
            and estimate.verdict != INSUFFICIENT
        ):
            effects.setdefault(s.agent_id, []).append(estimate.effect)
    return [sum(v) / len(v) for _, v in sorted(effects.items())]


def read_log(
    project: Definitions,
    frame: Any = None,
    cache: Any = None,
) -> pl.DataFrame:
    """The coaching log (the `coaching` source, or `frame`), coerced to its contract."""
    from tpmkit.data.load import load_dataset

    source = project.spec.sources.get("coaching")
    if source is None and frame is None:
        raise UsageError(
            "no coaching log: the project has no `coaching` source",
            [
                Issue(
                    "add to tpmkit.yaml: sources: {coaching: {path: coaching.csv}} with "
                    "columns session_id, agent_id, coached_at, coach, metric, topic",
                    severity="hint",
                )
            ],
        )
    given = {"frame": frame} if frame is not None else {}
    dataset = load_dataset(
        "coaching", source, Path(project.root), project.spec.timezone, None, cache=cache, **given
    )
    log = dataset.frame
    for column in ("coach", "metric", "topic"):
        if column not in log.columns:
            log = log.with_columns(pl.lit(None, dtype=pl.String).alias(column))
    return log


def run(
    project: Definitions,
    evaluate: Evaluator,
    *,
    metric: str | None,
    coach: str | None,
    window: int,
    data: Mapping[str, Any] | None,
) -> CoachingResult:
    """Read the log (from `data["coaching"]` when given) and analyse it."""
    log = read_log(project, (data or {}).get("coaching"))
    return coaching(project, evaluate, metric=metric, coach=coach, window=window, log=log)
