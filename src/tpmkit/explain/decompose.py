"""The arithmetic of an explanation: a metric's change between two periods split over the
segments of a grouping, from the records' additive components alone (docs/explain.md).

For a ratio or mean with segment weights w (share of the denominator) and values r, R the
earlier overall value:  change = Σ (w' − w)·(r − R) [mix] + Σ w'·(r' − r) [rate]; a segment
present in one period only adds (w' − w)·(r − R) with the value r it has there. Counts,
sums and stocks split by segment difference. A formula `a / b` of additive inputs splits as
scale·[(a' − a) ÷ b' + a·(1 ÷ b' − 1 ÷ b)], each input by segment. Anything else (median,
percentile, other formulas, the calibration deviation) shows each segment's own shift,
which does not add up. Vectorised in polars over the segments: no loop over rows."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from tpmkit.errors import Issue, UsageError
from tpmkit.explain.model import EFFECTS, Decomposition, Method, Segment
from tpmkit.spec import expressions
from tpmkit.spec.models import MetricSpec

WEIGHTED = ("ratio", "mean", "ratio_of_sums", "no_repeat_within", "statistic")
DIFFERENCES = ("count", "sum", "open_at_period_end")  # add up across groups
_PARTS = ("numerator", "denominator", "scale", "value", "n")
RELATIVE = 1e-9  # how closely contributions must add up to the change
UNASSIGNED = "unassigned"  # a null segment value: the rows no dimension reaches (as shown)


# values that do not say what they are ("91-180") are named with their dimension
NAMED = {"tenure_band": "tenure {} days"}


def _label(value: Any, column: str = "") -> str:
    if value is None:
        return UNASSIGNED
    return NAMED.get(column, "{}").format(value)


def method_of(spec: MetricSpec, records: pl.DataFrame, specs: Mapping[str, MetricSpec]) -> Method:
    """How the metric's change splits: from its kind, its components and, for a formula,
    its shape and its inputs' kinds."""
    kind = spec.compute.kind
    if kind in DIFFERENCES or _headcount(spec):
        return "difference"
    if kind == "formula":
        return "quotient" if quotient_inputs(spec, specs) else "own_shift"
    if kind in WEIGHTED:
        present = records.filter(pl.col("value").is_not_null())
        has_parts = present.height > 0 and (
            present.select(pl.col("numerator").is_not_null() & pl.col("denominator").is_not_null())
            .to_series()
            .all()
        )
        return "mix_rate" if has_parts else "own_shift"  # a statistic's median has no parts
    return "own_shift"


def _headcount(spec: MetricSpec) -> bool:
    """A roster headcount: people on the period's last day, which add up across teams and
    tenure bands like a count."""
    return spec.compute.kind == "roster" and getattr(spec.compute, "measure", None) == "headcount"


def quotient_inputs(spec: MetricSpec, specs: Mapping[str, MetricSpec]) -> tuple[str, str] | None:
    """A formula `a / b` whose inputs both add up across groups (counts, sums, stocks): the
    ids of a and b; None for any other formula, or when an input's definition is unknown."""
    text = getattr(spec.compute, "expr", None)
    if not isinstance(text, str):
        return None
    shape = expressions.quotient(expressions.substitute(text, spec.parameters))
    if shape is None:
        return None
    aliases = {alias: s.id for s in specs.values() for alias in s.aliases}
    found = []
    for name in (shape.numerator, shape.denominator):
        metric = specs.get(aliases.get(name, name))
        if metric is None or metric.compute.kind not in DIFFERENCES:
            return None
        found.append(metric.id)
    return found[0], found[1]


def decompose(
    records: pl.DataFrame,
    spec: MetricSpec,
    dimensions: Sequence[str],
    before: str,
    after: str,
    *,
    specs: Mapping[str, MetricSpec] | None = None,
    within: Mapping[str, Any] | None = None,
    totals: tuple[float | None, float | None] | None = None,
    name: str | None = None,
) -> Decomposition:
    """Split the change of `spec`'s metric from period `before` to period `after` over the
    segments of `dimensions` (columns of `records`, an evaluation's records grouped by at
    least them). `within` keeps the records of one segment of a coarser grouping (a drill
    step); `totals` are the overall values of the two periods (the operation's records),
    needed for the own shift of an order statistic and compared with the segments' sum."""
    dims = list(dimensions)
    missing = [c for c in [*dims, *(within or {})] if c not in records.columns]
    if missing:
        raise UsageError(
            f"by {missing[0]}: the records are not grouped by `{missing[0]}`",
            [Issue("evaluate grouped by the dimension to explain", severity="hint")],
        )
    frame = records.filter(pl.col("metric") == spec.id)
    for column, value in (within or {}).items():
        frame = frame.filter(pl.col(column).eq_missing(pl.lit(value)))
    both = frame.filter(pl.col("period").is_in([before, after]))
    if dims and both.select(pl.struct("period", *dims).is_duplicated().any()).item():
        raise UsageError(
            f"the records have several groups per {' / '.join(dims)} and period: they are "
            "grouped by more columns",
            [Issue("name every grouping column, or fix the others with within", severity="hint")],
        )
    method = method_of(spec, both, specs or {spec.id: spec})
    joined = _joined(both, dims, before, after)
    if method == "mix_rate":
        table, first, last = _mix_rate(joined)
    elif method == "difference":
        table, first, last = _difference(joined)
    elif method == "quotient":
        table, first, last = _quotient(joined)
    else:
        table, first, last = _own_shift(joined, totals)
    if method != "own_shift" and (first is None or last is None):
        empty = before if first is None else after
        raise UsageError(
            f"`{spec.id}` has no value in {empty}: there is no change to explain",
            [Issue("choose other periods with at and vs", severity="hint")],
        )
    notes = _coverage(method, first, last, totals)
    if "tenure_band" in dims and _headcount(spec):
        notes.append(
            "people move from band to band as they serve: a band's change is its joiners "
            "and leavers and the people who moved into or out of it, not only leavers"
        )
    segments = _segments(table, dims, method, spec.min_sample)
    inputs = quotient_inputs(spec, specs or {}) if method == "quotient" else None
    return Decomposition(
        metric=spec.id,
        name=name or spec.name,
        unit=spec.unit,
        kind=spec.compute.kind,
        method=method,
        dimensions=tuple(dims),
        before_period=before,
        after_period=after,
        before=first,
        after=last,
        segments=segments,
        min_sample=spec.min_sample,
        within=dict(within or {}),
        inputs=inputs or (),
        notes=notes,
    )


