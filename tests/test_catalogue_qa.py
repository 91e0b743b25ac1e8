"""The built-in QA metrics against kpi-catalogue.md, values computed by hand."""

from __future__ import annotations

import datetime as dt

import pytest

from conftest import by_key, evaluate_records

PROJECT = """
name: QA catalogue
timezone: UTC
metrics: [builtin]
sources:
  qa: {{path: qa.csv}}
{extra}"""

HEADER = (
    "evaluation_id,agent_id,evaluated_at,score,max_score,interaction_at,evaluator_id,"
    "auto_fail,calibration_id,error_category,root_cause\n"
)

# Non-calibration evaluations, all in W02 (2026-01-05 .. 01-11); percent in the comment:
# e1  90/100 = 90, evaluated exactly 48 h after the interaction
# e2  17/20  = 85 (exactly the default pass mark), auto_fail unknown (= not failed)
# e3  auto-failed: 0 although 95/100; evaluated 73 h after the interaction
# e4  60/100 = 60, no interaction time
# e5  100 (compliance error: not a training-share row)
# e6  70, product error without a root cause
EVALUATIONS = """
e1,a1,2026-01-05 10:00:00,90,,2026-01-03 10:00:00,q1,false,,none,
e2,a1,2026-01-06 10:00:00,17,20,2026-01-05 10:00:00,q1,,,product,training
e3,a2,2026-01-07 10:00:00,95,100,2026-01-04 09:00:00,q2,true,,process,training
e4,a2,2026-01-08 10:00:00,60,,,q2,false,,process,process
e5,a2,2026-01-09 10:00:00,100,,2026-01-09 08:00:00,q1,false,,compliance,training
e6,a1,2026-01-09 11:00:00,70,,2026-01-08 11:00:00,q2,false,,product,
"""

# Calibration evaluations (feed qa_calibration_variance only); each would change every
# other QA metric if it were counted there.
# k1: c1 q1 80 (W02), c2 q2 90 (W02), c3 q3 40 (W03) -> session mean (80 + 90 + 40) / 3 = 70
# k2: c4 q1 auto-failed -> 0, c5 q2 50/100 = 50 (both W02) -> session mean 25
# k3: c6 alone -> ignored (fewer than 2 evaluations)
CALIBRATION = """
c1,a1,2026-01-09 12:00:00,80,,2026-01-01 12:00:00,q1,false,k1,product,training
c2,a1,2026-01-09 13:00:00,90,,2026-01-01 12:00:00,q2,false,k1,product,training
c3,a1,2026-01-12 09:00:00,40,,2026-01-01 12:00:00,q3,false,k1,process,training
c4,a2,2026-01-08 12:00:00,100,,2026-01-07 12:00:00,q1,true,k2,,
c5,a2,2026-01-08 13:00:00,50,,2026-01-07 12:00:00,q2,false,k2,,
c6,a2,2026-01-10 12:00:00,40,,,q1,false,k3,,
"""

QA = HEADER + EVALUATIONS.lstrip("\n") + CALIBRATION.lstrip("\n")

IDS = [
    "qa_score",
    "qa_pass_rate",
    "auto_fail_rate",
    "qa_within_48h",
    "training_error_share",
    "qa_calibration_variance",
]
W02, W03 = "2026-W02", "2026-W03"


def project(make, qa: str = QA, extra: str = "") -> object:
    return make.project(PROJECT.format(extra=extra), files={"qa.csv": qa})


@pytest.fixture
def index(make):
    return by_key(evaluate_records(project(make), IDS))


def test_qa_score_mean_percent(index):
    # (90 + 85 + 0 + 60 + 100 + 70) / 6 = 67.5, calibration rows c1, c2, c4, c5, c6 left out
    record = index[("qa_score", W02)]
    assert record["value"] == pytest.approx((90 + 85 + 0 + 60 + 100 + 70) / 6)
    assert record["n"] == 6
    assert record["unit"] == "percent"


def test_qa_score_cell_with_only_calibration_rows(index):
    # W03 holds only calibration row c3: the cell exists but has no qualifying row
    record = index[("qa_score", W03)]
    assert record["value"] is None
    assert record["n"] == 0
    assert record["status"] == "no_data"


