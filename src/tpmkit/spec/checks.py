"""Semantic checks across files: time zone, levels (thresholds, targets, baselines), dates
and playbooks. What a metric reads (dataset, columns, kind parameters, the formula graph)
is checked through its kind, in `tpmkit.engine.kinds.checks`."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tpmkit.errors import Issue, did_you_mean
from tpmkit.spec.loader import Definitions, MetricDef
from tpmkit.spec.models import Band, Direction, Thresholds, entries_of, in_force
from tpmkit.spec.yamlfile import LocatedDoc


def check_project(project: Definitions) -> list[Issue]:
    """Every problem of the project's time zone and of its metrics' levels, dates and
    playbooks."""
    issues: list[Issue] = []
    issues.extend(_check_timezone(project))
    issues.extend(_check_source_names(project))
    for metric in project.metrics.values():
        issues.extend(check_metric(metric))
    return issues


# The units the renderers format (and the catalogue uses); any other unit is shown as a
# plain number, so one close to these is a misspelling, not a new unit.
UNITS = ("percent", "count", "count/hour", "seconds", "hours", "ms", "currency", "score", "points")


def _check_unit(metric: MetricDef) -> list[Issue]:
    unit = metric.spec.unit
    if not unit or unit in UNITS:
        return []
    close = next((f"did you mean `{u}`?" for u in UNITS if near_miss(unit, u)), None)
    if close is None:
        return []
    return [
        metric.doc.issue(
            (*metric.path, "unit"),
            f"unknown unit `{unit}`",
            hint=f"{close} Known units: {', '.join(UNITS)}; a unit of your own must not be "
            "a near miss of one",
        )
    ]


def edits(a: str, b: str) -> int:
    """The edit distance of two words, a swap of neighbours counting as one edit."""
    rows = [list(range(len(b) + 1))]
    for i, x in enumerate(a, 1):
        row = [i]
        for j, y in enumerate(b, 1):
            row.append(min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (x != y)))
            if i > 1 and j > 1 and x == b[j - 2] and a[i - 2] == y:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]


def near_miss(word: str, canonical: str) -> bool:
    """A typing slip of `canonical` (`tickts`, `queue`, `Calls`), not a name of its own:
    one edit for names up to six letters, two beyond (so `events` is not `agents`, nor
    `incidents` `tickets`); names under four letters (`qa`) are too short to tell."""
    if word == canonical or len(canonical) < 4:
        return False
    allowed = 1 if len(canonical) <= 6 else 2
    return edits(word.lower(), canonical) <= allowed


def _check_source_names(project: Definitions) -> list[Issue]:
    """A source whose name is a near miss of a canonical dataset (`tickts`) would quietly
    become a custom dataset that no built-in metric reads: an error, unless it says
    `custom: true`."""
    from tpmkit.contract import CANONICAL

    issues = []
    for name, source in project.spec.sources.items():
        if name in CANONICAL and source.custom:
            issues.append(
                project.doc.issue(
                    ("sources", name, "custom"),
                    f"`{name}` is a canonical dataset: it cannot be custom",
                    key=True,
                    hint="remove `custom: true`, or give your own dataset another name",
                )
            )
        if name in CANONICAL or source.custom:
            continue
        close = next((c for c in CANONICAL if near_miss(name, c)), None)
        if close is not None:
            issues.append(
                project.doc.issue(
                    ("sources", name),
                    f"unknown dataset `{name}`: did you mean `{close}`?",
                    key=True,
                    hint=f"the canonical datasets are {', '.join(CANONICAL)}; if `{name}` "
                    "is a dataset of your own, add `custom: true` to it",
                )
            )
    return issues


def _check_playbook(metric: MetricDef) -> list[Issue]:
    """Every gated metric is owned and says what to do when it breaches (warnings)."""
    spec, doc, base = metric.spec, metric.doc, metric.path
    gated = spec.gate if spec.gate is not None else spec.thresholds is not None
    if gated is False or spec.thresholds is None:
        return []
    issues = []
    if spec.owner is None:
        issues.append(
            doc.issue(
                (*base, "id"),
                f"gated metric `{spec.id}` has no owner",
                severity="warning",
                hint="add `owner:` (the role that acts on a breach), or `gate: false`",
            )
        )
    missing = [s for s in ("warning", "critical") if s not in spec.actions]
    if missing:
        issues.append(
            doc.issue(
                (*base, "id"),
                f"gated metric `{spec.id}` has no action for {' and '.join(missing)}",
                severity="warning",
                hint='add e.g. `actions: {critical: "team lead: coaching within 7 days"}`',
            )
        )
    return issues


def _check_timezone(project: Definitions) -> list[Issue]:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(project.spec.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        hint = did_you_mean(project.spec.timezone, available_timezones())
        return [
            project.doc.issue(
                ("timezone",),
                f"unknown time zone `{project.spec.timezone}`",
                hint=hint or "use an IANA name such as Europe/Berlin or UTC",
            )
        ]
    return []


def check_metric(metric: MetricDef) -> list[Issue]:
    """Problems of one metric's levels, dates and playbook."""
    issues: list[Issue] = []
    issues.extend(_check_levels(metric))
    issues.extend(_check_playbook(metric))
    issues.extend(_check_dates(metric))
    issues.extend(_check_unit(metric))
    return issues


