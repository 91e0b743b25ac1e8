"""A first end-to-end check on a tiny calls export, values computed by hand."""

from __future__ import annotations

from conftest import by_key, evaluate_records

PROJECT = """
name: Tiny
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""

CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds,resolved,csat
c1,2026-01-05 09:00:00,a1,true,10,100,0,20,true,5
c2,2026-01-05 10:00:00,a1,true,30,200,,40,false,3
c3,2026-01-06 11:00:00,,false,,,,,,
c4,2026-01-06 12:00:00,,false,3,,,,,
c5,2026-01-12 09:00:00,a2,yes,20,300,60,0,,4
"""

METRICS = {
    "aht": """
        id: aht
        name: AHT
        unit: seconds
        direction: lower_is_better
        dataset: calls
        compute: {kind: mean, where: answered, expr: "coalesce(talk_seconds,0) + coalesce(hold_seconds,0) + coalesce(acw_seconds,0)"}
        thresholds: {warning: 200, critical: 300}
    """,
    "sl": """
        id: service_level
        name: SL
        unit: percent
        direction: higher_is_better
        dataset: calls
        parameters: {t: 20, short: 5}
        compute:
          kind: ratio
          where: "answered OR coalesce(wait_seconds >= {short}, true)"
          numerator: "answered AND coalesce(wait_seconds <= {t}, false)"
    """,
}


def test_week_values(make):
    path = make.project(PROJECT, metrics=METRICS, files={"calls.csv": CALLS})
    index = by_key(evaluate_records(path))
    # W02: c1 AHT 120, c2 AHT 240 (hold null = 0) -> 180
    assert index[("aht", "2026-W02")]["value"] == 180.0
    assert index[("aht", "2026-W02")]["n"] == 2
    assert index[("aht", "2026-W02")]["status"] == "ok"
    # W02: c4 is a short abandon (3 s) and leaves the denominator; c3 has unknown wait and
    # counts against: met = c1 (10 s) -> 1 / 3
    sl = index[("service_level", "2026-W02")]
    assert sl["n"] == 3
    assert abs(sl["value"] - 100 / 3) < 1e-12
    # W03: c5 answered in 20 s: exactly on T counts as met
    assert index[("service_level", "2026-W03")]["value"] == 100.0
    assert index[("aht", "2026-W03")]["value"] == 360.0
    assert index[("aht", "2026-W03")]["status"] == "critical"
