"""Load a project: the project file plus every metric file it names, all issues collected."""

from __future__ import annotations

import glob
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from tpmkit.errors import DefinitionError, Issue
from tpmkit.spec.issues import pydantic_issues
from tpmkit.spec.models import MetricSpec, ProjectSpec
from tpmkit.spec.yamlfile import LocatedDoc, Path_, load_yaml

BUILTIN = "builtin"


def builtin_metrics_dir() -> Path:
    """The packaged catalogue (wheel) or the repository's `metrics/` (source checkout)."""
    packaged = Path(__file__).resolve().parent.parent / "builtin_metrics"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[3] / "metrics"


@dataclass
class MetricDef:
    """A validated metric with where it was defined."""

    spec: MetricSpec
    doc: LocatedDoc
    path: Path_
    builtin: bool = False
    # where a project's `customize:` entry changed it (document, path), for locating issues
    customized_at: tuple[LocatedDoc, Path_] | None = None

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def file(self) -> str:
        return self.doc.file

    def where(self) -> str:
        """`file:line` of the metric's `id`."""
        mark = self.doc.locate((*self.path, "id"))
        return f"{self.doc.file}:{mark[0]}" if mark else self.doc.file


@dataclass
class Definitions:
    """A loaded project's definitions: its file, sources and metrics (no data, no engine;
    `tpmkit.project.Project` adds the calls that evaluate them)."""

    spec: ProjectSpec
    file: Path
    doc: LocatedDoc
    metrics: dict[str, MetricDef] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        return self.file.parent


def _validate(
    model: type[BaseModel], data: Any, doc: LocatedDoc, prefix: Path_, issues: list[Issue]
) -> Any:
    """The model, or None; every problem goes to `issues`.

    When validation fails, the offending keys are dropped and validation is tried once
    more, so that the checks that need a model (columns, formulas, thresholds) still run
    and every problem of a file is reported in one pass. The caller fails on the issues.
    """
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues.extend(pydantic_issues(exc, doc, prefix, model))
        repaired = _without(data, [tuple(e["loc"]) for e in exc.errors(include_url=False)])
        try:
            return model.model_validate(repaired)
        except ValidationError:
            return None


def _without(data: Any, locations: list[tuple[Any, ...]]) -> Any:
    """A copy of `data` with the deepest existing key of each location removed."""
    import copy

    result = copy.deepcopy(data)
    for loc in locations:
        node, parent, key = result, None, None
        for part in loc:
            in_dict = isinstance(node, dict) and part in node
            in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
            if in_dict or in_list:
                parent, key, node = node, part, node[part]
        if isinstance(parent, dict) and key in parent:
            del parent[key]
    return result


