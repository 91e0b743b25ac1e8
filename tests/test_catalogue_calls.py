"""The built-in calls metrics against kpi-catalogue.md, values computed by hand (part 1:
volume, handle time, speed of answer, service level, abandons, flags, default levels).

The survey metrics and the repeat-contact FCR are in test_catalogue_calls_2.py.
"""

from __future__ import annotations

import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: Calls catalogue
timezone: UTC
metrics: [builtin]
sources:
  calls: {{path: calls.csv}}
{extra}"""


def project(make, calls: str, *, extra: str = "") -> object:
    return make.project(PROJECT.format(extra=extra), files={"calls.csv": calls})


def customize(metric_id: str, body: str) -> str:
    return f"customize:\n  {metric_id}: {body}\n"


# W02 = Mon 2026-01-05 .. Sun 01-11, W03 = 01-12 .. 01-18, W04 = 01-19 .. 01-25,
# W05 = 01-26 .. 02-01 (UTC). answer_within_seconds 20, short_abandon_seconds 5.
# W02: c01-c04, c09 answered (waits 10, 20, 21, 25, 60); abandons c05 (3 s, short),
#      c06 (5 s: exactly the short threshold, so NOT short), c07 (wait unknown), c08 (12 s).
#      handle = talk + hold + acw, empty = 0: c01 120, c02 240, c03 360, c04 60, c09 120.
#      resolved: c01 T, c02 F, c03 ?, c04 T, c09 T (c06 is an abandon marked F: not counted)
#      transferred: c01 F, c02 T, c03 F, c04 ?, c09 F; escalated (Y/N): c03 Y, c04 Y,
#      c01 N, c02 N, c09 ?
# W03: c10, c11 answered (waits 30, 5; handle 480, 200).
# W04: only abandons: c12 (30 s), c13 (2 s, short).
# W05: only a short abandon c14 (1 s).
CALLS = """
contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds,resolved,transferred,escalated
c01,2026-01-05 09:00:00,a1,true,10,100,0,20,true,false,N
c02,2026-01-05 10:00:00,a1,true,20,200,,40,false,true,N
c03,2026-01-06 11:00:00,a2,true,21,300,60,,,false,Y
c04,2026-01-07 12:00:00,a2,true,25,50,10,0,true,,Y
c05,2026-01-07 13:00:00,,false,3,,,,,,
c06,2026-01-08 14:00:00,,false,5,,,,false,,
c07,2026-01-09 15:00:00,,false,,,,,,,
c08,2026-01-10 16:00:00,,false,12,,,,,,
c09,2026-01-11 23:59:59,a1,true,60,120,,,true,false,
c10,2026-01-12 00:00:00,a1,true,30,400,20,60,true,false,N
c11,2026-01-13 08:00:00,a2,true,5,200,0,0,false,true,
c12,2026-01-20 08:00:00,,false,30,,,,,,
c13,2026-01-21 08:00:00,,false,2,,,,,,
c14,2026-01-27 08:00:00,,false,1,,,,,,
"""

CALLS_IDS = [
    "contacts_offered",
    "contacts_handled",
    "aht",
    "asa",
    "service_level",
    "abandon_rate",
    "fcr",
    "transfer_rate",
    "escalation_rate",
]


@pytest.fixture
def index(make):
    return by_key(evaluate_records(project(make, CALLS), CALLS_IDS))


def evaluate(make, ids, *, extra="", period="week", calls=CALLS, **options):
    return by_key(
        evaluate_records(project(make, calls, extra=extra), ids, period=period, **options)
    )


# ---------------------------------------------------------------- volume


def test_contacts_offered_counts_every_row(index):
    # W02: 9 rows (answered, short and long abandons alike); count metrics report n = value
    assert index[("contacts_offered", "2026-W02")]["value"] == 9.0
    assert index[("contacts_offered", "2026-W02")]["n"] == 9
    # c09 at Sun 23:59:59 is still W02, c10 at Mon 00:00:00 is W03
    assert index[("contacts_offered", "2026-W03")]["value"] == 2.0
    assert index[("contacts_offered", "2026-W04")]["value"] == 2.0
    assert index[("contacts_offered", "2026-W05")]["value"] == 1.0
    assert index[("contacts_offered", "2026-W05")]["n"] == 1


def test_contacts_handled_counts_answered_rows(index):
    # W02: c01, c02, c03, c04, c09 -> 5; W03: 2
    assert index[("contacts_handled", "2026-W02")]["value"] == 5.0
    assert index[("contacts_handled", "2026-W02")]["n"] == 5
    assert index[("contacts_handled", "2026-W03")]["value"] == 2.0
    # W04 only abandons: a count of nothing is 0 (not no data), n 0
    record = index[("contacts_handled", "2026-W04")]
    assert record["value"] == 0.0
    assert record["n"] == 0
    assert record["status"] != "no_data"


def test_throughput_is_an_alias_of_contacts_handled(make):
    records = evaluate_records(project(make, CALLS), ["throughput"], period="all")
    assert [r["metric"] for r in records] == ["contacts_handled"]
    # 5 (W02) + 2 (W03) answered rows
    assert records[0]["value"] == 5.0 + 2.0
    assert records[0]["period"] == "all"


# ---------------------------------------------------------------- aht / asa


def test_aht_mean_handle_time_of_answered_rows(index):
    # W02: (120 + 240 + 360 + 60 + 120) / 5; empty hold (c02, c09) and acw (c03, c09) = 0
    record = index[("aht", "2026-W02")]
    assert record["value"] == pytest.approx((120 + 240 + 360 + 60 + 120) / 5)
    assert record["n"] == 5
    assert record["unit"] == "seconds"
    # min_sample 30 > 5: the value is still shown
    assert record["status"] == "insufficient_sample"
    # W03: c10 400 + 20 + 60 = 480, c11 200 -> 340
    assert index[("aht", "2026-W03")]["value"] == pytest.approx((480 + 200) / 2)


def test_aht_empty_hold_and_acw_count_zero(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds
    r1,2026-01-05 09:00:00,true,1,100,,
    r2,2026-01-05 10:00:00,true,1,,,
    r3,2026-01-05 11:00:00,true,1,200,50,50
    r4,2026-01-05 12:00:00,false,30,999,999,999
    """
    record = evaluate(make, ["aht"], calls=calls)[("aht", "2026-W02")]
    # r1 100 + 0 + 0, r2 all empty -> 0 (still a handled contact), r3 300; r4 is an abandon
    assert record["value"] == pytest.approx((100 + 0 + 300) / 3)
    assert record["n"] == 3


