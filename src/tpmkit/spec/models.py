"""Pydantic v2 models of the files a user writes: `tpmkit.yaml` and metric files."""

from __future__ import annotations

import datetime as dt
import threading
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, PrivateAttr, field_validator, model_validator
from pydantic.fields import FieldInfo

from tpmkit.spec import sourcechecks, sourceopts
from tpmkit.spec.base import Strict
from tpmkit.spec.booleans import Booleans
from tpmkit.spec.computes import (
    COMPUTE_MODELS,
    ComputeSpec,
    add_model,
    compute_annotation,
    kind_name,
)
from tpmkit.spec.engine import (
    CONNECTION_HELP,
    ENGINE_HELP,
    EngineName,
    SparkSettings,
    without_password,
)
from tpmkit.vocabulary import Level

Scalar = str | int | float | bool
ROLES = ("agent", "team_lead", "quality_specialist", "trainer", "operations_manager", "director")
Role = Literal[
    "agent", "team_lead", "quality_specialist", "trainer", "operations_manager", "director"
]
ColumnType = Literal["text", "int", "float", "bool", "timestamp", "date", "duration"]
METRIC_ID_PATTERN = r"^[a-z][a-z0-9_]*$"


class Direction(StrEnum):
    HIGHER = "higher_is_better"
    LOWER = "lower_is_better"
    BAND = "within_band"


class Band(Strict):
    """Lower and upper bound of a `within_band` threshold or target."""

    lower: float | None = None
    upper: float | None = None


class Thresholds(Strict):
    """Warning and critical levels; numbers, or bands for `within_band` metrics."""

    warning: float | Band | None = None
    critical: float | Band | None = None
    from_: dt.date | None = Field(None, alias="from", description="in force from this date")


class Baseline(Strict):
    value: float
    as_of: dt.date | None = None
    from_: dt.date | None = Field(None, alias="from", description="in force from this date")


class Target(Strict):
    """A target value (or band) and the date it should be reached by."""

    value: float | None = None
    lower: float | None = None
    upper: float | None = None
    by: dt.date | None = None
    from_: dt.date | None = Field(None, alias="from", description="in force from this date")

    @model_validator(mode="after")
    def _value_or_band(self) -> Target:
        if self.value is not None and (self.lower is not None or self.upper is not None):
            raise ValueError("give either `value` or `lower`/`upper`, not both")
        if self.value is None and self.lower is None and self.upper is None:
            raise ValueError("a target needs `value` (or `lower`/`upper` for a band)")
        return self


# `compute:` validates through the registry of compute models (spec/computes.py); a kind
# registered later (a plugin, a test) rebuilds MetricSpec, see `register_compute`.
if TYPE_CHECKING:
    Compute = ComputeSpec
else:
    Compute = compute_annotation()


class Override(Strict):
    """Target/thresholds/baseline/min_sample that apply to one segment, e.g. a BPO's SLA."""

    when: dict[str, Scalar | list[Scalar]]
    target: Target | None = None
    thresholds: Thresholds | None = None
    baseline: Baseline | None = None
    min_sample: int | None = Field(None, ge=0)


