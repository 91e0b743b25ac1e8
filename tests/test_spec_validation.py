"""Definition validation: every problem at once, located, with a fix hint."""

from __future__ import annotations

import pytest

from tpmkit import project as api
from tpmkit.errors import DefinitionError, Issue

PROJECT = """
name: Spec tests
timezone: Europe/Berlin
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
"""
CALLS = (
    "contact_id,offered_at,answered,wait_seconds,talk_seconds\nc1,2026-01-05 10:00:00,true,4,60\n"
)


def issues_for(make, metrics: dict[str, str], project: str = PROJECT) -> list[Issue]:
    path = make.project(project, metrics=metrics, files={"calls.csv": CALLS})
    return api.validate(path)


def only(issues: list[Issue], text: str) -> Issue:
    found = [i for i in issues if text in i.message]
    assert len(found) == 1, [i.render() for i in issues]
    return found[0]


GOOD = """
id: aht
name: AHT
unit: seconds
direction: lower_is_better
dataset: calls
compute: {kind: mean, where: answered, expr: "talk_seconds"}
thresholds: {warning: 400, critical: 500}
owner: team_lead
actions: {warning: "team lead: listen to calls", critical: "team lead: coach within 7 days"}
"""


def test_valid_metric_has_no_issues(make):
    assert issues_for(make, {"aht": GOOD}) == []


def test_a_gated_metric_without_owner_or_action_is_warned(make):
    text = GOOD.split("owner:")[0]
    found = issues_for(make, {"aht": text})
    assert sorted(i.message for i in found) == [
        "gated metric `aht` has no action for warning and critical",
        "gated metric `aht` has no owner",
    ]
    assert {i.severity for i in found} == {"warning"} and found[0].line == 1
    assert issues_for(make, {"aht": text + "gate: false\n"}) == []  # informational


def test_unknown_key_is_located_with_did_you_mean(make):
    text = GOOD.replace("unit: seconds", "unit: seconds\nthreshold: {warning: 1}")
    issue = only(issues_for(make, {"aht": text}), "unknown key `threshold`")
    assert (issue.file, issue.line, issue.column) == ("metrics/aht.yaml", 4, 1)
    assert issue.hint == "did you mean `thresholds`?"


def test_nested_unknown_key_and_wrong_type(make):
    text = GOOD.replace("{warning: 400, critical: 500}", "{warning: 400, criticl: 500}")
    text = text.replace("unit: seconds", "unit: seconds\nmin_sample: lots")
    issues = issues_for(make, {"aht": text})
    key = only(issues, "unknown key `criticl`")
    assert key.hint == "did you mean `critical`?"
    assert (key.line, key.column) == (8, 28)
    wrong = only(issues, "`min_sample`")
    assert (wrong.line, wrong.column) == (4, 13)


def test_all_problems_of_all_files_reported_at_once(make):
    bad_one = GOOD.replace("dataset: calls", "datset: calls\ndataset: calsl")
    bad_one = bad_one.replace("{warning: 400, critical: 500}", "{warning: 500, critical: 400}")
    bad_two = """
    id: sl
    name: SL
    dataset: calls
    direction: higher_is_better
    compute: {kind: ratoi, numerator: "answered"}
    """
    issues = issues_for(make, {"aht": bad_one, "sl": bad_two})
    messages = " | ".join(i.message for i in issues)
    assert "unknown key `datset`" in messages
    assert "unknown dataset `calsl`" in messages
    assert "warning (500) is worse than critical (400)" in messages
    assert "unknown compute kind `ratoi`" in messages
    assert only(issues, "compute kind").hint == "did you mean `ratio`?"
    assert only(issues, "unknown dataset").hint == "did you mean `calls`?"
    # ordered by file, then line
    assert [i.file for i in issues] == sorted(i.file or "" for i in issues)


def test_unknown_column_points_into_the_expression(make):
    text = GOOD.replace('expr: "talk_seconds"', 'expr: "talk_secs + 1"')
    issue = only(issues_for(make, {"aht": text}), "unknown column `talk_secs`")
    assert issue.line == 6
    line = text.strip("\n").splitlines()[5]
    assert issue.column == line.index("talk_secs") + 1
    assert issue.hint == "did you mean `talk_seconds`?"


