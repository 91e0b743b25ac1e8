"""docs/metrics.md is generated from the built-in catalogue and must stay current.

Regenerate with:  TPMKIT_UPDATE_DOCS=1 python -m pytest tests/test_metrics_reference.py
"""

from __future__ import annotations

from conftest import REPO
from tpmkit.render.reference import reference
from tpmkit.spec.loader import load_builtin

CATALOGUE_IDS = {
    # kpi-catalogue.md, every table
    "contacts_offered", "contacts_handled", "aht", "asa", "service_level", "abandon_rate",
    "fcr", "fcr_repeat", "transfer_rate", "escalation_rate", "csat", "csat_mean", "dsat_rate",
    "nps", "dsat_training_share", "tickets_created", "tickets_resolved",
    "first_response_time", "resolution_time", "reopen_rate", "resolution_sla", "backlog",
    "ticket_escalation_rate", "ticket_csat", "qa_score", "qa_pass_rate", "auto_fail_rate",
    "qa_within_48h", "qa_calibration_variance", "training_error_share",
    "schedule_adherence", "occupancy", "utilization", "shrinkage", "contacts_per_hour",
    "cost_per_contact",
    # the workforce table (issue 20); tenure_band is a dimension, not a metric
    "headcount", "attrition_rate", "early_attrition_rate", "time_to_proficiency",
}  # fmt: skip


def test_reference_is_current(golden):
    golden(REPO / "docs" / "metrics.md", reference(load_builtin()))


def test_catalogue_is_complete_and_owned():
    metrics = {m.id: m.spec for m in load_builtin()}
    assert set(metrics) >= CATALOGUE_IDS
    # the only extra built-ins are the inputs of the derived metrics
    assert set(metrics) - CATALOGUE_IDS == {"logged_in_time", "total_cost"}
    for spec in metrics.values():
        assert spec.name and spec.description and spec.unit and spec.category, spec.id
        assert spec.owner and "operations_manager" in spec.roles, spec.id


def test_role_views_match_the_catalogue():
    views = {}
    for metric in load_builtin():
        for role in metric.spec.roles:
            views.setdefault(role, set()).add(metric.id)
    agent = {"contacts_handled", "aht", "csat", "qa_score", "fcr", "schedule_adherence"}
    assert views["agent"] == agent
    assert views["team_lead"] == agent | {
        "first_response_time",
        "resolution_time",
        "transfer_rate",
        "escalation_rate",
        "occupancy",
    }
    assert views["quality_specialist"] == {
        "qa_calibration_variance",
        "qa_within_48h",
        "auto_fail_rate",
    }
    assert views["trainer"] == {"training_error_share", "dsat_training_share"}
    assert views["operations_manager"] == set(views["operations_manager"]) | CATALOGUE_IDS


def test_aliases():
    aliases = {a: m.id for m in load_builtin() for a in m.spec.aliases}
    assert aliases == {
        "tat": "first_response_time",
        "trt": "resolution_time",
        "throughput": "contacts_handled",
    }


def test_every_built_in_action_is_the_owners_to_take():
    """Issue 15: a breach names its owner and the owner's action; a playbook step addressed
    to someone else (QA pass rate: owner quality specialist, action "team lead: …") leaves
    nobody sure who acts. Each step starts with its owner's role."""
    import yaml

    from conftest import REPO

    for path in sorted((REPO / "metrics").glob("*.yaml")):
        metric = yaml.safe_load(path.read_text())
        owner = str(metric.get("owner", "")).replace("_", " ")
        for status, action in (metric.get("actions") or {}).items():
            assert action.split(":")[0] == owner, (metric["id"], status, action)


def test_the_built_in_catalogue_has_nothing_for_validate_strict_to_refuse():
    """Issue 20 review: `validate --strict` failed on the built-in time_to_proficiency, a gated
    metric with no actions. Every built-in metric passes the metric checks with no issue at
    all (each gated one has an owner and a step for warning and critical)."""
    from tpmkit.spec.checks import check_metric

    found = {m.id: [i.message for i in check_metric(m)] for m in load_builtin()}
    assert {k: v for k, v in found.items() if v} == {}
    proficiency = {m.id: m.spec for m in load_builtin()}["time_to_proficiency"]
    assert set(proficiency.actions) == {"warning", "critical"}


def test_validate_strict_is_clean_on_the_bundled_example(tmp_path):
    """The example (built-ins, its own metrics and data) validates with --strict: exit 0."""
    import shutil

    from typer.testing import CliRunner

    from tpmkit.cli import app

    copy = tmp_path / "example"
    shutil.copytree(REPO / "examples" / "contact-center", copy)
    result = CliRunner().invoke(app, ["validate", "--strict", "-p", str(copy / "tpmkit.yaml")])
    assert result.exit_code == 0, result.output
    assert result.output.strip().endswith(": ok"), result.output