def test_qa_pass_rate_default_pass_mark(index):
    # percent >= 85: e1 90, e2 17/20 = 85 (exactly on the mark), e5 100 -> 3 / 6
    record = index[("qa_pass_rate", W02)]
    assert record["value"] == pytest.approx(100 * 3 / 6)
    assert record["n"] == 6


def test_qa_pass_rate_custom_pass_mark(make):
    extra = "customize:\n  qa_pass_rate: {parameters: {pass_mark: 60}}\n"
    index = by_key(evaluate_records(project(make, extra=extra), ["qa_pass_rate"]))
    # percent >= 60: e1, e2, e4 (exactly 60), e5, e6; not e3 (auto-failed) -> 5 / 6
    assert index[("qa_pass_rate", W02)]["value"] == pytest.approx(100 * 5 / 6)
    extra = "customize:\n  qa_pass_rate: {parameters: {pass_mark: 86}}\n"
    index = by_key(evaluate_records(project(make, extra=extra), ["qa_pass_rate"]))
    # percent >= 86: e1, e5 -> 2 / 6 (e2's 85 no longer passes)
    assert index[("qa_pass_rate", W02)]["value"] == pytest.approx(100 * 2 / 6)


@pytest.mark.parametrize(
    ("score", "max_score", "pass_mark"),
    [(17, 20, 85), (85, "", 85), (2.8, 20, 14), (29, "", 29), (57, 100, 57)],
)
def test_percent_exactly_on_the_pass_mark_passes(make, score, max_score, pass_mark):
    # percent = 100 x score / max_score in that order: 100 x 17 / 20 = 85, 100 x 2.8 / 20 = 14,
    # 100 x 29 / 100 = 29 exactly (2.8 / 20 x 100 = 13.999..., 29 / 100 x 100 = 28.999...)
    qa = HEADER + f"x1,a1,2026-01-05 10:00:00,{score},{max_score},,,,,,\n"
    extra = f"customize:\n  qa_pass_rate: {{parameters: {{pass_mark: {pass_mark}}}}}\n"
    index = by_key(evaluate_records(project(make, qa, extra), ["qa_pass_rate", "qa_score"]))
    assert index[("qa_pass_rate", W02)]["value"] == 100.0
    assert index[("qa_pass_rate", W02)]["n"] == 1
    assert index[("qa_score", W02)]["value"] == pytest.approx(pass_mark)


def test_percent_on_a_custom_pass_mark_with_max_score_20(make):
    # 16.2 / 20 -> 81 %, 16 / 20 -> 80 %, 15.9 / 20 -> 79.5 %; pass mark 80 -> 2 / 3
    qa = HEADER + (
        "x1,a1,2026-01-05 10:00:00,16.2,20,,,,,,\n"
        "x2,a1,2026-01-05 11:00:00,16,20,,,,,,\n"
        "x3,a1,2026-01-05 12:00:00,15.9,20,,,,,,\n"
    )
    extra = "customize:\n  qa_pass_rate: {parameters: {pass_mark: 80}}\n"
    index = by_key(evaluate_records(project(make, qa, extra), ["qa_pass_rate", "qa_score"]))
    assert index[("qa_pass_rate", W02)]["value"] == pytest.approx(100 * 2 / 3)
    assert index[("qa_score", W02)]["value"] == pytest.approx((81 + 80 + 79.5) / 3)


def test_auto_fail_rate_null_flag_leaves_denominator(index):
    # e1 no, e2 unknown (leaves), e3 yes, e4 no, e5 no, e6 no -> 1 / 5; c4 (calibration,
    # auto-failed) is left out
    record = index[("auto_fail_rate", W02)]
    assert record["value"] == pytest.approx(100 * 1 / 5)
    assert record["n"] == 5


def test_qa_within_48h(index):
    # e1 48 h exactly (counts), e2 24 h, e3 73 h (late), e5 2 h, e6 24 h; e4 has no
    # interaction time; calibration rows (c1, c2 evaluated ~8 days later) left out -> 4 / 5
    record = index[("qa_within_48h", W02)]
    assert record["value"] == pytest.approx(100 * 4 / 5)
    assert record["n"] == 5


def test_training_error_share(index):
    # product/process rows with a root cause: e2 training, e3 training, e4 process -> 2 / 3;
    # e5 (compliance), e6 (no root cause), e1 (none) and calibration c1, c2 are left out
    record = index[("training_error_share", W02)]
    assert record["value"] == pytest.approx(100 * 2 / 3)
    assert record["n"] == 3
    # W03: calibration c3 (process/training) is not counted -> no data
    assert index[("training_error_share", W03)]["value"] is None
    assert index[("training_error_share", W03)]["n"] == 0