def _levels(thresholds: Thresholds | None) -> tuple[object, object]:
    if thresholds is None:
        return None, None
    return thresholds.warning, thresholds.critical


def _levels_location(metric: MetricDef) -> tuple[LocatedDoc, tuple[str | int, ...]]:
    """Where a metric's levels were written: its file, or the project's `customize:`."""
    return metric.customized_at or (metric.doc, metric.path)


def _in_force(entries: list[Any], path: tuple[str | int, ...], day: Any) -> tuple[Any, Any]:
    """(entry, its path) of a possibly dated list in force on `day` (None: the latest)."""
    if not entries:
        return None, path
    chosen = in_force(entries, day or dt.date.max)
    return entries[chosen], ((*path, chosen) if len(entries) > 1 else path)


def _level_blocks(metric: MetricDef) -> list[tuple[Any, ...]]:
    """(dated path, thresholds, their path, target in force then, its path) per entry of
    the metric's thresholds (and overrides'), so each dated entry is checked on its own."""
    spec = metric.spec
    _, base = _levels_location(metric)
    blocks = []
    scopes = [((*base,), spec.thresholds, spec.target)]
    scopes += [
        ((*base, "overrides", i), o.thresholds, o.target) for i, o in enumerate(spec.overrides)
    ]
    for scope, thresholds, target in scopes:
        levels, targets = entries_of(thresholds), entries_of(target)
        t_path = (*scope, "thresholds")
        g_path = (*scope, "target")
        if not levels:
            chosen, chosen_path = _in_force(targets, g_path, None)
            blocks.append((scope, None, t_path, chosen, chosen_path))
        for i, entry in enumerate(levels):
            path = (*t_path, i) if len(levels) > 1 else t_path
            chosen, chosen_path = _in_force(targets, g_path, entry.from_)
            blocks.append((scope, entry, path, chosen, chosen_path))
    return blocks


def _check_levels(metric: MetricDef) -> list[Issue]:
    spec = metric.spec
    doc, _ = _levels_location(metric)
    issues: list[Issue] = []
    for _scope, thresholds, t_path, target, g_path in _level_blocks(metric):
        if (thresholds is not None or target is not None) and spec.direction is None:
            issues.append(
                doc.issue(
                    t_path if thresholds else g_path,
                    "thresholds and targets need a `direction`",
                    hint="add direction: higher_is_better, lower_is_better or within_band",
                )
            )
            continue
        warning, critical = _levels(thresholds)
        if spec.direction is Direction.BAND:
            issues.extend(_check_band(doc, t_path, warning, critical))
        else:
            issues.extend(
                _check_single(doc, t_path, g_path, spec.direction, warning, critical, target)
            )
    return issues


