"""Docs stay true: the CLI reference is generated from --help, every command documented.

Regenerate with:  TPMKIT_UPDATE_DOCS=1 python -m pytest tests/test_docs.py
"""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tpmkit.cli import app

DOCS = Path(__file__).resolve().parents[1] / "docs"
COMMANDS = [
    [],
    ["evaluate"],
    ["check"],
    ["explain"],
    ["report"],
    ["trend"],
    ["history"],
    ["scorecard"],
    ["validate"],
    ["schema"],
    ["metrics", "list"],
    ["metrics", "show"],
    ["init"],
]
HEADER = """# Command-line reference

Generated from `tpmkit … --help` by `tests/test_docs.py`
(`TPMKIT_UPDATE_DOCS=1 python -m pytest tests/test_docs.py` rewrites it).
Exit codes and output fields are described in [output.md](output.md).
"""


def help_text(command: list[str]) -> str:
    result = CliRunner().invoke(
        app, [*command, "--help"], terminal_width=88, env={"COLUMNS": "88", "NO_COLOR": "1"}
    )
    assert result.exit_code == 0, result.output
    return result.output.rstrip() + "\n"


def render_reference() -> str:
    parts = [HEADER]
    for command in COMMANDS:
        title = " ".join(["tpmkit", *command])
        parts.append(f"\n## `{title}`\n\n```\n{help_text(command)}```\n")
    return "".join(parts)


def test_cli_reference_is_current(golden):
    golden(DOCS / "cli.md", render_reference())


def test_every_command_has_help_and_is_documented():
    readme = (DOCS.parent / "README.md").read_text(encoding="utf-8")
    for command in COMMANDS[1:]:
        text = help_text(command)
        assert len(text.splitlines()) > 3
        assert command[0] in readme or command[0] in (DOCS / "cli.md").read_text()


def test_readme_starts_with_the_two_commands():
    lines = (DOCS.parent / "README.md").read_text(encoding="utf-8").splitlines()
    commands = [line for line in lines if line.startswith("python3 -m venv")]
    assert commands[0].endswith("tpmkit evaluate -p examples/contact-center/tpmkit.yaml")
    assert commands[1].endswith('pip install -e ".[test]" && python -m pytest -q')
    ci = (DOCS.parent / ".ci" / "run").read_text(encoding="utf-8")
    assert commands[1] in ci


def test_json_schemas_in_docs_are_current(golden):
    from tpmkit.spec.schema import SCHEMAS, schema_text

    for kind in SCHEMAS:
        golden(DOCS / "schema" / f"{kind}.schema.json", schema_text(kind))


def test_metric_schema_knows_every_key_the_catalogue_uses():
    import json

    import yaml

    schema = json.loads((DOCS / "schema" / "metric.schema.json").read_text())
    metric = schema["$defs"]["MetricSpec"]
    assert metric["additionalProperties"] is False  # unknown keys are flagged in editors
    for path in sorted((DOCS.parent / "metrics").glob("*.yaml")):
        keys = set(yaml.safe_load(path.read_text()))
        assert keys <= set(metric["properties"]), (path.name, keys - set(metric["properties"]))
    project = json.loads((DOCS / "schema" / "project.schema.json").read_text())
    example = yaml.safe_load((DOCS.parent / "examples/contact-center/tpmkit.yaml").read_text())
    assert set(example) <= set(project["properties"])