def _joined(frame: pl.DataFrame, dims: list[str], before: str, after: str) -> pl.DataFrame:
    """One row per segment: each period's components side by side (suffix _0 earlier, _1
    later); a segment with no value in a period has nulls there."""
    keys = dims or ["__all"]
    if not dims:
        frame = frame.with_columns(pl.lit("all").alias("__all"))

    def side(label: str, suffix: str) -> pl.DataFrame:
        rows = frame.filter((pl.col("period") == label) & pl.col("value").is_not_null())
        return rows.select(
            *keys, *(pl.col(c).cast(pl.Float64).alias(f"{c}{suffix}") for c in _PARTS)
        )

    joined = side(before, "_0").join(
        side(after, "_1"), on=keys, how="full", coalesce=True, nulls_equal=True
    )
    return joined.with_columns(
        pl.col("^n_[01]$").fill_null(0),
        pl.coalesce("scale_0", "scale_1").alias("scale"),
    )


def _mix_rate(joined: pl.DataFrame) -> tuple[pl.DataFrame, float | None, float | None]:
    """(w' − w)·(r − R) and w'·(r' − r) per segment: weights from the denominators."""
    present = [
        pl.col(f"value_{i}").is_not_null() & (pl.col(f"denominator_{i}") > 0) for i in (0, 1)
    ]
    table = joined.with_columns(
        *(
            pl.when(present[i]).then(pl.col(f"{part}_{i}")).otherwise(0.0).alias(f"{part}_{i}")
            for i in (0, 1)
            for part in ("numerator", "denominator")
        ),
        *(
            pl.when(present[i])
            .then(pl.col(f"numerator_{i}") / pl.col(f"denominator_{i}") * pl.col("scale"))
            .alias(f"r_{i}")
            for i in (0, 1)
        ),
    )
    sums = table.select(
        pl.col("numerator_0", "denominator_0", "numerator_1", "denominator_1").sum(),
        pl.col("scale").drop_nulls().first(),
    ).row(0, named=True)
    scale = sums["scale"] if sums["scale"] is not None else 1.0
    first = _quotient_of(sums["numerator_0"], sums["denominator_0"], scale)
    last = _quotient_of(sums["numerator_1"], sums["denominator_1"], scale)
    if first is None or last is None:
        return table, first, last
    table = table.with_columns(
        (pl.col("denominator_0") / sums["denominator_0"]).alias("w_0"),
        (pl.col("denominator_1") / sums["denominator_1"]).alias("w_1"),
    ).with_columns(
        ((pl.col("w_1") - pl.col("w_0")) * (pl.coalesce("r_0", "r_1") - first)).alias("mix"),
        pl.when(pl.col("r_0").is_not_null() & pl.col("r_1").is_not_null())
        .then(pl.col("w_1") * (pl.col("r_1") - pl.col("r_0")))
        .otherwise(0.0)
        .alias("rate"),
    )
    return table, first, last


def _difference(joined: pl.DataFrame) -> tuple[pl.DataFrame, float | None, float | None]:
    """Each segment's own difference (a segment absent in a period counts 0 there)."""
    if joined.is_empty():
        return joined, None, None
    first = math.fsum(joined.get_column("value_0").fill_null(0.0).to_list())
    last = math.fsum(joined.get_column("value_1").fill_null(0.0).to_list())
    table = joined.with_columns(
        pl.col("value_0").alias("r_0"),
        pl.col("value_1").alias("r_1"),
        # the segment's share of the total (none when the total is 0)
        (pl.col("value_0").fill_null(0.0) / first if first else pl.lit(None))
        .cast(pl.Float64)
        .alias("w_0"),
        (pl.col("value_1").fill_null(0.0) / last if last else pl.lit(None))
        .cast(pl.Float64)
        .alias("w_1"),
        (pl.col("value_1").fill_null(0.0) - pl.col("value_0").fill_null(0.0)).alias("change"),
    )
    return table, first, last