def test_expression_syntax_error(make):
    text = GOOD.replace('expr: "talk_seconds"', 'expr: "talk_seconds +* 2"')
    issue = only(issues_for(make, {"aht": text}), "invalid SQL expression")
    assert issue.line == 6


def test_unknown_parameter_in_expression(make):
    text = GOOD.replace('expr: "talk_seconds"', 'expr: "talk_seconds + {extra}"')
    issue = only(issues_for(make, {"aht": text}), "unknown parameter `extra`")
    assert "parameters" in (issue.hint or "")


@pytest.mark.parametrize(
    ("direction", "levels", "message"),
    [
        (
            "higher_is_better",
            "{warning: 70, critical: 80}",
            "warning (70) is worse than critical (80)",
        ),
        (
            "lower_is_better",
            "{warning: 80, critical: 70}",
            "warning (80) is worse than critical (70)",
        ),
        (
            "within_band",
            "{warning: {lower: 70, upper: 90}, critical: {lower: 75, upper: 95}}",
            "critical lower bound is inside the warning band",
        ),
        (
            "within_band",
            "{warning: 70, critical: {lower: 60, upper: 95}}",
            "`warning` must be a band",
        ),
        ("higher_is_better", "{warning: {lower: 1, upper: 2}}", "`warning` is a band"),
    ],
)
def test_inconsistent_thresholds(make, direction, levels, message):
    text = GOOD.replace("direction: lower_is_better", f"direction: {direction}")
    text = text.replace("{warning: 400, critical: 500}", levels)
    only(issues_for(make, {"aht": text}), message)


@pytest.mark.parametrize(
    ("direction", "levels"),
    [
        ("higher_is_better", "{warning: 80, critical: 70}"),
        ("higher_is_better", "{warning: 80, critical: 80}"),
        ("lower_is_better", "{warning: 70, critical: 80}"),
        ("within_band", "{warning: {lower: 70, upper: 88}, critical: {lower: 65, upper: 92}}"),
    ],
)
def test_consistent_thresholds(make, direction, levels):
    text = GOOD.replace("direction: lower_is_better", f"direction: {direction}")
    text = text.replace("{warning: 400, critical: 500}", levels)
    assert issues_for(make, {"aht": text}) == []


def test_target_worse_than_warning_and_date_order(make):
    text = (
        GOOD + "target: {value: 450, by: 2026-01-01}\nbaseline: {value: 500, as_of: 2026-03-01}\n"
    )
    issues = issues_for(make, {"aht": text})
    only(issues, "target (450) is worse than the warning threshold (400)")
    only(issues, "target date 2026-01-01 is before the baseline date 2026-03-01")


def test_thresholds_need_a_direction(make):
    text = GOOD.replace("direction: lower_is_better\n", "")
    only(issues_for(make, {"aht": text}), "need a `direction`")


def test_formula_unknown_metric_and_cycle(make):
    metrics = {
        "aht": GOOD,
        "f1": 'id: f1\nname: F1\ncompute: {kind: formula, expr: "aht / f2"}\n',
        "f2": 'id: f2\nname: F2\ncompute: {kind: formula, expr: "f1 * 2 + ahtt"}\n',
    }
    issues = issues_for(make, metrics)
    unknown = only(issues, "unknown metric id `ahtt`")
    assert unknown.hint == "did you mean `aht`?"
    assert any("cycle" in i.message and "f1" in i.message and "f2" in i.message for i in issues)


def test_duplicate_ids_show_both_locations(make):
    issues = issues_for(make, {"aht": GOOD, "aht_copy": GOOD})
    issue = only(issues, "duplicate metric id `aht`")
    assert "metrics/aht.yaml:1" in (issue.hint or "") or "metrics/aht_copy.yaml:1" in (
        issue.hint or ""
    )
    assert issue.file in ("metrics/aht.yaml", "metrics/aht_copy.yaml")


def test_duplicate_yaml_key(make):
    text = GOOD + "unit: percent\n"
    issue = only(issues_for(make, {"aht": text}), "duplicate key `unit`")
    assert (issue.line, issue.column) == (10, 1)