def _display(path: Path, base: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        try:
            return str(path.resolve().relative_to(base.resolve()))
        except ValueError:
            return str(path)


def _metric_files(entry: str, root: Path) -> list[tuple[Path, bool]]:
    if entry == BUILTIN:
        return [(p, True) for p in sorted(builtin_metrics_dir().glob("*.yaml"))]
    target = root / entry
    if target.is_dir():
        files = sorted([*target.glob("**/*.yaml"), *target.glob("**/*.yml")])
        return [(p, False) for p in files]
    if any(ch in entry for ch in "*?["):
        return [(Path(p), False) for p in sorted(glob.glob(str(target), recursive=True))]
    return [(target, False)]


def load_metric_file(
    path: Path, display: str, builtin: bool, issues: list[Issue]
) -> list[MetricDef]:
    """Every metric of one file (a mapping, or a list of mappings)."""
    try:
        doc = load_yaml(path, display)
    except DefinitionError as exc:
        issues.extend(exc.issues or [Issue(exc.message, file=display)])
        return []
    issues.extend(doc.duplicates)
    items: list[tuple[Path_, Any]]
    if isinstance(doc.data, list):
        items = [((i,), item) for i, item in enumerate(doc.data)]
    elif isinstance(doc.data, dict):
        items = [((), doc.data)]
    else:
        issues.append(doc.issue((), "a metric file must hold a mapping or a list of mappings"))
        return []
    found = []
    for prefix, item in items:
        if not isinstance(item, dict):
            issues.append(doc.issue(prefix, "each metric must be a mapping of keys"))
            continue
        spec = _validate(MetricSpec, item, doc, prefix, issues)
        if spec is not None:
            found.append(MetricDef(spec, doc, prefix, builtin))
    return found


def load_builtin() -> list[MetricDef]:
    """The built-in catalogue on its own; a broken catalogue file is an internal error."""
    issues: list[Issue] = []
    found = [
        metric
        for file in sorted(builtin_metrics_dir().glob("*.yaml"))
        for metric in load_metric_file(file, f"<builtin>/{file.name}", True, issues)
    ]
    if issues:
        raise RuntimeError("the built-in catalogue is invalid: " + issues[0].render())
    return found


def catalogue_project() -> Definitions:
    """A project holding just the built-in catalogue (for `metrics list` without a project)."""
    project = Definitions(
        ProjectSpec(name="built-in catalogue"),
        Path("tpmkit.yaml"),
        LocatedDoc(file="<builtin>", data={}),
    )
    for metric in load_builtin():
        _register(project, metric, [])
    return project


def load_project(project_file: Path | str) -> tuple[Definitions, list[Issue]]:
    """Parse the project and its metric files; return it with every issue found.

    Raises DefinitionError only when the project file itself cannot be used at all.
    """
    file = Path(project_file)
    if file.is_dir():
        file = file / "tpmkit.yaml"
    if not file.exists():
        raise DefinitionError(
            f"project file not found: {file}",
            [
                Issue(
                    "no such file",
                    file=str(file),
                    hint="pass -p path/to/tpmkit.yaml, or create one with `tpmkit init`",
                )
            ],
        )
    display = _display(file, Path.cwd())
    doc = load_yaml(file, display)
    issues: list[Issue] = list(doc.duplicates)
    if not isinstance(doc.data, dict):
        raise DefinitionError(
            f"{display} must be a mapping of keys",
            [doc.issue((), "expected `name:`, `sources:` ...")],
        )
    spec = _validate(ProjectSpec, doc.data, doc, (), issues)
    if spec is None:
        raise DefinitionError(f"{display} is invalid", issues)
    project = Definitions(spec, file, doc)
    for name, source in spec.sources.items():
        if source.table and not spec.connection and spec.engine != "spark":
            issues.append(
                doc.issue(
                    ("sources", name, "table"),
                    f"source `{name}` reads a `table:`, so the project needs a `connection:` "
                    "(e.g. connection: duckdb://warehouse.duckdb), or `engine: spark` to read "
                    "the tables of the Spark session's catalog",
                )
            )
    for name, source in spec.sources.items():
        for export in source.columns:
            mark = doc.locate(("sources", name, "columns", export), key=True)
            if mark is not None:
                source.remember(("columns", export), (display, *mark))
    seen_files: set[Path] = set()
    for index, entry in enumerate(spec.metrics):
        files = _metric_files(entry, project.root)
        if not files:
            issues.append(
                doc.issue(
                    ("metrics", index),
                    f"no metric files found at `{entry}`",
                    hint="give `builtin`, a folder or a file/glob of YAML",
                )
            )
        for path, builtin in files:
            if path.resolve() in seen_files:
                continue
            seen_files.add(path.resolve())
            if not path.exists():
                issues.append(doc.issue(("metrics", index), f"metric file not found: {entry}"))
                continue
            shown = f"<builtin>/{path.name}" if builtin else _display(path, project.root)
            for metric in load_metric_file(path, shown, builtin, issues):
                _register(project, metric, issues)
    _customize(project, issues)
    return project, issues


def _customize(project: Definitions, issues: list[Issue]) -> None:
    """Apply the project's `customize:` settings to the metrics they name."""
    from tpmkit.errors import did_you_mean

    for metric_id, settings in project.spec.customize.items():
        path: Path_ = ("customize", metric_id)
        target_id = project.aliases.get(metric_id, metric_id)
        metric = project.metrics.get(target_id)
        if metric is None:
            issues.append(
                project.doc.issue(
                    path,
                    f"`customize` names an unknown metric `{metric_id}`",
                    key=True,
                    hint=did_you_mean(metric_id, project.metrics) or "see `tpmkit metrics list`",
                )
            )
            continue
        for name in settings.parameters:
            if name not in metric.spec.parameters:
                known = sorted(metric.spec.parameters)
                issues.append(
                    project.doc.issue(
                        (*path, "parameters", name),
                        f"metric `{target_id}` has no parameter `{name}`",
                        key=True,
                        hint=did_you_mean(name, known)
                        or ("its parameters: " + ", ".join(known) if known else "it has none"),
                    )
                )
        update = {k: getattr(settings, k) for k in settings.model_fields_set if k != "parameters"}
        update["parameters"] = {**metric.spec.parameters, **settings.parameters}
        spec = MetricSpec.model_validate(
            {
                **metric.spec.model_dump(by_alias=True),
                **{
                    k: (
                        v.model_dump(by_alias=True)
                        if isinstance(v, BaseModel)
                        else [
                            o.model_dump(by_alias=True) if isinstance(o, BaseModel) else o
                            for o in v
                        ]
                        if isinstance(v, list)
                        else v
                    )
                    for k, v in update.items()
                },
            }
        )
        project.metrics[target_id] = MetricDef(
            spec, metric.doc, metric.path, metric.builtin, (project.doc, path)
        )


def _register(project: Definitions, metric: MetricDef, issues: list[Issue]) -> None:
    existing = project.metrics.get(metric.id)
    if existing is not None:
        if existing.builtin != metric.builtin:  # a project metric replaces a built-in one
            project.metrics[metric.id] = existing if metric.builtin else metric
            keep = project.metrics[metric.id]
            for alias in keep.spec.aliases:
                project.aliases[alias] = keep.id
            return
        issues.append(
            metric.doc.issue(
                (*metric.path, "id"),
                f"duplicate metric id `{metric.id}`",
                hint=f"also defined at {existing.where()}; rename one of them",
            )
        )
        return
    project.metrics[metric.id] = metric
    for alias in metric.spec.aliases:
        project.aliases[alias] = metric.id
