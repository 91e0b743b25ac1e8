"""A value read from an export never acts on the terminal or the CI log it is printed to:
a newline in an agent id must not start a GitHub workflow command (`::error …`), an ESC must
not recolour the terminal. Both are written as escapes (`\\n`, `\\x1b`)."""

from __future__ import annotations

from typer.testing import CliRunner

from tpmkit.cli.app import app

PROJECT = """\
name: Hostile
timezone: UTC
metrics: [builtin]
sources:
  calls: {path: calls.csv}
"""
HOSTILE = "A9\n::error file=x::INJECTED"
ESCAPE = "A8\x1b[31mRED"


def calls() -> str:
    rows = ["contact_id,offered_at,agent_id,answered,wait_seconds,talk_seconds"]
    for i, agent in enumerate([HOSTILE, ESCAPE, "A1"] * 12):
        quoted = '"' + agent + '"'
        rows.append(f"c{i},2026-01-0{1 + i % 7} 10:{i:02d}:00,{quoted},Y,{200 + i},300")
    return "\n".join(rows) + "\n"


def test_no_export_value_prints_a_control_character(make):
    path = make.project(PROJECT, files={"calls.csv": calls()})
    runner = CliRunner()
    for args in (
        ["check", "aht", "--by", "agent_id", "--period", "all", "--github", "--no-why"],
        ["evaluate", "aht", "--by", "agent_id", "--period", "all"],
        ["trend", "aht", "--by", "agent_id", "--period", "day"],
    ):
        result = runner.invoke(app, [*args, "-p", str(path), "--no-cache"], env={"COLUMNS": "200"})
        assert result.exit_code in (0, 1), (args, result.output)
        lines = result.output.splitlines()
        assert not [line for line in lines if line.startswith("::error file=x")], args
        assert "\x1b" not in result.output, args
        assert "A9\\n::error file=x::INJECTED" in result.output or "A9\\n" in result.output, args