def test_aht_accepts_clock_durations(make):
    # data contract: durations are seconds or [H:]MM:SS text
    calls = """
    contact_id,offered_at,answered,wait_seconds,talk_seconds,hold_seconds,acw_seconds
    r1,2026-01-05 09:00:00,true,1,02:00,00:30,0:30
    r2,2026-01-05 10:00:00,true,1,1:00:00,,00:00
    """
    record = evaluate(make, ["aht"], calls=calls)[("aht", "2026-W02")]
    # r1 120 + 30 + 30 = 180, r2 3600 -> 1890
    assert record["value"] == pytest.approx((180 + 3600) / 2)
    assert record["n"] == 2


def test_asa_mean_wait_of_answered_rows(index):
    # W02 answered waits 10, 20, 21, 25, 60 (abandons' waits are not speed of answer)
    record = index[("asa", "2026-W02")]
    assert record["value"] == pytest.approx((10 + 20 + 21 + 25 + 60) / 5)
    assert record["n"] == 5
    assert record["unit"] == "seconds"
    assert index[("asa", "2026-W03")]["value"] == pytest.approx((30 + 5) / 2)


def test_week_with_only_abandons(index):
    # W04: c12 (30 s) and c13 (2 s, short); no answered row
    for metric_id in ("aht", "asa", "fcr", "transfer_rate", "escalation_rate"):
        record = index[(metric_id, "2026-W04")]
        assert record["value"] is None, metric_id
        assert record["n"] == 0, metric_id
        assert record["status"] == "no_data", metric_id
    # service level: c12 counts against, c13 leaves -> 0 / 1 = 0 % (not no data)
    assert index[("service_level", "2026-W04")]["value"] == 0.0
    assert index[("service_level", "2026-W04")]["n"] == 1
    # abandon rate: 1 / 1 = 100 %
    assert index[("abandon_rate", "2026-W04")]["value"] == pytest.approx(100 * 1 / 1)
    assert index[("abandon_rate", "2026-W04")]["n"] == 1
    assert index[("contacts_offered", "2026-W04")]["value"] == 2.0


