"""`formula`: arithmetic over other metric ids, joined on period and group.

A formula's cells are its inputs' cells outer-joined on period and group; its value is
the expression over their values. A formula shaped `a / b` (each side possibly multiplied
or divided by numbers, e.g. `3600 * handled / logged_in`) carries a's value, b's value and
the constant factor as its components; any other formula carries none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import polars as pl

from tpmkit.engine.in_force import choose_override, override_condition
from tpmkit.engine.kinds.base import Kind, Plan, issue
from tpmkit.engine.kinds.registry import kind_of
from tpmkit.engine.kinds.rows import component_columns
from tpmkit.engine.window import START, finite
from tpmkit.errors import Issue, did_you_mean
from tpmkit.spec import expressions
from tpmkit.spec.computes import FormulaCompute
from tpmkit.spec.fields import Params
from tpmkit.spec.loader import Definitions, MetricDef
from tpmkit.spec.models import MetricSpec

SEGMENT = "__seg"  # prefix of the flag columns telling a cell is in an override segment


class Formula(Kind[FormulaCompute]):
    """Combines the cells of other metrics (plan "metrics"); reads no dataset."""

    name = "formula"
    model = FormulaCompute
    plan: ClassVar[Plan] = "metrics"
    expression_fields = ()

    def inputs(self, compute: FormulaCompute, params: Params) -> list[str]:
        text = expressions.substitute(compute.expr, params)
        return list(expressions.parse(text).columns)

    def check(
        self, compute: FormulaCompute, metric: MetricDef, project: Definitions
    ) -> list[Issue]:
        issues: list[Issue] = []
        parsed = _parsed(compute, metric, issues)
        if parsed is None:
            return issues
        for name in parsed.columns:
            if name not in project.metrics and name not in project.aliases:
                issues.append(
                    metric.doc.issue(
                        (*metric.path, "compute", "expr"),
                        f"unknown metric id `{name}` in formula",
                        offset=expressions.offset_of(name, compute.expr),
                        hint=did_you_mean(name, project.metrics)
                        or "formulas refer to other metric ids",
                    )
                )
        if compute.n_from is not None and compute.n_from not in parsed.columns:
            issues.append(
                issue(
                    metric,
                    ("n_from",),
                    f"`n_from: {compute.n_from}` is not used in the formula",
                    hint="name one of: " + ", ".join(parsed.columns),
                )
            )
        return issues

    def combine(
        self,
        compute: FormulaCompute,
        spec: MetricSpec,
        cells: Mapping[str, pl.DataFrame],
        specs: Mapping[str, MetricSpec],
        by: list[str],
        aliases: Mapping[str, str],
    ) -> pl.DataFrame:
        """Cells of a formula metric: its inputs outer-joined on period and group."""
        text = expressions.substitute(compute.expr, spec.parameters)
        names = [(n, aliases.get(n, n)) for n in expressions.parse(text).columns]
        keys = [START, *by]
        joined: pl.DataFrame | None = None
        flag_inputs: dict[str, list[str]] = {}
        for name, metric_id in names:
            flags = [c for c in cells[metric_id].columns if c.startswith(SEGMENT)]
            for flag in flags:
                flag_inputs.setdefault(flag, []).append(f"{flag}\x01{name}")
            part = cells[metric_id].select(
                *keys,
                "__first",
                "__last",
                pl.col("value").alias(name),
                pl.col("n").alias(f"{name}\x00n"),
                *(pl.col(flag).alias(f"{flag}\x01{name}") for flag in flags),
            )
            if joined is None:
                joined = part
                continue
            joined = (
                joined.join(part, on=keys, how="full", coalesce=True, nulls_equal=True)
                .with_columns(
                    pl.min_horizontal("__first", "__first_right").alias("__first"),
                    pl.max_horizontal("__last", "__last_right").alias("__last"),
                )
                .drop("__first_right", "__last_right")
            )
        assert joined is not None
        for name, metric_id in names:  # a missing count is 0, a missing sum or mean unknown
            if kind_of(specs[metric_id].compute).missing_is_zero:
                joined = joined.with_columns(pl.col(name).fill_null(0.0))
            joined = joined.with_columns(pl.col(f"{name}\x00n").fill_null(0))
        result = expressions.to_polars(text)
        n_name = compute.n_from or names[0][0]
        # a segment flag holds for the formula's cell when it holds for every input cell
        combined = {
            flag: (pl.min_horizontal(pl.col(c).cast(pl.Int8) for c in columns).fill_null(0) == 1)
            for flag, columns in flag_inputs.items()
        }
        conditions = []
        for index, segment in enumerate(spec.overrides):
            flag = f"{SEGMENT}\x00{spec.id}\x00{index}"
            if set(segment.when) <= set(by):
                conditions.append((index, override_condition(segment)))
            elif flag in combined:
                conditions.append((index, combined[flag]))
        override = choose_override(conditions)
        value = finite(result.cast(pl.Float64))
        return joined.select(
            pl.lit(spec.id).alias("metric"),
            *keys,
            "__first",
            "__last",
            value.alias("value"),
            pl.col(f"{n_name}\x00n").cast(pl.Int64).alias("n"),
            override.alias("override"),
            *_components(expressions.quotient(text), value),
            *(applies.alias(flag) for flag, applies in combined.items()),  # for outer formulas
        )

    def describe(self, compute: FormulaCompute) -> str:
        n = f"; n from `{compute.n_from}`" if compute.n_from else ""
        return f"`{compute.expr}` from other metrics, joined on period and group{n}"


def _components(shape: expressions.Quotient | None, value: pl.Expr) -> list[pl.Expr]:
    """numerator, denominator and scale of a quotient-shaped formula (null without a
    value, and for any other shape)."""
    if shape is None:
        return component_columns((None, None, None), value)
    return component_columns(
        (pl.col(shape.numerator), pl.col(shape.denominator), shape.scale), value
    )


def _parsed(
    compute: FormulaCompute, metric: MetricDef, issues: list[Issue]
) -> expressions.ParsedExpression | None:
    """The parsed formula, or None with the located problem added to `issues`."""
    from tpmkit.engine.kinds.checks import parse_located

    return parse_located(compute.expr, metric, ("expr",), issues)
