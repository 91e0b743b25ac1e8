"""`tpmkit init` tells a new user what to do next, and that advice works (issue 17 item 14)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tpmkit.cli import app

CALLS = """\
Call Id,Start,Answered,Wait,Talk
c1,2026-01-05 09:00:00,Y,12,200
c2,2026-01-05 09:05:00,N,40,
"""
MAPPING = """\
    columns: {"Call Id": contact_id, "Start": offered_at, "Answered": answered,
              "Wait": wait_seconds, "Talk": talk_seconds}
"""


def test_init_says_which_file_goes_where_and_the_advice_works(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    created = runner.invoke(app, ["init", "center"])
    assert created.exit_code == 0, created.output
    out = created.output
    # not "evaluate" alone (it fails: the starter's export does not exist yet)
    assert "put your calls export at center/exports/calls.csv" in out
    assert "columns:" in out and "tpmkit init --example" in out
    # before the export is there, evaluate names the missing file (exit 2)
    missing = runner.invoke(app, ["evaluate", "-p", "center/tpmkit.yaml"])
    assert missing.exit_code == 2 and "exports/calls.csv" in missing.output
    # the advice followed: the export where it says, its headers mapped
    (tmp_path / "center" / "exports" / "calls.csv").write_text(CALLS, encoding="utf-8")
    project = tmp_path / "center" / "tpmkit.yaml"
    text = project.read_text(encoding="utf-8")
    project.write_text(
        text.replace("    path: exports/calls.csv\n", "    path: exports/calls.csv\n" + MAPPING),
        encoding="utf-8",
    )
    assert runner.invoke(app, ["validate", "-p", "center/tpmkit.yaml"]).exit_code == 0
    ran = runner.invoke(app, ["evaluate", "-p", "center/tpmkit.yaml", "contacts_offered"])
    assert ran.exit_code == 0, ran.output
    assert "2026-W02" in ran.output


def test_init_example_suggests_commands_that_run(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    created = runner.invoke(app, ["init", "--example", "demo"])
    assert created.exit_code == 0, created.output
    suggested = [
        line.split("next:")[-1].strip()
        for line in created.output.splitlines()
        if line.strip().startswith(("next:", "tpmkit"))
    ]
    assert suggested and all(s.startswith("tpmkit ") for s in suggested)
    for command in suggested:
        result = runner.invoke(app, command.split()[1:])
        assert result.exit_code == 0, f"{command}\n{result.output}"
