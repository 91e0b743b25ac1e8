"""The arithmetic of the coaching effect (kpi-catalogue.md, "Coaching effect").

Per session: effect = (after − before) − (comparison after − comparison before); the four
parts are independent, so its variance is the sum of theirs (a mean: s²/n; a share: p(1−p)/n
on the 0–1 scale, then × scale², where a share of exactly 0 or 1 uses (x+2)/(n+4) so that
it still has a spread). The 95 % interval uses the normal quantile, or Student's t with
Welch–Satterthwaite degrees of freedom for a mean when a part has fewer than 30 rows.
Per coach or topic: the agents are the unit (contacts of one agent are not independent):
each agent's mean session effect, then their mean with a t interval on k − 1 degrees of
freedom. The verdict is improved / worsened only when the whole interval lies on one side
of 0; no_effect otherwise; insufficient_sample when a part has fewer than min_sample rows.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence

from tpmkit.coaching.model import IMPROVED, INSUFFICIENT, NO_EFFECT, WORSENED, Estimate, Part
from tpmkit.stats import normal_quantile, t_quantile

LARGE = 30  # from here on a mean's part is taken as normal (the catalogue's rule)
Z975 = normal_quantile(0.975)


def mean_part(n: int, total: float, squares: float) -> Part:
    """A mean from its row count, sum and sum of squares (variance s²/n; None below 2 rows)."""
    if n <= 0:
        return Part(None, 0, None)
    mean = total / n
    if n < 2:
        return Part(mean, n, None)
    s2 = max(0.0, (squares - n * mean * mean) / (n - 1))
    return Part(mean, n, s2 / n)


def share_part(n: int, hits: float, scale: float) -> Part:
    """A share on the metric's scale (e.g. percent: scale 100) from its rows and hits."""
    if n <= 0:
        return Part(None, 0, None)
    p = hits / n
    q = (hits + 2) / (n + 4) if p in (0.0, 1.0) else p  # a 0 % or 100 % still varies
    return Part(p * scale, n, q * (1 - q) / n * scale * scale)


def verdict_of(low: float, high: float, lower_is_better: bool) -> str:
    """improved / worsened only when the whole interval is on one side of 0."""
    if high < 0:
        return IMPROVED if lower_is_better else WORSENED
    if low > 0:
        return WORSENED if lower_is_better else IMPROVED
    return NO_EFFECT


def did(
    before: Part,
    after: Part,
    comparison_before: Part,
    comparison_after: Part,
    *,
    lower_is_better: bool,
    min_sample: int,
    is_mean: bool,
    rows: str = "rows",
) -> Estimate:
    """The difference in differences of one session with its 95 % interval and verdict
    (`rows`: what the metric counts, e.g. calls, for the reasons)."""
    parts = (before, after, comparison_before, comparison_after)
    names = ("before", "after", "uncoached before", "uncoached after")
    short = [f"{name} {p.n}" for name, p in zip(names, parts, strict=True) if p.n < min_sample]
    if short:
        reason = f"too few {rows}: {', '.join(short)} (needs {min_sample})"
        return Estimate(None, None, None, INSUFFICIENT, reason=reason)
    if any(p.value is None or p.variance is None for p in parts):
        reason = "no spread for an interval (a part has one value)"
        return Estimate(None, None, None, INSUFFICIENT, reason=reason)
    values = [float(p.value) for p in parts]  # type: ignore[arg-type]
    variances = [float(p.variance) for p in parts]  # type: ignore[arg-type]
    effect = (values[1] - values[0]) - (values[3] - values[2])
    total = sum(variances)
    df: float | None = None
    quantile = Z975
    if is_mean and any(p.n < LARGE for p in parts):
        spread = sum(v * v / (p.n - 1) for v, p in zip(variances, parts, strict=True))
        df = total * total / spread if spread > 0 else None
        quantile = t_quantile(0.975, df) if df else Z975
    half = quantile * math.sqrt(total)
    low, high = effect - half, effect + half
    return Estimate(effect, low, high, verdict_of(low, high, lower_is_better), df=df)


def over_agents(effects: Sequence[float], *, lower_is_better: bool) -> Estimate:
    """The mean of the agents' effects with a t interval on k − 1 degrees of freedom
    (fewer than 2 agents: insufficient_sample)."""
    k = len(effects)
    if k < 2:
        return Estimate(
            statistics.fmean(effects) if effects else None,
            None,
            None,
            INSUFFICIENT,
            reason=("no interval: 1 agent (needs 2)" if k == 1 else "no agent with an effect"),
        )
    mean = statistics.fmean(effects)
    half = t_quantile(0.975, k - 1) * statistics.stdev(effects) / math.sqrt(k)
    low, high = mean - half, mean + half
    return Estimate(mean, low, high, verdict_of(low, high, lower_is_better), df=float(k - 1))