def test_training_error_share_monthly(make):
    index = by_key(evaluate_records(project(make), ["training_error_share"], period="month"))
    # the whole of January: still e2, e3 of e2, e3, e4 -> 2 / 3 (c3 is calibration)
    assert index[("training_error_share", "2026-01")]["value"] == pytest.approx(100 * 2 / 3)
    assert index[("training_error_share", "2026-01")]["n"] == 3


def test_calibration_variance_over_whole_sessions(index):
    # W02 calibration rows in sessions of >= 2: c1 |80 - 70| = 10, c2 |90 - 70| = 20
    # (k1's mean includes c3 from W03), c4 |0 - 25| = 25, c5 |50 - 25| = 25; c6 (k3, alone)
    # is ignored -> (10 + 20 + 25 + 25) / 4 = 20
    w02 = index[("qa_calibration_variance", W02)]
    assert w02["value"] == pytest.approx((10 + 20 + 25 + 25) / 4)
    assert w02["n"] == 4
    assert w02["unit"] == "points"
    # W03: c3 |40 - 70| = 30
    w03 = index[("qa_calibration_variance", W03)]
    assert w03["value"] == pytest.approx(30.0)
    assert w03["n"] == 1


def test_calibration_variance_by_evaluator(make):
    records = evaluate_records(project(make), ["qa_calibration_variance"], by=["evaluator_id"])
    index = by_key(records, "evaluator_id")
    # q1: c1 10, c4 25 -> 17.5 (c6 in a one-evaluation session is ignored)
    assert index[("qa_calibration_variance", W02, "q1")]["value"] == pytest.approx((10 + 25) / 2)
    assert index[("qa_calibration_variance", W02, "q1")]["n"] == 2
    # q2: c2 20, c5 25 -> 22.5 (session means span evaluators, not per evaluator)
    assert index[("qa_calibration_variance", W02, "q2")]["value"] == pytest.approx((20 + 25) / 2)
    assert index[("qa_calibration_variance", W02, "q2")]["n"] == 2
    # q3: c3 30 in W03
    assert index[("qa_calibration_variance", W03, "q3")]["value"] == pytest.approx(30.0)


def test_calibration_variance_session_mean_ignores_the_selected_range(make):
    # only W03 selected: c3 still deviates from k1's whole-session mean 70 -> 30 (not 0)
    records = evaluate_records(
        project(make), ["qa_calibration_variance"], start=dt.date(2026, 1, 12)
    )
    index = by_key(records)
    assert index[("qa_calibration_variance", W03)]["value"] == pytest.approx(30.0)
    assert index[("qa_calibration_variance", W03)]["n"] == 1


def test_calibration_session_with_one_evaluation_is_no_data(make):
    qa = HEADER + "c9,a1,2026-01-05 10:00:00,70,,,q1,,k9,,\n"
    index = by_key(evaluate_records(project(make, qa), ["qa_calibration_variance", "qa_score"]))
    record = index[("qa_calibration_variance", W02)]
    assert record["value"] is None
    assert record["n"] == 0
    # calibration variance is reviewed monthly: a week is not judged (issue 20 review; it
    # read no_data before), and the reason keeps why there is no value
    assert record["status"] == "not_judged"
    assert record["reason"].startswith("judged monthly — ")
    assert "no qualifying rows" in record["reason"]
    # the calibration row does not feed qa_score either
    assert index[("qa_score", W02)]["value"] is None


def test_calibration_variance_uses_evaluation_percent(make):
    # one session scored on a 20-point form: 18/20 = 90 and 14/20 = 70 -> mean 80,
    # deviations 10 and 10 -> 10 points (not 2 raw points)
    qa = HEADER + (
        "c1,a1,2026-01-05 10:00:00,18,20,,q1,,k1,,\n"
        "c2,a1,2026-01-05 11:00:00,14,20,,q2,false,k1,,\n"
    )
    index = by_key(evaluate_records(project(make, qa), ["qa_calibration_variance"]))
    assert index[("qa_calibration_variance", W02)]["value"] == pytest.approx(10.0)
    assert index[("qa_calibration_variance", W02)]["n"] == 2
