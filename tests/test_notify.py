"""Notifications (issue 18 items 1-4): real receivers started here — a local HTTP server
receiving Apprise's json:// POST and a local aiosmtpd SMTP server receiving the mailto://
email with the report attached. Apprise itself is never mocked.

The project: week 2026-W10 has four answered calls, waits 70, 10, 70, 10 seconds; agent a1
(team Red) took the 70s ones, a2 (team Blue) the 10s ones. By hand: the operation's mean
wait is 40.0s (past warning 30, below critical 60), Red's 70.0s (critical), Blue's 10.0s (ok).
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import http.server
import json
import socket
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tpmkit import project as api
from tpmkit.cli import app
from tpmkit.notify.targets import mask

runner = CliRunner()
SECRET = "s3cr3t-t0ken-9f2a"

PROJECT = """
name: Gate
timezone: UTC
metrics: [metrics/]
sources:
  calls: {path: calls.csv}
  agents: {path: roster.csv}
"""
ROSTER = "agent_id,team\na1,Red\na2,Blue\n"


def metric(id_: str, warning: float, critical: float, extra: str = "") -> str:
    return (
        f"id: {id_}\nname: {id_.title()}\nunit: seconds\ndirection: lower_is_better\n"
        "owner: team_lead\ndataset: calls\nroles: [team_lead]\n"
        "compute: {kind: mean, expr: wait_seconds, where: answered}\n"
        f"thresholds: {{warning: {warning}, critical: {critical}}}\n"
        f"actions: {{warning: check staffing, critical: add staff}}\n{extra}"
    )


def calls(waits: list[int]) -> str:
    """2026-W10 complete (Mon 2 – Fri 6 March); one call on Wednesday of W11 (in progress)."""
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    for i, wait in enumerate(waits):
        lines.append(f"a{i},2026-03-0{2 + i % 5} 10:00:00,a{1 + i % 2},Y,{wait}")
    lines.append("b0,2026-03-11 10:00:00,a1,Y,5")
    return "\n".join(lines) + "\n"


BREACHING = [70, 10, 70, 10]
HEALTHY = [10, 10, 10, 10]


def build(make, waits=BREACHING, extra: str = "", metrics: dict[str, str] | None = None) -> Path:
    return make.project(
        PROJECT + extra,
        metrics=metrics or {"wait": metric("wait", 30, 60)},
        files={"calls.csv": calls(waits), "roster.csv": ROSTER},
    )


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Webhook:
    """A local HTTP server keeping every POST (path and JSON body)."""

    def __init__(self) -> None:
        self.posts: list[tuple[str, dict]] = []
        posts = self.posts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                posts.append((self.path, json.loads(self.rfile.read(length))))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture
def smtp():
    from aiosmtpd.controller import Controller

    class Inbox:
        def __init__(self) -> None:
            self.messages: list[email.message.EmailMessage] = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(
                email.message_from_bytes(envelope.content, policy=email.policy.default)
            )
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def check(project_file: Path, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(
        app, ["check", "-p", str(project_file), "--no-cache", *args], env=env or {}
    )


def hook_url(hook: Webhook) -> str:
    return f"json://127.0.0.1:{hook.port}/hooks/${{HOOK_TOKEN}}"


def test_the_json_webhook_receives_the_structured_message(make, webhook):
    project_file = build(make)
    result = check(
        project_file, "--by", "team", "--notify", hook_url(webhook), env={"HOOK_TOKEN": SECRET}
    )
    assert result.exit_code == 1, result.output  # Red is critical: the gate fails
    assert len(webhook.posts) == 1
    path, posted = webhook.posts[0]
    assert path == f"/hooks/{SECRET}"  # the variable was read from the environment
    assert posted["type"] == "failure"
    assert posted["title"] == "tpmkit check — Gate, 2026-W10: FAIL, 1 failing"
    body = json.loads(posted["message"])
    assert body["command"] == "check" and body["period"] == "2026-W10"
    assert body["passed"] is False
    assert body["counts"] == {"ok": 1, "warning": 1, "critical": 1}
    assert body["more_breaches"] == 0
    first, second = body["breaches"]
    # failing first: Red's critical (team level), then the operation's warning
    assert first == {
        "metric": "wait",
        "name": "Wait",
        "level": "team",
        "group": {"team": "Red"},
        "period": "2026-W10",
        "status": "critical",
        "value": 70.0,
        "unit": "seconds",
        "n": 2,
        "threshold": "above critical 60.0s",
        "owner": "team_lead",
        "action": "add staff",
        "driver": None,  # explain runs at the operation level only
        "failed": True,
        "reason": None,
    }
    assert (second["level"], second["group"], second["status"]) == ("operation", {}, "warning")
    assert (second["value"], second["threshold"], second["failed"]) == (
        40.0,
        "above warning 30.0s",
        False,
    )
    assert second["action"] == "check staffing"
    # the masked target, and never the secret
    assert f"notify: sent to json://127.0.0.1:{webhook.port}/…" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_the_text_message_lists_each_breach_with_owner_and_action(make):
    loaded = api.load(build(make))
    checked = loaded.check(by=["team"], cache=False)
    done = loaded.notify(checked, dry_run=True)
    assert done.outcomes == []  # no target: nothing to send, but the message is there
    text = done.message.text()
    assert text.splitlines() == [
        "3 judged: 1 critical, 1 warning, 1 ok.",
        "",
        "Breaches (2):",
        "• critical — Wait, team Red: 70.0s, above critical 60.0s · owner: team_lead → add staff",
        "• warning — Wait: 40.0s, above warning 30.0s · owner: team_lead → check staffing",
    ]


def test_the_email_carries_the_report_attached(make, smtp, tmp_path):
    project_file = build(make)
    output = tmp_path / "out" / "report.html"
    url = f"mailto://127.0.0.1:{smtp.port}?from=tpmkit@example.org&to=${{MAIL_TO}}&mode=insecure"
    result = runner.invoke(
        app,
        ["report", "-p", str(project_file), "--no-cache", "-o", str(output), "--notify", url],
        env={"MAIL_TO": "ops@example.org"},
    )
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "ops@example.org"
    assert mail["Subject"] == "tpmkit report — Gate, 2026-W10: 1 breach"
    # the plain-text part keeps the message's lines: one per breach (Apprise is told the
    # body is text; as its default HTML, the plain part ran every line into one)
    body = mail.get_body(preferencelist=("plain",)).get_content()
    assert body.splitlines() == [
        "1 judged: 1 warning.",
        "",
        "Breaches (1):",
        "• warning — Wait: 40.0s, above warning 30.0s · owner: team_lead → check staffing",
        "",
        f"Report: {output.resolve()}",
    ]
    attachments = list(mail.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["report.html"]
    assert attachments[0].get_payload(decode=True) == output.read_bytes()
    assert f"notify: sent to mailto://127.0.0.1:{smtp.port}/…" in result.stderr
    assert "ops@example.org" not in result.stderr  # the address came from a variable
    assert "ops@example.org" not in output.read_text(encoding="utf-8")  # nor in the report


def test_notify_on_change_sends_once_for_unchanged_data(make, webhook):
    project_file = build(make)  # notify_on is not set: `change` by default
    env = {"HOOK_TOKEN": SECRET}
    args = ("--by", "team", "--notify", hook_url(webhook), "--record")
    first = check(project_file, *args, env=env)
    second = check(project_file, *args, env=env)
    assert (first.exit_code, second.exit_code) == (1, 1)  # the breach still fails the gate
    assert len(webhook.posts) == 1
    assert "no status changed since the last recorded run (notify_on: change)" in second.stderr
    # another scope (no --by) is another conversation: its first run sends
    third = check(project_file, "--notify", hook_url(webhook), "--record", env=env)
    assert third.exit_code == 0 and len(webhook.posts) == 2  # 40s: a warning, not gated
    # Blue now breaches too: a status changed, so the grouped check sends again
    (project_file.parent / "calls.csv").write_text(calls([70, 70, 70, 70]))
    fourth = check(project_file, *args, env=env)
    assert len(webhook.posts) == 3, fourth.output
    statuses = json.loads(webhook.posts[-1][1]["message"])["breaches"]
    assert {(b["level"], json.dumps(b["group"]), b["status"]) for b in statuses} == {
        ("operation", "{}", "critical"),
        ("team", '{"team": "Red"}', "critical"),
        ("team", '{"team": "Blue"}', "critical"),
    }
    # the history keeps the statuses, never the URL or its secret
    for file in (project_file.parent / ".tpmkit" / "history").rglob("*"):
        if file.is_file():
            assert SECRET.encode() not in file.read_bytes()
            assert b"hooks" not in file.read_bytes()


def test_a_failed_delivery_is_sent_again_next_run(make, webhook):
    project_file = build(make)
    dead = f"json://127.0.0.1:{free_port()}/${{HOOK_TOKEN}}"
    env = {"HOOK_TOKEN": SECRET}
    failed = check(project_file, "--by", "team", "--notify", dead, "--record", env=env)
    assert failed.exit_code == 1
    again = check(project_file, "--by", "team", "--notify", hook_url(webhook), "--record", env=env)
    assert len(webhook.posts) == 1, again.output  # the last message never arrived


def test_notify_on_breach_and_always(make, webhook):
    healthy = build(make, HEALTHY, extra="notify_on: breach\n")
    env = {"HOOK_TOKEN": SECRET}
    quiet = check(healthy, "--notify", hook_url(webhook), env=env)
    assert quiet.exit_code == 0 and webhook.posts == []
    assert "not sent" in quiet.stderr and "no breach (notify_on: breach)" in quiet.stderr
    text = healthy.read_text().replace("notify_on: breach", "notify_on: always")
    healthy.write_text(text)
    for _ in range(2):
        assert check(healthy, "--notify", hook_url(webhook), "--record", env=env).exit_code == 0
    assert len(webhook.posts) == 2  # always: every run, even unchanged
    posted = webhook.posts[0][1]
    assert posted["title"] == "tpmkit check — Gate, 2026-W10: PASS" and posted["type"] == "info"


def test_dry_run_prints_the_message_and_sends_nothing(make, webhook):
    project_file = build(make)
    result = check(
        project_file,
        *("--by", "team", "--notify", hook_url(webhook), "--dry-run"),
        env={"HOOK_TOKEN": SECRET},
    )
    assert result.exit_code == 1
    assert webhook.posts == []
    out = result.stdout
    assert f"--- notification to json://127.0.0.1:{webhook.port}/…, not sent (dry run)" in out
    assert "tpmkit check — Gate, 2026-W10: FAIL, 1 failing" in out
    assert "• warning — Wait: 40.0s, above warning 30.0s · owner: team_lead" in out
    assert '"command": "check"' in out  # the JSON body a webhook would get
    assert SECRET not in result.stdout + result.stderr


def test_dry_run_with_json_output_keeps_stdout_one_document(make):
    result = check(build(make), "--format", "json", "--dry-run")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["period"] == "2026-W10"
    assert "--- notification no notify target: this is the message" in result.stderr


def test_an_unreachable_target_keeps_the_breach_exit_code(make):
    dead = f"json://127.0.0.1:{free_port()}/${{HOOK_TOKEN}}"
    env = {"HOOK_TOKEN": SECRET}
    breached = check(build(make), "--by", "team", "--notify", dead, env=env)
    assert breached.exit_code == 1  # the breach, not the delivery
    shown = (
        f"error: notify: could not deliver to json://127.0.0.1:{dead.split(':')[2].split('/')[0]}/…"
    )
    assert shown in breached.stderr
    assert SECRET not in breached.stdout + breached.stderr


def test_an_unreachable_target_without_a_breach_exits_2(make):
    dead = f"json://127.0.0.1:{free_port()}/${{HOOK_TOKEN}}"
    result = check(build(make, HEALTHY), "--notify", dead, env={"HOOK_TOKEN": SECRET})
    assert result.exit_code == 2
    assert "PASS" in result.stdout and "could not deliver to json://127.0.0.1:" in result.stderr
    assert SECRET not in result.stdout + result.stderr


def test_a_missing_variable_is_exit_2_naming_it(make, webhook):
    result = check(build(make), "--notify", hook_url(webhook), env={})
    assert result.exit_code == 2
    assert "--notify: the environment variable HOOK_TOKEN is not set" in result.stderr
    assert "PASS" not in result.stdout and "FAIL" not in result.stdout  # nothing computed
    assert webhook.posts == []
    in_file = build(make, extra="notify:\n  - url: json://127.0.0.1/${NO_SUCH_TOKEN}\n")
    result = check(in_file, env={})
    assert result.exit_code == 2
    assert "notify[0] in tpmkit.yaml: the environment variable NO_SUCH_TOKEN is not set" in (
        result.stderr
    )
    assert "tpmkit.yaml:8:10: hint: notify[0].url" in result.stderr  # where it is written


def test_targets_filtered_by_metrics_and_roles(make, webhook):
    extra = (
        "notify:\n"
        f"  - url: json://127.0.0.1:{webhook.port}/wait\n"
        "    metrics: [wait]\n"
        f"  - url: json://127.0.0.1:{webhook.port}/slow\n"
        "    metrics: [slow]\n"
        f"  - url: json://127.0.0.1:{webhook.port}/director\n"
        "    roles: [agent]\n"
    )
    slow = metric("slow", 100, 200).replace("roles: [team_lead]", "roles: [agent]")
    project_file = build(make, extra=extra, metrics={"wait": metric("wait", 30, 60), "slow": slow})
    result = check(project_file, "--by", "team")
    assert result.exit_code == 1, result.output
    posted = {path: json.loads(body["message"]) for path, body in webhook.posts}
    assert set(posted) == {"/wait", "/slow", "/director"}
    assert [b["group"] for b in posted["/wait"]["breaches"]] == [{"team": "Red"}, {}]
    assert posted["/slow"]["breaches"] == []  # 40s and 70s are below slow's 100s warning
    assert posted["/director"]["breaches"] == []  # the agent view holds slow only
    assert webhook.posts[1][1]["title"] == "tpmkit check — Gate, 2026-W10: PASS"


def test_a_role_hears_of_the_metrics_it_owns(make, webhook):
    # `wait` is owned by the operations manager but in the team leads' view only: the owner
    # acts on its breach, so a target for the owner's role hears of it (review of issue 18:
    # such a target was told "no breach" while the gate failed)
    extra = (
        "notify_on: breach\nnotify:\n"
        f"  - url: json://127.0.0.1:{webhook.port}/owner\n"
        "    roles: [operations_manager]\n"
        f"  - url: json://127.0.0.1:{webhook.port}/trainer\n"
        "    roles: [trainer]\n"
    )
    owned = metric("wait", 30, 60).replace("owner: team_lead", "owner: operations_manager")
    result = check(build(make, extra=extra, metrics={"wait": owned}), "--by", "team")
    assert result.exit_code == 1, result.output
    posted = {path: json.loads(body["message"]) for path, body in webhook.posts}
    assert set(posted) == {"/owner"}
    assert [b["group"] for b in posted["/owner"]["breaches"]] == [{"team": "Red"}, {}]
    # the trainer neither owns nor views it: not sent, and not called "no breach"
    assert (
        "no breach among this target's metrics (2 breach(es) outside its roles and metrics"
        in result.stderr
    )


def test_an_unknown_metric_in_a_target_is_exit_2(make):
    project_file = build(make, extra="notify:\n  - url: json://127.0.0.1/x\n    metrics: [wiat]\n")
    result = check(project_file)
    assert result.exit_code == 2
    assert "notify[0] in tpmkit.yaml" in result.stderr and "wait" in result.stderr
    assert "tpmkit.yaml:9:14: hint: notify[0].metrics" in result.stderr


def test_a_group_below_min_sample_does_not_alert(make):
    # min_sample 3: each team has 2 calls (insufficient_sample), the operation 4 (judged)
    project_file = build(make, metrics={"wait": metric("wait", 30, 60, "min_sample: 3\n")})
    loaded = api.load(project_file)
    done = loaded.notify(loaded.check(by=["team"], cache=False), dry_run=True)
    breaches = [(a.level, a.group, a.status) for a in done.message.alerts]
    assert breaches == [("operation", {}, "warning")]


def test_settings_are_validated(make):
    project_file = build(make, extra="notify_on: sometimes\n")
    result = check(project_file)
    assert result.exit_code == 2 and "notify_on" in result.stderr
    assert "tpmkit.yaml:" in result.stderr
    project_file = build(make, extra="notify:\n  - url: json://127.0.0.1/x\n    channel: ops\n")
    result = check(project_file)
    assert result.exit_code == 2 and "channel" in result.stderr
    result = check(build(make), "--notify", "nosuchservice://x/y")
    assert result.exit_code == 2
    assert "--notify: nosuchservice://… is not a notification URL Apprise can use" in (
        result.stderr
    )


def test_a_long_message_is_capped_with_the_rest_in_the_report(tmp_path):
    example = Path(__file__).resolve().parents[1] / "examples" / "contact-center"
    loaded = api.load(example / "tpmkit.yaml")
    checked = loaded.check(by=["team"], cache=False, why=False)
    done = loaded.notify(checked, dry_run=True)
    message = done.message
    # 23 critical and 9 warnings. Before judging on cadence (issue 20 review) there were 37:
    # annualised attrition (the operation and two teams, critical), nps (critical) and mttr
    # (warning, the example's own metric) are reviewed monthly, so a week no longer judges
    # them — the message says so
    assert len(message.alerts) == 32
    assert not {"attrition_rate", "nps", "mttr"} & {a.metric for a in message.alerts}
    assert message.off_cadence["attrition_rate"] == (
        "judged monthly — run with --period month or longer"
    )
    text = message.text()
    assert text.count("\n• ") == 8 + 3  # 8 breaches and 3 early warnings shown
    assert "… and 24 more: `tpmkit check` lists them all" in text
    assert (
        "Not judged on this period (judged monthly — run with --period month or longer): " in text
    )
    message.report = tmp_path / "r.html"
    assert f"… and 24 more: see the report, {tmp_path / 'r.html'}" in message.text()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("json://hooks.internal:8080/T0KEN/abc", "json://hooks.internal:8080/…"),
        ("json://hooks.internal", "json://hooks.internal"),
        ("json://${HOST}/x", "json://…"),
        ("slack://TokenA/TokenB/TokenC", "slack://…"),
        ("mailto://user:pw@smtp.example.org?to=a@b.org", "mailto://smtp.example.org/…"),
        ("msteams://group@tokenA/tokenB/tokenC", "msteams://…"),
        ("not a url", "…"),
    ],
)
def test_targets_are_shown_masked(url, shown):
    assert mask(url) == shown


def test_a_report_whose_delivery_fails_is_still_written_and_exits_2(make, tmp_path):
    output = tmp_path / "weekly.html"
    dead = f"json://127.0.0.1:{free_port()}/${{HOOK_TOKEN}}"
    result = runner.invoke(
        app,
        ["report", "-p", str(build(make)), "--no-cache", "-o", str(output), "--notify", dead],
        env={"HOOK_TOKEN": SECRET},
    )
    assert result.exit_code == 2
    assert output.exists()
    assert "error: notify: could not deliver to json://127.0.0.1:" in result.stderr
    assert SECRET not in result.stdout + result.stderr + output.read_text(encoding="utf-8")


def test_an_early_warning_is_in_the_message(make, webhook):
    # waits 10, 14, 18, 22, 26 s in weeks W10-W14: +4 s a week; the line reaches the 30 s
    # warning level in W15 and is past it in W16 (34 s), as the check line says
    weeks = ["2026-03-02", "2026-03-09", "2026-03-16", "2026-03-23", "2026-03-30"]
    lines = ["contact_id,offered_at,agent_id,answered,wait_seconds"]
    lines += [f"c{i},{day} 10:00:00,a1,Y,{10 + 4 * i}" for i, day in enumerate(weeks)]
    project_file = make.project(
        PROJECT,
        metrics={"wait": metric("wait", 30, 60)},
        files={"calls.csv": "\n".join(lines) + "\n", "roster.csv": ROSTER},
    )
    result = check(project_file, "--at", "2026-W14", "--notify", f"json://127.0.0.1:{webhook.port}")
    assert result.exit_code == 0, result.output
    assert "projected warning by 2026-W16" in result.stdout  # the check line agrees
    body = json.loads(webhook.posts[0][1]["message"])
    assert body["breaches"] == []
    assert body["early_warnings"] == [
        {
            "metric": "wait",
            "name": "Wait",
            "level": "operation",
            "group": {},
            "projected": "warning by 2026-W16",
            "value": 26.0,
            "unit": "seconds",
        }
    ]
    assert webhook.posts[0][1]["title"] == "tpmkit check — Gate, 2026-W14: PASS"


# --- secrets cut out of what is shown -------------------------------------------------------


def test_overlapping_secrets_leave_nothing_of_either():
    from tpmkit.notify.secrets import scrub

    # "abcd1234" and "1234wxyz" overlap in "abcd1234wxyz": replacing one first used to
    # leave the other's tail ("…wxyz"); the places are merged now
    assert scrub("token abcd1234wxyz refused", ["abcd1234", "1234wxyz"]) == "token … refused"
    # a secret inside a longer one
    assert scrub("key LONGSECRET99 bad", ["SECRET99", "LONGSECRET99"]) == "key … bad"


def test_every_url_in_a_reason_is_cut_to_its_scheme():
    from tpmkit.notify.secrets import scrub

    # Apprise shortens a URL's tokens itself (first and last character): no form of the
    # secret matches "s...N", so every URL in a reason is cut (found by a review, issue 18)
    reason = "Could not load Slack URL: slack://s...N/s...N; see (https://h/LONGSECRET99/x)"
    assert scrub(reason, ["s3cr3tTOKEN"]) == "Could not load Slack URL: slack://…; see (https://…)"


def test_validate_never_shows_apprise_s_shortened_secret(tmp_path):
    project = tmp_path / "tpmkit.yaml"
    project.write_text('name: t\nnotify: [{url: "slack://${HOOKTOK}/${HOOKTOK}"}]\n')
    result = validate(project, env={"HOOKTOK": "s3cr3tTOKEN"})
    shown = result.stdout + result.stderr
    assert "slack://" in shown  # the problem is still named
    assert "s...N" not in shown and "s3cr3tTOKEN" not in shown


def test_encoded_and_decoded_forms_are_cut():
    from tpmkit.notify.secrets import scrub

    secret = "p@ss/w rd+1"
    for written in ("p%40ss%2Fw%20rd%2B1", "p%40ss%2fw%20rd%2b1", "p%40ss/w%20rd%2B1",
                    "p%40ss%2Fw+rd%2B1", secret):  # fmt: skip
        assert scrub(f"login {written} failed", [secret]) == "login … failed", written
    # a value given encoded in the environment, logged decoded by Apprise
    assert scrub("user p@ss/word!", ["p%40ss%2Fword%21"]) == "user …"


def test_a_short_secret_withholds_the_whole_reason():
    from tpmkit.notify.secrets import WITHHELD, scrub

    # "ab12" is also part of ordinary text: cut out, the gaps would spell it
    assert scrub("table ab12 at host", ["ab12"]) == WITHHELD
    assert scrub("no secret here", ["ab12"]) == "no secret here"


def test_apprise_reasons_never_show_a_secret_in_any_form(make):
    # the token sits in the URL path; the dead target's reason (Apprise's log) names the
    # URL. A token with characters that URL-encoding changes must not leak encoded either.
    token = "t0k3n/with spaces&more"
    dead = f"json://127.0.0.1:{free_port()}/hooks/${{HOOK_TOKEN}}"
    result = check(build(make), "--by", "team", "--notify", dead, env={"HOOK_TOKEN": token})
    assert result.exit_code == 1
    shown = result.stdout + result.stderr
    assert "could not deliver to json://127.0.0.1:" in shown
    from urllib.parse import quote, quote_plus

    for form in (token, quote(token, safe=""), quote(token), quote_plus(token), "t0k3n"):
        assert form not in shown, form


# --- tpmkit validate on the notify: targets --------------------------------------------------

VALIDATED = """notify:
  - url: json://hooks.example.org/${NO_SUCH_VAR}
    metrics: [wiat]
  - url: "jsn://hooks.example.org/x"
  - url: json://hooks.example.org/${bad name}
  - url: json://hooks.example.org/x
    roles: [agent]
    metrics: [wait]
  - url: hooks.example.org/${HOOK_TOKEN}
  - url: json://
