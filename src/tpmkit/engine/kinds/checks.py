"""Checks of what each metric reads, through its kind: the dataset, the columns its
expressions and column fields name, the kind's own parameters, and cycles of metrics built
on metrics. They live beside the kinds, not in `spec/`, because the kinds know their
fields; `tpmkit.project` runs them after the spec's own checks."""

from __future__ import annotations

from collections.abc import Mapping

from tpmkit.contract import CANONICAL
from tpmkit.engine.kinds.base import Location
from tpmkit.engine.kinds.registry import kind_of
from tpmkit.errors import Issue, did_you_mean
from tpmkit.spec import expressions
from tpmkit.spec.loader import Definitions, MetricDef


def check_kinds(project: Definitions, columns: Mapping[str, set[str]]) -> list[Issue]:
    """Every problem in what the project's metrics read (`columns`: usable columns per
    dataset) and in their kinds' parameters."""
    issues: list[Issue] = []
    for metric in project.metrics.values():
        issues.extend(_check_source(metric, project, columns))
        compute = metric.spec.compute
        issues.extend(kind_of(compute).check(compute, metric, project))
    issues.extend(_check_cycles(project))
    return issues


def parse_located(
    text: str, metric: MetricDef, path: Location, issues: list[Issue]
) -> expressions.ParsedExpression | None:
    """The parsed expression at `path` in the metric's compute block, or None with the
    located problem added to `issues`."""
    try:
        return expressions.parse(expressions.substitute(text, metric.spec.parameters))
    except expressions.ExpressionError as exc:
        hint = (
            "define it under `parameters:`"
            if "parameter" in exc.message
            else "check quotes: 'text' for strings, \"Column Name\" for names with spaces"
        )
        located = (*metric.path, "compute", *path)
        issues.append(metric.doc.issue(located, exc.message, offset=exc.offset, hint=hint))
        return None


def _check_source(
    metric: MetricDef, project: Definitions, columns: Mapping[str, set[str]]
) -> list[Issue]:
    spec, doc, base = metric.spec, metric.doc, metric.path
    kind = kind_of(spec.compute)
    if kind.plan == "metrics":
        if spec.dataset is None:
            return []
        return [
            doc.issue(
                (*base, "dataset"),
                f"a {kind.name} metric takes no `dataset`",
                hint="its inputs are other metrics; remove `dataset`",
            )
        ]
    if spec.dataset is None:
        return [
            doc.issue(
                (*base, "compute"),
                f"metric `{spec.id}` needs a `dataset`",
                hint="e.g. dataset: calls",
            )
        ]
    if spec.dataset not in CANONICAL and spec.dataset not in project.spec.sources:
        return [
            doc.issue(
                (*base, "dataset"),
                f"unknown dataset `{spec.dataset}`",
                hint=did_you_mean(spec.dataset, [*CANONICAL, *project.spec.sources])
                or "declare it under `sources:` in the project file",
            )
        ]
    return _check_columns(metric, columns.get(spec.dataset))


def _check_columns(metric: MetricDef, known: set[str] | None) -> list[Issue]:
    """Columns named by the kind's expressions and fields, the time column and override
    conditions must exist in the dataset (`known` None: its columns are unknown)."""
    spec, doc, base = metric.spec, metric.doc, metric.path
    kind = kind_of(spec.compute)
    issues: list[Issue] = []
    for path, text in kind.expressions(spec.compute):
        parsed = parse_located(text, metric, path, issues)
        if parsed is None or known is None:
            continue
        for name in parsed.columns:
            if name not in known:
                issues.append(
                    doc.issue(
                        (*base, "compute", *path),
                        f"unknown column `{name}` in dataset `{spec.dataset}`",
                        offset=expressions.offset_of(name, text),
                        hint=did_you_mean(name, known) or "map it under the source's `columns:`",
                    )
                )
    if known is None:
        return issues
    issues.extend(
        doc.issue(
            (*base, "compute", *path),
            f"unknown column `{column}` in dataset `{spec.dataset}`",
            hint=did_you_mean(column, known),
        )
        for path, column in kind.named_columns(spec.compute)
        if column not in known
    )
    if spec.time_column and spec.time_column not in known:
        issues.append(
            doc.issue(
                (*base, "time_column"),
                f"unknown column `{spec.time_column}`",
                hint=did_you_mean(spec.time_column, known),
            )
        )
    for index, override in enumerate(spec.overrides):
        for name in override.when:
            if name not in known:
                issues.append(
                    doc.issue(
                        (*base, "overrides", index, "when", name),
                        f"unknown column `{name}` in override condition",
                        key=True,
                        hint=did_you_mean(name, known),
                    )
                )
    return issues


def metric_inputs(metric: MetricDef, project: Definitions) -> list[str]:
    """The metric ids a metric is built from (aliases resolved; none for row kinds)."""
    compute = metric.spec.compute
    names = kind_of(compute).inputs(compute, metric.spec.parameters)
    return [project.aliases.get(n, n) for n in names]


def _check_cycles(project: Definitions) -> list[Issue]:
    graph: dict[str, list[str]] = {}
    for metric in project.metrics.values():
        try:
            graph[metric.id] = [m for m in metric_inputs(metric, project) if m in project.metrics]
        except expressions.ExpressionError:
            graph[metric.id] = []
    issues: list[Issue] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                cycle = [*trail[trail.index(nxt) :], nxt] if nxt in trail else [node, nxt]
                metric = project.metrics[node]
                issues.append(
                    metric.doc.issue(
                        (*metric.path, "compute", "expr"),
                        "formula metrics refer to each other in a cycle: " + " -> ".join(cycle),
                        hint="break the cycle",
                    )
                )
            elif state.get(nxt) is None:
                visit(nxt, [*trail, nxt])
        state[node] = 2

    for node in sorted(graph):
        if state.get(node) is None:
            visit(node, [node])
    return issues