def _quotient(joined: pl.DataFrame) -> tuple[pl.DataFrame, float | None, float | None]:
    """scale·(a' − a) ÷ B' [numerator] and −scale·A·(b' − b) ÷ (B·B') [denominator] per
    segment, A and B the inputs' totals: they add up to scale·(A' ÷ B' − A ÷ B)."""
    table = joined.with_columns(
        *(
            pl.col(f"{part}_{i}").fill_null(0.0).alias(f"{part}_{i}")
            for i in (0, 1)
            for part in ("numerator", "denominator")
        ),
        pl.col("value_0").alias("r_0"),
        pl.col("value_1").alias("r_1"),
    )
    sums = table.select(
        pl.col("numerator_0", "denominator_0", "numerator_1", "denominator_1").sum(),
        pl.col("scale").drop_nulls().first(),
    ).row(0, named=True)
    scale = sums["scale"] if sums["scale"] is not None else 1.0
    a0, b0, a1, b1 = (
        sums[c] for c in ("numerator_0", "denominator_0", "numerator_1", "denominator_1")
    )
    first, last = _quotient_of(a0, b0, scale), _quotient_of(a1, b1, scale)
    if first is None or last is None:
        return table, first, last
    table = table.with_columns(
        (pl.col("denominator_0") / b0).alias("w_0"),
        (pl.col("denominator_1") / b1).alias("w_1"),
        (scale * (pl.col("numerator_1") - pl.col("numerator_0")) / b1).alias("numerator"),
        (-scale * a0 * (pl.col("denominator_1") - pl.col("denominator_0")) / (b0 * b1)).alias(
            "denominator"
        ),
    )
    return table, first, last


def _own_shift(
    joined: pl.DataFrame, totals: tuple[float | None, float | None] | None
) -> tuple[pl.DataFrame, float | None, float | None]:
    """Each segment's own shift r' − r (0 for a segment in one period only)."""
    table = joined.with_columns(
        pl.col("value_0").alias("r_0"),
        pl.col("value_1").alias("r_1"),
        pl.lit(None, dtype=pl.Float64).alias("w_0"),
        pl.lit(None, dtype=pl.Float64).alias("w_1"),
        (pl.col("value_1") - pl.col("value_0")).fill_null(0.0).alias("shift"),
    )
    first, last = totals if totals is not None else (None, None)
    return table, first, last


def _quotient_of(top: float | None, bottom: float | None, scale: float) -> float | None:
    if top is None or not bottom:
        return None
    return float(top) / float(bottom) * scale


def _coverage(
    method: Method,
    first: float | None,
    last: float | None,
    totals: tuple[float | None, float | None] | None,
) -> list[str]:
    """A note when the segments' overall value differs from the metric's own (the segments
    do not cover the same rows): the contributions then add up to the segments' change."""
    if method == "own_shift" or totals is None:
        return []
    notes = []
    for mine, theirs, which in ((first, totals[0], "earlier"), (last, totals[1], "later")):
        if mine is None or theirs is None:
            continue
        if not math.isclose(mine, theirs, rel_tol=RELATIVE, abs_tol=RELATIVE):
            notes.append(
                f"the segments' {which} value {mine:.6g} differs from the metric's "
                f"{theirs:.6g}: some rows are in no segment, or an input's cell has no value"
            )
    return notes


def _segments(
    table: pl.DataFrame, dims: list[str], method: Method, min_sample: int
) -> list[Segment]:
    """The segment records, largest contribution (by size) first."""
    effects = EFFECTS[method]
    keys = dims or ["__all"]
    if "w_0" not in table.columns:  # no overall value: nothing to weigh
        return []
    shown = table.with_columns(
        pl.sum_horizontal(*(pl.col(e) for e in effects)).alias("__contribution")
    ).with_columns(pl.col("__contribution").abs().alias("__size"))
    rows = shown.sort("__size", descending=True, nulls_last=True).to_dicts()
    out = []
    for row in rows:  # one per segment, not per data row
        key = {c: row[c] for c in dims}
        present = [row["r_0"] is not None, row["r_1"] is not None]
        sizes = [int(row["n_0"]), int(row["n_1"])]
        small = any(p and n < min_sample for p, n in zip(present, sizes, strict=True))
        out.append(
            Segment(
                key=key,
                label=" / ".join(_label(row[c], c) for c in keys) if dims else "all",
                before=row["r_0"],
                after=row["r_1"],
                weight_before=row["w_0"],
                weight_after=row["w_1"],
                n_before=sizes[0],
                n_after=sizes[1],
                effects={e: float(row[e]) for e in effects},
                contribution=float(row["__contribution"]),
                small=small,
            )
        )
    return sorted(out, key=lambda s: (-abs(s.contribution), s.label))