"""


def validate(project_file: Path, *args: str, env: dict[str, str] | None = None):
    return runner.invoke(app, ["validate", "-p", str(project_file), *args], env=env or {})


def test_validate_locates_every_notify_problem(make):
    project_file = build(make, extra=VALIDATED)
    # PROJECT is 6 lines, so `notify:` is line 7 and its first target line 8; a value after
    # `  - url: ` starts at column 10 (11 when quoted), `${` after json://hooks.example.org/
    # (25 characters) at column 35
    result = validate(project_file, env={"HOOK_TOKEN": SECRET})
    assert result.exit_code == 2, result.output
    out = result.stdout + result.stderr
    expected = [
        "tpmkit.yaml:8:35: warning: notify[0].url: the environment variable NO_SUCH_VAR is "
        "not set here; check and report stop (exit 2) where it is not set",
        "tpmkit.yaml:9:15: error: notify[0].metrics: unknown metric `wiat`  (did you mean `wait`?)",
        "tpmkit.yaml:10:11: error: notify[1].url: `jsn://` is not a service Apprise knows  "
        "(did you mean `json`?)",
        "tpmkit.yaml:11:35: error: notify[2].url: `${bad name}` is not an environment "
        "variable name",
        "tpmkit.yaml:14:15: warning: notify[3]: metric `wait` is in no view of the roles "
        "agent and owned by none of them, this target never hears about it",
        "tpmkit.yaml:15:10: error: notify[4].url: `…` is not a URL: write scheme://…",
        "tpmkit.yaml:16:10: error: notify[5].url: json://… is not a notification URL Apprise "
        "can use",
    ]
    for line in expected:
        assert line in out, line
    assert SECRET not in out  # the value of a variable that is set is never shown


def test_validate_reports_an_unknown_role_with_did_you_mean(make):
    project_file = build(
        make, extra="notify:\n  - url: json://hooks.example.org/x\n    roles: [team_leed]\n"
    )
    result = validate(project_file)
    assert result.exit_code == 2
    assert "tpmkit.yaml:9:13: error: `notify.0.roles.0`: 'team_leed' is not allowed" in (
        result.stdout + result.stderr
    )
    assert "did you mean `team_lead`?" in result.stdout + result.stderr


def test_validate_passes_clean_targets_and_warns_only_on_unset_variables(make):
    extra = "notify:\n  - url: json://hooks.example.org/${HOOK_TOKEN}\n    metrics: [wait]\n"
    project_file = build(make, extra=extra)
    assert validate(project_file, env={"HOOK_TOKEN": SECRET}).exit_code == 0
    unset = validate(project_file)
    assert unset.exit_code == 0  # a warning: the review machine need not hold the secret
    assert "warning: notify[0].url: the environment variable HOOK_TOKEN is not set" in (
        unset.stdout + unset.stderr
    )
    assert validate(project_file, "--strict").exit_code == 2


def test_a_stale_export_is_in_the_message_and_alerts(make, webhook):
    # healthy waits, but the calls export is stale: latest call Wed 11 March 10:00 UTC; on
    # Sat 14 March 09:00 it is 2 days 23 hours old, past max_age 1d. notify_on: breach
    # sends: a stale export is something to act on, though no metric breaches
    project_file = make.project(
        PROJECT.replace("{path: calls.csv}", "{path: calls.csv, freshness: {max_age: 1d}}")
        + "notify_on: breach\n",
        metrics={"wait": metric("wait", 30, 60)},
        files={"calls.csv": calls(HEALTHY), "roster.csv": ROSTER},
    )
    line = "source calls: stale: latest timestamp 2026-03-11 10:00 UTC is 2d 23h old (max_age 1d)"
    url = f"json://127.0.0.1:{webhook.port}"
    result = check(project_file, "--now", "2026-03-14T09:00", "--notify", url, "--record")
    assert result.exit_code == 1 and f"FAIL {line}" in result.stdout
    (posted,) = [body for _, body in webhook.posts]
    assert posted["title"] == "tpmkit check — Gate, 2026-W10: FAIL, source calls stale"
    body = json.loads(posted["message"])
    assert body["sources"] == [line] and body["breaches"] == []
    text = api.load(project_file).notify(
        api.load(project_file).check(cache=False, now=dt.datetime(2026, 3, 14, 9, tzinfo=dt.UTC)),
        dry_run=True,
    )
    assert text.message.text().splitlines()[:3] == ["Sources (1):", f"• {line}", ""]
    # notify_on: change — the same stale run again is not sent; the export coming back is a
    # change, though every metric is ok as before: on Wed 11 March 12:00 it is 2 hours old
    project_file.write_text(project_file.read_text().replace("notify_on: breach", ""))
    again = check(project_file, "--now", "2026-03-14T09:00", "--notify", url, "--record")
    assert again.exit_code == 1 and len(webhook.posts) == 1
    fresh = check(project_file, "--now", "2026-03-11T12:00", "--notify", url, "--record")
    assert fresh.exit_code == 0, fresh.output
    assert len(webhook.posts) == 2
    assert webhook.posts[1][1]["title"] == "tpmkit check — Gate, 2026-W10: PASS"


def test_report_dry_run_writes_the_report_and_sends_nothing(make, webhook, tmp_path):
    output = tmp_path / "weekly.md"
    result = runner.invoke(
        app,
        ["report", "-p", str(build(make)), "--no-cache", "-o", str(output), "--dry-run",
         "--notify", hook_url(webhook)],
        env={"HOOK_TOKEN": SECRET},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert output.exists() and webhook.posts == []
    out = result.stdout
    assert f"--- notification to json://127.0.0.1:{webhook.port}/…, not sent (dry run)" in out
    assert "tpmkit report — Gate, 2026-W10: 1 breach" in out
    assert f"Report: {output.resolve()}" in out and '"command": "report"' in out
    assert SECRET not in result.stdout + result.stderr


def test_the_report_message_names_the_top_driver_of_a_breach():
    # the example's W46 critical-error rate (8.0 %, critical above 6 %): the report explains
    # it against W45 and its breach line in the message carries the same driver as check's
    example = Path(__file__).resolve().parents[1] / "examples" / "contact-center"
    loaded = api.load(example / "tpmkit.yaml")
    now = dt.datetime(2026, 11, 16, 8, tzinfo=dt.UTC)
    built = loaded.report(["auto_fail_rate"], role="operations_manager", now=now)
    done = loaded.notify(built, dry_run=True)
    (operation,) = [a for a in done.message.alerts if not a.group]
    assert operation.driver == "auto_fail_rate +4.6 pp: in-house +5.4 pp (rate)"
    assert "· why: auto_fail_rate +4.6 pp: in-house +5.4 pp (rate) →" in done.message.text()
