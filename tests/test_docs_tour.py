"""Every `tpmkit` command of README.md and the docs' tours runs as written (issue 17 item
14), the way typer's documentation examples are tests: the fenced shell blocks are read,
each command runs on a fresh copy of the bundled example, and its exit code is the one the
text documents (0 unless the line ends with `# exit code N: …`).

A command naming `examples/contact-center/` runs from the copy's root (as from a clone of
the repository); any other from inside the copied project (as after `tpmkit init --example`).
A YAML block whose first line is a comment naming a file under examples/ is a file the
reader is told to save: it is written before the commands that follow it."""

from __future__ import annotations

import re
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tpmkit.cli import app

REPO = Path(__file__).resolve().parents[1]
TOURS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
GENERATED = {"cli.md", "metrics.md"}  # reference pages generated from the code
BLOCK = re.compile(r"^```(\w*)\n(.*?)^```", re.S | re.M)
SAVED = re.compile(r"^# (examples/\S+\.ya?ml)\n")
EXIT = re.compile(r"#\s*exit code (\d+)")
EXAMPLE = "examples/contact-center"


@dataclass(frozen=True)
class Step:
    """A command to run, or a file to save, where a tour shows it."""

    where: str  # file:line
    line: str
    save: tuple[str, str] | None = None  # (path, text) of a YAML block to save first

    @property
    def expected(self) -> int:
        found = EXIT.search(self.line)
        return int(found.group(1)) if found else 0


def steps(page: Path) -> list[Step]:
    text = page.read_text(encoding="utf-8")
    found = []
    for block in BLOCK.finditer(text):
        language, body = block.group(1), block.group(2)
        start = text.count("\n", 0, block.start()) + 2
        where = f"{page.relative_to(REPO)}:{start}"
        saved = SAVED.match(body)
        if language == "yaml" and saved:
            found.append(Step(where, "", (saved.group(1), body)))
        if language not in ("sh", "bash", "shell", "console"):
            continue
        for offset, line in enumerate(body.splitlines()):
            if line.strip().startswith("tpmkit "):
                found.append(Step(f"{page.relative_to(REPO)}:{start + offset}", line.strip()))
    return found


ALL = [s for page in TOURS if page.name not in GENERATED for s in steps(page)]


def test_the_tours_have_commands():
    commands = [s.line for s in ALL if s.line]
    # the README's metric is saved before `metrics show` reads it
    saved = [i for i, s in enumerate(ALL) if s.save and "long_hold_rate" in s.save[0]]
    shown = [i for i, s in enumerate(ALL) if "metrics show long_hold_rate" in s.line]
    assert saved and shown and saved[0] < shown[0]
    assert any(c.startswith("tpmkit check") for c in commands)
    assert len(commands) >= 15


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tour")
    shutil.copytree(
        REPO / EXAMPLE, root / EXAMPLE, ignore=shutil.ignore_patterns("__pycache__", ".tpmkit")
    )
    return root


@pytest.mark.parametrize("step", ALL, ids=[f"{s.where} {s.line[:60]}" for s in ALL])
def test_tour_command_runs_as_documented(
    step: Step, workspace: Path, monkeypatch: pytest.MonkeyPatch
):
    # the files the text asks the reader to save before this command, where it says
    for before in ALL[: ALL.index(step) + 1]:
        if before.save:
            path, text = before.save
            (workspace / path).write_text(text, encoding="utf-8")
    if step.save:
        return
    args = shlex.split(step.line, comments=True)[1:]
    monkeypatch.chdir(workspace if EXAMPLE in step.line else workspace / EXAMPLE)
    result = CliRunner().invoke(app, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        f"{step.where}: {step.line}\n{result.output}"
    )
    assert result.exit_code == step.expected, f"{step.where}: {step.line}\n{result.output}"