def entries_of(value: Any) -> list[Any]:
    """The entries of a possibly effective-dated level (one entry or a list), oldest first."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def in_force(entries: list[Any], day: dt.date) -> int:
    """The index of the entry in force on `day`: the last one undated or dated on or before
    it (the first when none is). `date.min` asks for the levels before any dated change,
    `date.max` for the current ones."""
    chosen = 0
    for index, entry in enumerate(entries):
        if entry.from_ is None or entry.from_ <= day:
            chosen = index
    return chosen


def _every_level() -> list[Level]:
    return list(Level)


JUDGED_AT_HELP = (
    "the organisational levels the metric is judged at (default: every level); records of "
    "a grouping at another level are computed and shown with status not_judged"
)


def _distinct_levels(levels: list[Level] | None) -> None:
    if levels is not None and len(set(levels)) != len(levels):
        raise ValueError("`judged_at`: name each level once")


Gate = bool | Literal["warning", "critical"]
ActionStatus = Literal["warning", "critical", "no_data", "insufficient_sample"]


class MetricSpec(Strict):
    """One metric file (or one item of a list of metrics)."""

    id: str = Field(pattern=METRIC_ID_PATTERN)
    name: str
    description: str = ""
    owner: Role | None = None
    roles: list[Role] = Field(default_factory=list)
    category: Literal["efficiency", "quality", "outcome", "volume", "technical"] | None = None
    unit: str = ""
    direction: Direction | None = None
    dataset: str | None = None
    time_column: str | None = None
    compute: Compute
    # one entry, or effective-dated entries (`from:`), so past periods keep their levels
    baseline: Baseline | list[Baseline] | None = None
    target: Target | list[Target] | None = None
    thresholds: Thresholds | list[Thresholds] | None = None
    min_sample: int = Field(0, ge=0)
    judged_at: list[Level] = Field(
        default_factory=_every_level, min_length=1, description=JUDGED_AT_HELP
    )
    cadence: Literal["daily", "weekly", "monthly"] | None = None
    parameters: dict[str, Scalar] = Field(default_factory=dict)
    aliases: list[str] = Field(default_factory=list)
    optional_columns: list[str] = Field(
        default_factory=list,
        description="columns read as empty when the export does not have them",
    )
    overrides: list[Override] = Field(default_factory=list)
    gate: Gate | None = Field(
        None,
        description="tpmkit check: false (informational), true (at --fail-on), warning or "
        "critical (fail from that status); default: true when the metric has thresholds",
    )
    actions: dict[ActionStatus, str] = Field(
        default_factory=dict,
        description="the playbook step per status: who does what (shown beside a breach)",
    )

    @model_validator(mode="after")
    def _dated_entries(self) -> MetricSpec:
        for name in ("baseline", "target", "thresholds"):
            entries = getattr(self, name)
            if not isinstance(entries, list):
                continue
            if not entries:
                raise ValueError(f"`{name}`: give at least one entry")
            dates = [e.from_ for e in entries]
            if any(d is None for d in dates[1:]):
                raise ValueError(f"`{name}`: every entry after the first needs `from:`")
            known = [d for d in dates if d is not None]
            if known != sorted(set(known)):
                raise ValueError(f"`{name}`: `from:` dates must increase")
        _distinct_levels(self.judged_at)
        return self

    def schedule(self, name: str) -> list[Any]:
        """The entries of `baseline`, `target` or `thresholds`, oldest first ([] if none)."""
        return entries_of(getattr(self, name))

    @property
    def current_target(self) -> Target | None:
        entries = self.schedule("target")
        return entries[-1] if entries else None

    @property
    def current_thresholds(self) -> Thresholds | None:
        entries = self.schedule("thresholds")
        return entries[-1] if entries else None

    @property
    def current_baseline(self) -> Baseline | None:
        entries = self.schedule("baseline")
        return entries[-1] if entries else None


def register_compute(model: type[ComputeSpec]) -> str:
    """Make `model` a valid `compute:` block (its `kind` its name); returns the kind name.
    The engine side of a kind registers itself in `tpmkit.engine.kinds`."""
    with _REBUILDING:
        known = COMPUTE_MODELS.get(kind_name(model)) is model
        name = add_model(model)
        if not known:  # the built-in kinds are in the union already
            _rebuild_metric_spec()
    return name


def unregister_compute(name: str) -> None:
    """Forget a registered compute kind (a test's toy kind, afterwards)."""
    with _REBUILDING:
        if COMPUTE_MODELS.pop(name, None) is not None:
            _rebuild_metric_spec()


# One registration at a time: the field swap and the validator rebuild belong together.
# (Registering is for start-up and tests, not for a metric file being read meanwhile.)
_REBUILDING = threading.Lock()


def _rebuild_metric_spec() -> None:
    # pydantic builds a model's validator once: swap in the new union and build it again;
    # if that fails, the previous union stays in force
    previous = MetricSpec.__pydantic_fields__["compute"]
    MetricSpec.__pydantic_fields__["compute"] = FieldInfo.from_annotation(compute_annotation())
    try:
        MetricSpec.model_rebuild(force=True)
    except Exception:
        MetricSpec.__pydantic_fields__["compute"] = previous
        MetricSpec.model_rebuild(force=True)
        raise


class MetricSettings(Strict):
    """A project's settings for a metric defined elsewhere (e.g. built in): parameters are
    merged, the other keys replace the definition's."""

    parameters: dict[str, Scalar] = Field(default_factory=dict)
    baseline: Baseline | list[Baseline] | None = None
    target: Target | list[Target] | None = None
    thresholds: Thresholds | list[Thresholds] | None = None
    min_sample: int | None = Field(None, ge=0)
    judged_at: list[Level] | None = Field(None, min_length=1, description=JUDGED_AT_HELP)
    cadence: Literal["daily", "weekly", "monthly"] | None = None
    owner: Role | None = None
    overrides: list[Override] | None = None
    gate: Gate | None = None
    actions: dict[ActionStatus, str] | None = None

    @model_validator(mode="after")
    def _levels_once(self) -> MetricSettings:
        _distinct_levels(self.judged_at)
        return self


class Source(Strict):
    """Where a dataset's export lives and how its columns map onto canonical names."""

    path: str = Field("", description="the export file(s), a path or glob")
    table: str | None = Field(
        None,
        description="a table of the project's `connection:` database (with engine: spark and "
        "no connection:, of the Spark session's catalog, e.g. main.contact_center.calls), "
        "instead of files",
    )
    format: Literal["csv", "parquet", "excel"] | None = None
    sheet: str | None = Field(None, description="excel: the worksheet (default: the first)")
    separator: str = Field(",", min_length=1, max_length=1, description="csv field separator")
    decimal_comma: bool = Field(
        False, description="numbers written 3,5 or 1.234,5 (European exports)"
    )
    booleans: Booleans | None = Field(
        None, description="the export's own words for true and false, e.g. {true: [Ja]}"
    )
    custom: bool = Field(
        False, description="a custom dataset, even though its name is close to a canonical one"
    )
    encoding: str = Field("utf-8", description="csv text encoding, e.g. cp1252 or latin-1")
    timestamp_format: str | None = Field(
        None, description="strftime format of the export's timestamps, e.g. %d.%m.%Y %H:%M"
    )
    union: Literal["strict", "by_name"] = Field(
        "strict", description="by_name: files of a glob may lack columns (read as empty)"
    )
    dedupe: Literal["error", "keep_last"] = Field(
        "error", description="keep_last: a repeated id keeps its last row (files in name order)"
    )
    columns: dict[str, str] = Field(
        default_factory=dict, description="export name -> canonical name"
    )
    derive: dict[str, str] = Field(
        default_factory=dict, description="canonical name -> SQL expression"
    )
    types: dict[str, ColumnType] = Field(default_factory=dict)
    time_column: str | None = None
    id_column: str | None = None
    # options of spec/sourceopts.py, applied by data/filters.py and data/clocks.py
    null_values: sourceopts.NullValues = Field(
        default_factory=list, description=sourceopts.NULL_VALUES_HELP
    )
    keep_rows: sourceopts.Condition | None = Field(None, description=sourceopts.KEEP_ROWS_HELP)
    clock_times: dict[str, sourceopts.ClockTime] = Field(
        default_factory=dict, description=sourceopts.CLOCK_TIMES_HELP
    )
    # judged by `check` (judge/sources.py): a stale or truncated export fails the gate
    freshness: sourcechecks.Freshness | None = Field(
        None, description="e.g. {max_age: 36h}: the latest row may be at most that old"
    )
    completeness: bool | sourcechecks.Completeness = Field(
        True, description="false, or {min_share: 0.6}: rows per day against earlier weeks"
    )

    # where each key of this source is written (file, line, column), set by the loader,
    # so a data error about the mapping can point at the line of tpmkit.yaml
    _written: dict[tuple[str, ...], tuple[str, int, int]] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _path_or_table(self) -> Source:
        if self.path and self.table:
            raise ValueError("a source has `path:` (export files) or `table:`, not both")
        if not self.path and not self.table:
            raise ValueError("a source needs either `path:` (export files) or `table:`")
        return self

    def written_at(self, *path: str) -> tuple[str | None, int | None, int | None]:
        """The file, line and column a key of this source is written at (or Nones)."""
        return self._written.get(path, (None, None, None))

    def remember(self, path: tuple[str, ...], where: tuple[str, int, int]) -> None:
        """Note where a key of this source is written (the loader calls this)."""
        self._written[path] = where


class ScorecardCategory(Strict):
    """A category of a scorecard: its weight and its metrics (weights, or a list for equal
    weights)."""

    weight: float = Field(gt=0)
    metrics: dict[str, float] | list[str]

    @model_validator(mode="after")
    def _metric_weights(self) -> ScorecardCategory:
        if isinstance(self.metrics, dict):
            total = sum(self.metrics.values())
            if abs(total - 100) > 1e-6:
                raise ValueError(f"metric weights must sum to 100, not {total:g}")
        if not self.metrics:
            raise ValueError("a category needs at least one metric")
        return self

    def weights(self) -> dict[str, float]:
        if isinstance(self.metrics, dict):
            return dict(self.metrics)
        return {m: 100 / len(self.metrics) for m in self.metrics}


class Scorecard(Strict):
    """Weighted categories; category weights sum to 100."""

    categories: dict[str, ScorecardCategory]

    @model_validator(mode="after")
    def _category_weights(self) -> Scorecard:
        total = sum(c.weight for c in self.categories.values())
        if abs(total - 100) > 1e-6:
            raise ValueError(f"category weights must sum to 100, not {total:g}")
        return self

    def weights(self) -> dict[str, float]:
        """Each metric's share of the whole score (percent)."""
        return {
            metric: category.weight * share / 100
            for category in self.categories.values()
            for metric, share in category.weights().items()
        }


DEFAULT_SCORECARDS = {
    "agent": {
        "categories": {
            "quality": {"weight": 60, "metrics": ["csat", "qa_score", "fcr"]},
            "efficiency": {
                "weight": 40,
                "metrics": ["aht", "schedule_adherence", "contacts_handled"],
            },
        }
    }
}


class Goal(Strict):
    """An individual goal (performance improvement plan): one agent, one metric, from a
    value to a target between two dates."""

    agent: str
    metric: str
    from_value: float = Field(alias="from")
    target: float
    start: dt.date
    due: dt.date
    note: str = ""

    @model_validator(mode="after")
    def _dates(self) -> Goal:
        if self.due <= self.start:
            raise ValueError("`due` must be after `start`")
        return self


class ExplainSettings(Strict):
    """`tpmkit explain`: the project's own dimensions, searched beside the built-in ones."""

    dimensions: list[str] = Field(
        default_factory=list,
        description="columns to split a change by, beside vendor, site, team, queue, channel, "
        "line_of_business, tenure_band and agent_id",
    )


class NotifyTarget(Strict):
    """One place `check` and `report` send their outcome to (docs/notifications.md)."""

    url: str = Field(
        description="an Apprise URL (json://, mailto://, slack://, msteams://, ntfy:// …); "
        "${VAR} is replaced by the environment variable VAR (keep secrets there)"
    )
    roles: list[Role] = Field(
        default_factory=list, description="only the metrics of these roles' views"
    )
    metrics: list[str] = Field(default_factory=list, description="only these metrics")


class ProjectSpec(Strict):
    """The project file, `tpmkit.yaml`."""

    name: str
    timezone: str = "UTC"
    currency: str | None = None
    metrics: list[str] = Field(default_factory=lambda: ["builtin"])
    sources: dict[str, Source] = Field(default_factory=dict)
    customize: dict[str, MetricSettings] = Field(
        default_factory=dict,
        description="per metric id: parameters and levels replacing the definition's",
    )
    goals: list[Goal] = Field(
        default_factory=list, description="individual goals (performance improvement plans)"
    )
    scorecards: dict[Role, Scorecard] = Field(
        default_factory=dict,
        description="per role: weighted categories of metrics (default for agents: quality 60, "
        "efficiency 40)",
    )
    history: str = ".tpmkit/history"
    cache: str | Literal[False] = Field(
        default=".tpmkit/cache",
        description="folder for CSV exports converted to Parquet (false: no cache)",
    )
    explain: ExplainSettings = Field(
        default_factory=ExplainSettings, description="tpmkit explain: extra dimensions"
    )
    notify: list[NotifyTarget] = Field(
        default_factory=list, description="where check and report send their outcome"
    )
    notify_on: Literal["breach", "change", "always"] = Field(
        default="change",
        description="when to send: on a breach, when a status changed since the last recorded "
        "run of the same command and scope, or always",
    )
    engine: EngineName = Field("polars", description=ENGINE_HELP)
    connection: str | None = Field(None, description=CONNECTION_HELP)
    spark: SparkSettings = Field(default_factory=SparkSettings)

    @field_validator("connection")
    @classmethod
    def _no_password(cls, connection: str | None) -> str | None:
        return without_password(connection)