def test_week_with_only_short_abandons_is_no_data(index):
    # W05: c14 waited 1 s: offered - short abandons = 0 -> no data, never 0 or NaN
    for metric_id in ("service_level", "abandon_rate"):
        record = index[(metric_id, "2026-W05")]
        assert record["value"] is None, metric_id
        assert record["n"] == 0, metric_id
        assert record["status"] == "no_data", metric_id
    assert index[("contacts_offered", "2026-W05")]["value"] == 1.0


# ---------------------------------------------------------------- service level


def test_service_level_default_counts_abandons_against(index):
    # W02 met (wait <= 20): c01 (10), c02 (20, exactly T counts); c03 21 and c04 25 miss.
    # denominator = 9 offered - 1 short abandon (c05, 3 s) = 8: c06 (5 s, not short),
    # c07 (unknown wait) and c08 count against.
    record = index[("service_level", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 2 / 8)
    assert record["n"] == 8
    assert record["unit"] == "percent"
    # W03: c11 (5 s) met, c10 (30 s) not -> 1 / 2
    assert index[("service_level", "2026-W03")]["value"] == pytest.approx(100 * 1 / 2)
    assert index[("service_level", "2026-W03")]["n"] == 2


def test_service_level_all_period(make):
    index = evaluate(make, ["service_level"], period="all")
    # met: c01, c02, c11 = 3; offered 14 - short abandons (c05, c13, c14) = 11
    record = index[("service_level", "all")]
    assert record["value"] == pytest.approx(100 * 3 / 11)
    assert record["n"] == 11


def test_service_level_explicit_count_against(make):
    extra = customize("service_level", "{parameters: {abandon_policy: count_against}}")
    index = evaluate(make, ["service_level"], extra=extra)
    assert index[("service_level", "2026-W02")]["value"] == pytest.approx(100 * 2 / 8)


def test_service_level_ignore_divides_by_answered(make):
    extra = customize("service_level", "{parameters: {abandon_policy: ignore}}")
    index = evaluate(make, ["service_level"], extra=extra)
    # W02: met c01, c02 of the 5 answered
    record = index[("service_level", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 2 / 5)
    assert record["n"] == 5
    # W04 holds only abandons: no answered row -> no data
    assert index[("service_level", "2026-W04")]["value"] is None
    assert index[("service_level", "2026-W04")]["status"] == "no_data"
    assert index[("service_level", "2026-W04")]["n"] == 0


def test_service_level_success_within_threshold(make):
    extra = customize("service_level", "{parameters: {abandon_policy: success_within_threshold}}")
    index = evaluate(make, ["service_level"], extra=extra)
    # W02 met: c01, c02 answered in time + abandons within 20 s: c06 (5 s), c08 (12 s);
    # c07 (wait unknown) is not known to be within T: not met. Short c05 still leaves.
    record = index[("service_level", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 4 / 8)
    assert record["n"] == 8
    # W04: c12 abandoned after 30 s > 20 -> 0 / 1
    assert index[("service_level", "2026-W04")]["value"] == 0.0
    assert index[("service_level", "2026-W04")]["n"] == 1


def test_service_level_answer_within_seconds_customized(make):
    extra = customize("service_level", "{parameters: {answer_within_seconds: 60}}")
    index = evaluate(make, ["service_level"], extra=extra)
    # W02: every answered row (c09 at exactly 60 s included) -> 5 / 8
    assert index[("service_level", "2026-W02")]["value"] == pytest.approx(100 * 5 / 8)
    extra = customize("service_level", "{parameters: {answer_within_seconds: 10}}")
    index = evaluate(make, ["service_level"], extra=extra)
    # only c01 (10 s) -> 1 / 8
    assert index[("service_level", "2026-W02")]["value"] == pytest.approx(100 * 1 / 8)


def test_service_level_short_abandon_seconds_customized(make):
    extra = customize("service_level", "{parameters: {short_abandon_seconds: 6}}")
    index = evaluate(make, ["service_level"], extra=extra)
    # c06 (5 s) is now short as well: 2 met / (9 - 2)
    assert index[("service_level", "2026-W02")]["value"] == pytest.approx(100 * 2 / 7)
    assert index[("service_level", "2026-W02")]["n"] == 7


def test_service_level_answered_with_unknown_wait_is_a_miss(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds
    r1,2026-01-05 09:00:00,true,5
    r2,2026-01-05 10:00:00,true,
    """
    record = evaluate(make, ["service_level"], calls=calls)[("service_level", "2026-W02")]
    # r2 was offered and is no short abandon: in the denominator, not known to be in time
    assert record["value"] == pytest.approx(100 * 1 / 2)
    assert record["n"] == 2


# ---------------------------------------------------------------- abandon rate


def test_abandon_rate_excludes_short_abandons(index):
    # W02 abandons with wait >= 5 or unknown: c06 (5 s), c07 (?), c08 (12 s) = 3;
    # denominator 9 - 1 short (c05) = 8
    record = index[("abandon_rate", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 3 / 8)
    assert record["n"] == 8
    assert record["unit"] == "percent"
    # W03: no abandon -> 0 / 2 = 0 %
    assert index[("abandon_rate", "2026-W03")]["value"] == 0.0
    assert index[("abandon_rate", "2026-W03")]["n"] == 2


def test_abandon_rate_short_abandon_seconds_customized(make):
    extra = customize("abandon_rate", "{parameters: {short_abandon_seconds: 6}}")
    index = evaluate(make, ["abandon_rate"], extra=extra)
    # c05 (3 s) and c06 (5 s) are short: abandons c07, c08 / (9 - 2)
    assert index[("abandon_rate", "2026-W02")]["value"] == pytest.approx(100 * 2 / 7)
    assert index[("abandon_rate", "2026-W02")]["n"] == 7


# ---------------------------------------------------------------- flags


def test_fcr_null_resolved_leaves_denominator(index):
    # W02 answered: c01 T, c02 F, c03 ?, c04 T, c09 T -> 3 / 4 (abandon c06 marked F is out)
    record = index[("fcr", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 3 / 4)
    assert record["n"] == 4
    assert record["status"] == "insufficient_sample"
    # W03: c10 T, c11 F -> 1 / 2
    assert index[("fcr", "2026-W03")]["value"] == pytest.approx(100 * 1 / 2)


def test_transfer_rate(index):
    # W02 answered: c02 T; c01, c03, c09 F; c04 unknown (leaves) -> 1 / 4
    record = index[("transfer_rate", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 1 / 4)
    assert record["n"] == 4
    # W03: c11 T, c10 F -> 1 / 2
    assert index[("transfer_rate", "2026-W03")]["value"] == pytest.approx(100 * 1 / 2)


def test_escalation_rate(index):
    # W02 answered: c03 Y, c04 Y, c01 N, c02 N, c09 unknown (leaves) -> 2 / 4
    record = index[("escalation_rate", "2026-W02")]
    assert record["value"] == pytest.approx(100 * 2 / 4)
    assert record["n"] == 4
    # W03: c10 N, c11 unknown -> 0 / 1 = 0 %
    assert index[("escalation_rate", "2026-W03")]["value"] == 0.0
    assert index[("escalation_rate", "2026-W03")]["n"] == 1


def test_flags_all_unknown_is_no_data(make):
    calls = """
    contact_id,offered_at,answered,wait_seconds,resolved,transferred,escalated
    r1,2026-01-05 09:00:00,true,5,,,
    r2,2026-01-05 10:00:00,true,5,,,
    """
    index = evaluate(make, ["fcr", "transfer_rate", "escalation_rate"], calls=calls)
    for metric_id in ("fcr", "transfer_rate", "escalation_rate"):
        record = index[(metric_id, "2026-W02")]
        assert record["value"] is None, metric_id
        assert record["n"] == 0, metric_id
        assert record["status"] == "no_data", metric_id


# ---------------------------------------------------------------- levels and status


def many_calls(rows: list[tuple[str, int | str]]) -> str:
    """A calls CSV (all in W02) from (answered, wait) pairs."""
    lines = ["contact_id,offered_at,answered,wait_seconds"]
    for i, (answered, wait) in enumerate(rows):
        lines.append(f"x{i:03d},2026-01-06 {9 + i // 60:02d}:{i % 60:02d}:00,{answered},{wait}")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(
    ("missed", "expected_status"),
    [(0, "ok"), (10, "ok"), (12, "warning"), (18, "critical")],
)
def test_service_level_status_on_default_thresholds(make, missed, expected_status):
    # 40 answered contacts (n 40 >= min_sample 30), `missed` of them after 30 s.
    # 10 missed -> 30 / 40 = 75 %: exactly the warning level is not a breach;
    # 12 -> 70 % (< 75, exactly critical: warning); 18 -> 55 % (< 70: critical)
    calls = many_calls([("true", 30 if i < missed else 10) for i in range(40)])
    record = evaluate(make, ["service_level"], calls=calls)[("service_level", "2026-W02")]
    assert record["value"] == pytest.approx(100 * (40 - missed) / 40)
    assert record["n"] == 40
    assert record["status"] == expected_status


@pytest.mark.parametrize(
    ("abandons", "expected_status"),
    [(2, "ok"), (4, "ok"), (5, "warning"), (6, "critical")],
)
def test_abandon_rate_status_on_default_thresholds(make, abandons, expected_status):
    # 50 contacts, `abandons` of them abandoned after 30 s: 4 -> 8 % = warning level (ok),
    # 5 -> 10 % = critical level (warning), 6 -> 12 % (critical)
    calls = many_calls([("false" if i < abandons else "true", 30) for i in range(50)])
    record = evaluate(make, ["abandon_rate"], calls=calls)[("abandon_rate", "2026-W02")]
    assert record["value"] == pytest.approx(100 * abandons / 50)
    assert record["n"] == 50
    assert record["status"] == expected_status


def test_min_sample_customized(make):
    extra = customize("aht", "{min_sample: 5}")
    index = evaluate(make, ["aht"], extra=extra)
    # W02 n 5 = min_sample -> no longer insufficient; 180 s is better than target 360
    assert index[("aht", "2026-W02")]["status"] == "ok"
    # W03 n 2 < 5
    assert index[("aht", "2026-W03")]["status"] == "insufficient_sample"
    assert index[("aht", "2026-W03")]["value"] == pytest.approx(340.0)


FULL = """
contact_id,offered_at,customer_id,answered,wait_seconds,talk_seconds,resolved,transferred,escalated,csat,nps,dsat_root_cause
r1,2026-01-05 09:00:00,k1,true,5,100,true,false,false,5,9,
"""

# the catalogue table: id -> (unit, direction, target, warning, critical)
LEVELS = {
    "aht": ("seconds", "lower_is_better", 360, 420, 480),
    "asa": ("seconds", "lower_is_better", 30, 45, 60),
    "service_level": ("percent", "higher_is_better", 80, 75, 70),
    "abandon_rate": ("percent", "lower_is_better", 5, 8, 10),
    "fcr": ("percent", "higher_is_better", 75, 70, 65),
    "fcr_repeat": ("percent", "higher_is_better", 75, 70, 65),
    "transfer_rate": ("percent", "lower_is_better", 10, 15, 20),
    "escalation_rate": ("percent", "lower_is_better", 5, 8, 10),
    "csat": ("percent", "higher_is_better", 85, 80, 75),
    "csat_mean": ("score", "higher_is_better", 4.3, 4.0, 3.8),
    "dsat_rate": ("percent", "lower_is_better", 5, 8, 10),
    "nps": ("score", "higher_is_better", 40, 30, 20),
    "dsat_training_share": ("percent", "lower_is_better", 20, 30, 40),
}


@pytest.mark.parametrize("metric_id", sorted(LEVELS))
def test_default_levels_match_catalogue(make, metric_id):
    unit, direction, target, warning, critical = LEVELS[metric_id]
    record = evaluate(make, [metric_id], calls=FULL, period="all")[(metric_id, "all")]
    assert record["unit"] == unit
    assert record["direction"] == direction
    assert record["target"] == pytest.approx(target)
    assert record["warning"] == pytest.approx(warning)
    assert record["critical"] == pytest.approx(critical)


def test_count_metrics_units_and_direction(make):
    index = evaluate(make, ["contacts_offered", "contacts_handled"], calls=FULL, period="all")
    assert index[("contacts_offered", "all")]["unit"] == "count"
    assert index[("contacts_handled", "all")]["unit"] == "count"
    assert index[("contacts_handled", "all")]["direction"] == "higher_is_better"
    # one answered row
    assert index[("contacts_handled", "all")]["value"] == 1.0
    assert index[("contacts_offered", "all")]["n"] == 1
