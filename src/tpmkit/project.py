"""The library API: load a project, validate it, select metrics and evaluate them.

The CLI is a thin layer over these functions; tests and users import them directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tpmkit.data.cache import CsvCache
    from tpmkit.evaluation import Evaluation

from tpmkit.errors import DefinitionError, Issue, UsageError, by_location, did_you_mean
from tpmkit.spec.loader import MetricDef, Project, load_project

ALL_METRICS_ROLES = {"operations_manager", "director"}


def load(project_file: Path | str) -> Project:
    """Load a project and its metrics; every definition problem raises one DefinitionError."""
    project, issues = load_project(project_file)
    from tpmkit.data.schema import available_columns
    from tpmkit.engine.kinds.checks import check_kinds
    from tpmkit.spec.checks import check_project

    columns = available_columns(project)
    issues.extend(check_project(project) + check_kinds(project, columns))
    errors = [i for i in issues if i.severity == "error"]
    if errors:
        raise DefinitionError(f"{len(errors)} problem(s) in the definitions", by_location(errors))
    return project


def validate(project_file: Path | str, rows: int | None = 10_000) -> list[Issue]:
    """Every issue (errors and warnings) in the project, its metric files and data schemas;
    data values are checked on the first `rows` rows of each file (None: all)."""
    from tpmkit.data.schema import available_columns, schema_issues
    from tpmkit.engine.kinds.checks import check_kinds
    from tpmkit.spec.checks import check_project

    project, issues = load_project(project_file)
    columns = available_columns(project)
    definition_issues = check_project(project) + check_kinds(project, columns)
    issues.extend(definition_issues)
    if not any(i.message.startswith("unknown time zone") for i in definition_issues):
        issues.extend(schema_issues(project, rows))  # data cannot be read without a valid zone
    return by_location(issues)


def resolve_ids(project: Project, ids: Iterable[str]) -> list[str]:
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


def select(project: Project, ids: Sequence[str] = (), role: str | None = None) -> list[MetricDef]:
    """The metrics asked for: by id, else every metric (of a role's view when given)."""
    from tpmkit.spec.models import ROLES

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


def evaluate(
    project: Project,
    ids: Sequence[str] = (),
    *,
    period: str = "week",
    by: Sequence[str] = (),
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    last: int | None = None,
    role: str | None = None,
    on_bad_rows: str = "fail",
    rejects_dir: Path | None = None,
    cache: Path | bool = True,
    progress: Callable[[str], None] | None = None,
) -> Evaluation:
    """Evaluate metrics over the project's data: one record per metric × period × group.

    `cache`: True uses the project's CSV cache (its `cache:` folder, unless it sets
    `cache: false`), False reads every export afresh, a path uses that cache folder.
    `progress` is called with each step ("reading calls", "computing 36 metrics")."""
    from tpmkit.evaluation import run

    if date_from and date_to and date_to < date_from:
        raise UsageError(f"--to {date_to} is before --from {date_from}")
    if last is not None and (date_from or date_to):
        raise UsageError("give either --last or --from/--to, not both")
    if last is not None and last < 1:
        raise UsageError("--last must be 1 or more")
    from tpmkit.engine.periods import GRAINS

    if period not in GRAINS:
        hint = did_you_mean(period, GRAINS)
        raise UsageError(
            f"unknown period `{period}`" + (f"; {hint}" if hint else ""),
            [Issue("periods: " + ", ".join(GRAINS), severity="hint")],
        )
    selected = select(project, ids, role)
    if not selected:
        raise UsageError(
            f"no metric matches role `{role}`" if role else "no metrics defined",
            [
                Issue(
                    "check `roles:` in the metric files, or list them with `tpmkit metrics list`",
                    severity="hint",
                )
            ],
        )
    return run(
        project,
        selected,
        explicit=bool(ids),
        period=period,
        by=list(by),
        date_from=date_from,
        date_to=date_to,
        last=last,
        on_bad_rows=on_bad_rows,
        rejects_dir=rejects_dir,
        cache=cache_for(project, cache),
        progress=progress,
    )


def cache_for(project: Project, cache: Path | bool) -> CsvCache | None:
    """The CSV cache a run uses, or None."""
    from tpmkit.data.cache import CsvCache

    if cache is False or (cache is True and project.spec.cache is False):
        return None
    folder = cache if isinstance(cache, Path) else project.root / str(project.spec.cache)
    return CsvCache(folder)
