"""How values and changes read in every output."""

from __future__ import annotations


def test_a_change_between_percentages_is_in_points():
    """Review of issue 15: CSAT 79.3 % → 76.1 % printed "−3.2%", which reads as a relative
    fall (the JSON's change_pct is −3.98 %); it is 3.2 percentage points."""
    from tpmkit.render.values import fmt_gap

    assert fmt_gap(76.1 - 79.3, "percent") == "−3.2 pp"
    assert fmt_gap(4.6, "percent") == "+4.6 pp"
    assert fmt_gap(0.0, "percent") == "±0.0 pp"
    assert fmt_gap(-9.8, "seconds") == "−9.8s"  # other units keep theirs