def test_yaml_syntax_error_is_located(make):
    text = GOOD.replace("name: AHT", "name: [AHT")
    issues = issues_for(make, {"aht": text})
    assert issues and issues[0].file == "metrics/aht.yaml" and issues[0].line is not None


def test_unknown_time_zone(make):
    issues = issues_for(make, {"aht": GOOD}, PROJECT.replace("Europe/Berlin", "Europe/Berlinn"))
    assert only(issues, "unknown time zone").hint == "did you mean `Europe/Berlin`?"


def test_project_unknown_key(make):
    issues = issues_for(make, {"aht": GOOD}, PROJECT + "timezon: UTC\n")
    issue = only(issues, "unknown key `timezon`")
    assert str(issue.file).endswith("tpmkit.yaml") and issue.line == 6
    assert issue.hint == "did you mean `timezone`?"


def test_load_raises_one_error_with_every_issue(make):
    text = GOOD.replace("dataset: calls", "dataset: calsl").replace("unit:", "unti:")
    path = make.project(PROJECT, metrics={"aht": text}, files={"calls.csv": CALLS})
    with pytest.raises(DefinitionError) as caught:
        api.load(path)
    assert len(caught.value.issues) == 2


def test_yaml_tags_are_not_executed(make):
    text = GOOD.replace("name: AHT", "name: !!python/object/apply:os.system ['echo hi']")
    issues = issues_for(make, {"aht": text})
    assert issues and issues[0].file == "metrics/aht.yaml"


def test_builtin_catalogue_is_valid(make):
    path = make.project(PROJECT.replace("[metrics/]", "[builtin]"), files={"calls.csv": CALLS})
    assert [i for i in api.validate(path) if i.severity == "error"] == []


@pytest.mark.parametrize("order", ["[builtin, metrics/]", "[metrics/, builtin]"])
def test_project_metric_replaces_builtin_in_any_order(make, order):
    text = GOOD.replace("name: AHT", "name: Our AHT")
    path = make.project(
        PROJECT.replace("[metrics/]", order), metrics={"aht": text}, files={"calls.csv": CALLS}
    )
    project = api.load(path)
    assert project.metrics["aht"].spec.name == "Our AHT"
    assert not project.metrics["aht"].builtin
    assert "service_level" in project.metrics


CUSTOM = PROJECT.replace("[metrics/]", "[builtin]")


def test_customize_unknown_metric_and_parameter(make):
    text = CUSTOM + (
        "customize:\n"
        "  servce_level: {target: {value: 85}}\n"
        "  service_level: {parameters: {answer_within_secs: 30}}\n"
    )
    issues = issues_for(make, {}, text)
    metric = only(issues, "unknown metric `servce_level`")
    assert (metric.line, metric.hint) == (7, "did you mean `service_level`?")
    parameter = only(issues, "has no parameter `answer_within_secs`")
    assert parameter.line == 8 and parameter.hint == "did you mean `answer_within_seconds`?"


def test_customize_levels_are_checked_where_they_are_written(make):
    text = CUSTOM + "customize:\n  aht:\n    thresholds: {warning: 500, critical: 400}\n"
    issue = only(issues_for(make, {}, text), "warning (500) is worse than critical (400)")
    assert str(issue.file).endswith("tpmkit.yaml") and issue.line == 8


def test_customize_changes_the_definition(make):
    text = CUSTOM + (
        "customize:\n"
        "  aht: {target: {value: 300, by: 2026-12-31}, min_sample: 5}\n"
        "  service_level: {parameters: {answer_within_seconds: 30}}\n"
    )
    path = make.project(text, files={"calls.csv": CALLS})
    project = api.load(path)
    aht = project.metrics["aht"]
    assert aht.spec.target.value == 300 and aht.spec.min_sample == 5
    assert aht.spec.thresholds.warning == 420  # untouched levels stay the catalogue's
    assert project.metrics["service_level"].spec.parameters == {
        "answer_within_seconds": 30,
        "short_abandon_seconds": 5,
        "abandon_policy": "count_against",
    }
    assert aht.customized_at is not None
