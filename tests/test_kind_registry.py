"""A computation kind added from outside the package: one model plus one engine module.
(Named `toy_max` so that following docs/contributing.md, which adds `max` as a built-in,
does not collide with it.)"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Literal

import polars as pl
import pytest

from conftest import by_key, evaluate_records
from tpmkit import project as api
from tpmkit.engine.kinds import KINDS, Kind, kind_of, register, unregister
from tpmkit.engine.kinds.base import over_rows
from tpmkit.engine.kinds.rows import Aggregation, Parts, mask, only, row_expr
from tpmkit.errors import DefinitionError
from tpmkit.render.describe import describe_compute
from tpmkit.spec.computes import ComputeSpec
from tpmkit.spec.fields import Params
from tpmkit.spec.schema import schema_text


class MaxCompute(ComputeSpec):
    """The maximum of `expr` over `where` rows."""

    kind: Literal["toy_max"]
    expr: str
    where: str | None = None


class Max(Kind[MaxCompute]):
    """No components: a maximum is not a quotient."""

    name = "toy_max"
    model = MaxCompute
    expression_fields = ("where", "expr")

    def aggregation(
        self, compute: MaxCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        values = row_expr(compute.expr, params).cast(pl.Float64)
        values = parts.row("values", only(mask(compute.where, params), values))
        return parts.done(parts.agg("max", values.max()), parts.agg("count", values.count()))

    def describe(self, compute: MaxCompute) -> str:
        return f"maximum of `{compute.expr}`{over_rows(compute)}"


PROJECT = """
name: Toy kind
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""
CALLS = """
contact_id,offered_at,answered,wait_seconds
c1,2026-01-05 09:00:00,true,10
c2,2026-01-06 10:00:00,true,45
c3,2026-01-07 11:00:00,false,90
c4,2026-01-13 11:00:00,true,
c5,2026-01-14 11:00:00,true,20
"""
LONGEST = """
id: longest_wait
name: Longest answered wait
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: toy_max, expr: wait_seconds, where: answered}
"""


@pytest.fixture
def max_kind() -> Iterator[None]:
    before = schema_text("metric")
    register(Max())
    yield
    unregister("toy_max")
    assert schema_text("metric") == before  # other tests see the package's kinds only


def test_a_toy_kind_evaluates(make, max_kind):
    path = make.project(PROJECT, metrics={"longest_wait": LONGEST}, files={"calls.csv": CALLS})
    index = by_key(evaluate_records(path))
    w02, w03 = index[("longest_wait", "2026-W02")], index[("longest_wait", "2026-W03")]
    assert (w02["value"], w02["n"]) == (45.0, 2)  # c3 is not answered
    assert (w03["value"], w03["n"]) == (20.0, 1)  # c4's wait is empty
    assert (w02["numerator"], w02["denominator"], w02["scale"]) == (None, None, None)
    metric = api.load(path).metrics["longest_wait"]
    assert kind_of(metric.spec.compute) is KINDS["toy_max"]
    assert describe_compute(metric.spec) == "maximum of `wait_seconds` over rows where `answered`"


def test_a_toy_kind_is_checked_and_in_the_schema(make, max_kind):
    bad = LONGEST.replace("expr: wait_seconds", "expr: wait_secs")
    path = make.project(PROJECT, metrics={"longest_wait": bad}, files={"calls.csv": CALLS})
    with pytest.raises(DefinitionError) as caught:
        api.load(path)
    [issue] = caught.value.issues
    assert "unknown column `wait_secs`" in issue.message
    assert (issue.file.endswith("longest_wait.yaml"), issue.line) == (True, 6)
    assert "wait_seconds" in (issue.hint or "")
    schema = json.loads(schema_text("metric"))
    assert "MaxCompute" in schema["$defs"]
    assert (
        schema["$defs"]["MetricSpec"]["properties"]["compute"]["discriminator"]["mapping"][
            "toy_max"
        ]
        == "#/$defs/MaxCompute"
    )


def test_a_misspelt_kind_suggests_the_registered_one(make, max_kind):
    typo = LONGEST.replace("kind: toy_max", "kind: toy_maxx")
    path = make.project(PROJECT, metrics={"longest_wait": typo}, files={"calls.csv": CALLS})
    with pytest.raises(DefinitionError) as caught:
        api.load(path)
    [issue] = caught.value.issues
    assert issue.message == "unknown compute kind `toy_maxx`"
    assert issue.hint == "did you mean `toy_max`?"
    assert issue.line == 6


def test_without_registration_the_kind_is_unknown(make):
    path = make.project(PROJECT, metrics={"longest_wait": LONGEST}, files={"calls.csv": CALLS})
    with pytest.raises(DefinitionError) as caught:
        api.load(path)
    assert [i.message for i in caught.value.issues] == ["unknown compute kind `toy_max`"]
    assert "toy_max" not in KINDS


@pytest.mark.parametrize("registered", [False, True])
def test_a_bad_key_in_a_compute_block_is_located(make, registered):
    if registered:  # the union rebuilt with a kind more keeps the located, suggested errors
        register(Max())
    try:
        typo = LONGEST.replace("kind: toy_max, expr:", "kind: ratio, numeratr:")
        path = make.project(PROJECT, metrics={"m": typo}, files={"calls.csv": CALLS})
        with pytest.raises(DefinitionError) as caught:
            api.load(path)
    finally:
        if registered:
            unregister("toy_max")
    unknown = [i for i in caught.value.issues if i.message == "unknown key `numeratr`"]
    assert [(i.line, i.hint) for i in unknown] == [(6, "did you mean `numerator`?")]


class Misnamed(Max):
    """Its name disagrees with its model's `kind`."""

    name = "biggest"


def test_a_refused_kind_leaves_both_registries_as_they_were():
    from tpmkit.spec.computes import COMPUTE_MODELS

    before = schema_text("metric")
    with pytest.raises(ValueError, match="its model's kind `toy_max`"):
        register(Misnamed())
    assert "toy_max" not in COMPUTE_MODELS and "biggest" not in COMPUTE_MODELS
    assert "toy_max" not in KINDS and "biggest" not in KINDS
    assert schema_text("metric") == before


def test_the_two_registries_name_the_same_kinds():
    from tpmkit.spec.computes import COMPUTE_MODELS

    assert set(COMPUTE_MODELS) == set(KINDS)
    assert all(KINDS[name].model is COMPUTE_MODELS[name] for name in KINDS)


class Share(Kind[MaxCompute]):
    """A kind whose scale is a whole number (100, not 100.0): answered share of rows."""

    name = "toy_max"
    model = MaxCompute
    expression_fields = ("where", "expr")

    def aggregation(
        self, compute: MaxCompute, params: Params, metric_id: str, time_column: str
    ) -> Aggregation:
        parts = Parts(metric_id)
        hits = parts.count("hits", mask(compute.where, params))
        size = parts.count("size", None)
        value = hits.cast(pl.Float64) * 100 / size
        return parts.done(value, size, components=(hits, size, 100))

    def describe(self, compute: MaxCompute) -> str:
        return f"percent of rows where `{compute.where}`"


def test_a_whole_number_scale_is_a_component(make):
    register(Share())
    try:
        path = make.project(PROJECT, metrics={"longest_wait": LONGEST}, files={"calls.csv": CALLS})
        index = by_key(evaluate_records(path))
    finally:
        unregister("toy_max")
    w02 = index[("longest_wait", "2026-W02")]  # c1 and c2 answered of c1, c2, c3
    assert (w02["numerator"], w02["denominator"], w02["scale"]) == (2.0, 3.0, 100.0)
    assert w02["value"] == pytest.approx(200 / 3)
