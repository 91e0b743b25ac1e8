"""The `compute:` block of a metric: one pydantic model per computation kind, and the
registry of those models by kind name (the engine keeps each kind's behaviour in a module
of its own, see `tpmkit.engine.kinds`; this package never imports the engine)."""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from tpmkit.spec.base import Strict


class ComputeSpec(Strict):
    """Base of every compute model: a subclass declares `kind: Literal["its-name"]`."""

    if TYPE_CHECKING:
        kind: str


class Censor(Strict):
    """Drop rows whose `column` lies after the data horizon (not yet observable)."""

    column: str
    horizon: list[str] = Field(
        min_length=1, description="the horizon is the latest value of these columns"
    )


class _Rows(ComputeSpec):
    where: str | None = Field(None, description="SQL condition selecting the rows (default: all)")
    censor: Censor | None = None


class CountCompute(_Rows):
    """Number of rows (matching `where`)."""

    kind: Literal["count"]


class SumCompute(_Rows):
    """Sum of `expr` over rows; nulls count as 0."""

    kind: Literal["sum"]
    expr: str


class MeanCompute(_Rows):
    """Mean of `expr` over rows where it is not null."""

    kind: Literal["mean"]
    expr: str


class MedianCompute(_Rows):
    """Median of `expr` over rows where it is not null."""

    kind: Literal["median"]
    expr: str


class PercentileCompute(_Rows):
    """p-th percentile (linear interpolation) of `expr`."""

    kind: Literal["percentile"]
    expr: str
    p: float = Field(gt=0, le=100)


class RatioCompute(_Rows):
    """Share of rows where `numerator` holds among `where` rows (null numerator: row left out)."""

    kind: Literal["ratio"]
    numerator: str
    scale: float = 100.0


class RatioOfSumsCompute(_Rows):
    """sum(numerator) / sum(denominator) over rows; nulls add 0, a zero denominator is no data."""

    kind: Literal["ratio_of_sums"]
    numerator: str
    denominator: str
    scale: float = 100.0


class StatisticCompute(_Rows):
    """A statistic of `expr` chosen by name: mean, median or pNN (e.g. p90); the name may be
    a `{parameter}` so a project can switch it."""

    kind: Literal["statistic"]
    expr: str
    statistic: str


class NoRepeatCompute(_Rows):
    """Share of `where` rows with no later row of the same `key` within `window_days`
    (any row of the dataset counts as a repeat; rows at the same instant do not). Rows
    whose window ends after the latest time in the dataset are left out (not observable)."""

    kind: Literal["no_repeat_within"]
    key: str
    window_days: float | str
    scale: float = 100.0


class OpenAtEndCompute(ComputeSpec):
    """A stock: rows opened before the period's end and not closed by then. Emitted for
    every period from the first opening to the last period ending by the data horizon,
    and for every group, including 0."""

    kind: Literal["open_at_period_end"]
    opened: str
    closed: str
    horizon: list[str] = Field(min_length=1)
    where: str | None = None


class RosterCompute(ComputeSpec):
    """A workforce measure of the roster on each period's own days (kpi-catalogue.md,
    "workforce"): `headcount` on the period's last day, annualised `attrition`, or
    `early_attrition` (leavers within `early_days` of their hire over the hires whose first
    `early_days` overlap the period). Emitted for every period from the first hire to the
    latest hire or leave date (or the selected range's end), for every group, including 0."""

    kind: Literal["roster"]
    measure: Literal["headcount", "attrition", "early_attrition"]
    hired: str = "hire_date"
    left: str = "leave_date"
    early_days: int = Field(90, ge=1)
    where: str | None = Field(None, description="SQL condition selecting roster rows")


class ProficiencyCompute(ComputeSpec):
    """Time to proficiency (kpi-catalogue.md, "workforce"): per agent hired in the data
    range, the weeks from `hired` to the end of the first ISO week with at least
    `min_contacts` `where` rows whose mean `expr` is at or below (`direction: lower`) the
    median of that week's per-agent means in the agent's `team`; the Kaplan–Meier median
    over the agents hired in the period, those not yet proficient censored at the end of
    their last week with data; no value when half or more are censored."""

    kind: Literal["time_to_proficiency"]
    expr: str
    where: str | None = None
    at: str = Field(description="the time column that places rows in weeks")
    hired: str = "hire_date"
    agent: str = "agent_id"
    team: str = "team"
    min_contacts: int = Field(30, ge=1)
    better: Literal["lower", "higher"] = "lower"


class DeviationCompute(_Rows):
    """Mean absolute deviation of `expr` from its `group` mean (e.g. a calibration session),
    over groups with at least `min_group_size` values; group means use the whole dataset."""

    kind: Literal["deviation_from_group_mean"]
    expr: str
    group: str
    min_group_size: int = Field(2, ge=1)


class FormulaCompute(ComputeSpec):
    """Arithmetic over other metric ids, joined on period and group."""

    kind: Literal["formula"]
    expr: str
    n_from: str | None = Field(
        None, description="metric id whose n is reported (default: first in expr)"
    )


COMPUTE_MODELS: dict[str, type[ComputeSpec]] = {}


def kind_name(model: type[ComputeSpec]) -> str:
    """The kind a compute model is for: the single value its `kind` field admits."""
    field = model.model_fields.get("kind")
    names = typing.get_args(field.annotation) if field else ()
    if len(names) != 1 or not isinstance(names[0], str):
        raise TypeError(f'{model.__name__} needs a field `kind: Literal["name"]`')
    return str(names[0])


def add_model(model: type[ComputeSpec]) -> str:
    """Put a compute model in the registry (a kind may be registered once); its name."""
    name = kind_name(model)
    if name in COMPUTE_MODELS and COMPUTE_MODELS[name] is not model:
        raise ValueError(f"compute kind `{name}` is already registered")
    COMPUTE_MODELS[name] = model
    return name


def compute_annotation() -> Any:
    """The discriminated union of every registered compute model (the type of `compute:`)."""
    from typing import Annotated, Union

    return Annotated[Union[tuple(COMPUTE_MODELS.values())], Field(discriminator="kind")]  # noqa: UP007


for _model in (
    CountCompute,
    SumCompute,
    MeanCompute,
    MedianCompute,
    PercentileCompute,
    RatioCompute,
    RatioOfSumsCompute,
    StatisticCompute,
    NoRepeatCompute,
    OpenAtEndCompute,
    RosterCompute,
    ProficiencyCompute,
    DeviationCompute,
    FormulaCompute,
):
    add_model(_model)
