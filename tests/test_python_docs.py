"""Every `python` code block of docs/python.md runs, in order, in one namespace, from the
repository root (so the bundled example's path works)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PAGE = REPO / "docs" / "python.md"
BLOCKS = re.findall(r"^```python\n(.*?)^```$", PAGE.read_text(encoding="utf-8"), re.M | re.S)


def test_the_page_has_examples():
    assert len(BLOCKS) >= 6


def test_every_python_block_runs(monkeypatch: pytest.MonkeyPatch, capsys):
    monkeypatch.chdir(REPO)
    namespace: dict[str, object] = {"__name__": "python_docs"}
    for number, code in enumerate(BLOCKS, start=1):
        try:
            exec(compile(code, f"docs/python.md block {number}", "exec"), namespace)
        except Exception as error:  # name the block that failed
            raise AssertionError(f"docs/python.md block {number} failed: {error!r}") from error
    assert "2026-W46" in capsys.readouterr().out