def _check_single(
    doc: LocatedDoc,
    t_path: tuple[str | int, ...],
    g_path: tuple[str | int, ...],
    direction: Direction | None,
    warning: object,
    critical: object,
    target: object,
) -> list[Issue]:
    from tpmkit.spec.models import Target

    issues = []
    for name, level in (("warning", warning), ("critical", critical)):
        if isinstance(level, Band):
            issues.append(
                doc.issue(
                    (*t_path, name),
                    f"`{name}` is a band but the direction is {direction}",
                    hint="give a single number, or use direction: within_band",
                )
            )
    if isinstance(target, Target) and target.value is None:
        issues.append(
            doc.issue(
                g_path,
                "a band target needs direction: within_band",
                hint="give `value:`",
            )
        )
    if not (isinstance(warning, float) and isinstance(critical, float)):
        return issues
    higher = direction is Direction.HIGHER
    if (higher and warning < critical) or (not higher and warning > critical):
        relation = "below" if higher else "above"
        issues.append(
            doc.issue(
                (*t_path, "warning"),
                f"warning ({warning:g}) is worse than critical ({critical:g}) for {direction}",
                hint=f"critical must be {relation} warning; swap the two values?",
            )
        )
    if isinstance(target, Target) and target.value is not None:
        worse = target.value < warning if higher else target.value > warning
        if worse:
            issues.append(
                doc.issue(
                    (*g_path, "value"),
                    f"target ({target.value:g}) is worse than the warning threshold ({warning:g})",
                    hint="a target should be at least as good as warning",
                )
            )
    return issues


def _check_band(
    doc: LocatedDoc, path: tuple[str | int, ...], warning: object, critical: object
) -> list[Issue]:
    issues = []
    for name, level in (("warning", warning), ("critical", critical)):
        if level is not None and not isinstance(level, Band):
            issues.append(
                doc.issue(
                    (*path, name),
                    f"`{name}` must be a band for within_band",
                    hint=f"write {name}: {{lower: ..., upper: ...}}",
                )
            )
        elif (
            isinstance(level, Band)
            and level.lower is not None
            and level.upper is not None
            and level.lower > level.upper
        ):
            issues.append(
                doc.issue((*path, name), f"`{name}` lower bound is above its upper bound")
            )
    if isinstance(warning, Band) and isinstance(critical, Band):
        if None not in (warning.lower, critical.lower) and critical.lower > warning.lower:  # type: ignore[operator]
            issues.append(
                doc.issue(
                    (*path, "critical", "lower"),
                    "critical lower bound is inside the warning band",
                    hint="critical.lower must be <= warning.lower",
                )
            )
        if None not in (warning.upper, critical.upper) and critical.upper < warning.upper:  # type: ignore[operator]
            issues.append(
                doc.issue(
                    (*path, "critical", "upper"),
                    "critical upper bound is inside the warning band",
                    hint="critical.upper must be >= warning.upper",
                )
            )
    return issues


def _check_dates(metric: MetricDef) -> list[Issue]:
    spec = metric.spec
    doc, base = _levels_location(metric)
    scopes = [((*base,), spec.baseline, spec.target)]
    scopes += [
        ((*base, "overrides", i), o.baseline or spec.baseline, o.target or spec.target)
        for i, o in enumerate(spec.overrides)
    ]
    issues = []
    for scope, baselines, targets in scopes:
        entries = entries_of(targets)
        for i, target in enumerate(entries):
            baseline, _ = _in_force(entries_of(baselines), (*scope, "baseline"), target.from_)
            path = (*scope, "target", i) if len(entries) > 1 else (*scope, "target")
            if baseline and baseline.as_of and target.by and target.by < baseline.as_of:
                issues.append(
                    doc.issue(
                        (*path, "by"),
                        f"target date {target.by} is before the baseline date {baseline.as_of}",
                        hint="the target must be due after the baseline was measured",
                    )
                )
    return issues
