"""Shared fixtures: build small projects from inline YAML and CSV, evaluate them."""

from __future__ import annotations

import difflib
import os
import tempfile
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tpmkit import project as api

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
GOLDEN = Path(__file__).resolve().parent / "golden"
# Either variable rewrites golden files; the generated docs name the second.
UPDATE_GOLDEN = ("TPMKIT_UPDATE_GOLDEN", "TPMKIT_UPDATE_DOCS")
DIFF_LINES = 60  # enough to see the change, short enough to read in a failure
# the DuckDB engine's compiled-query cache (tpmkit.engines.compiled) of this test session:
# never the user's, shared by the session's tests (and the commands they start), so that
# later evaluations of the same definitions run the compiled SQL
os.environ["TPMKIT_COMPILED_CACHE"] = tempfile.mkdtemp(prefix="tpmkit-compiled-")


class ProjectFactory:
    """Writes a project (tpmkit.yaml, metric files, data files) into a temporary folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, relative: str, text: str | bytes) -> Path:
        """Write a file (dedented text, or raw bytes) relative to the project root."""
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(text, bytes):
            path.write_bytes(text)
        else:
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return path

    def project(
        self,
        yaml_text: str,
        *,
        metrics: dict[str, str] | None = None,
        files: dict[str, str | bytes] | None = None,
    ) -> Path:
        """tpmkit.yaml plus metric files under metrics/ and data files; returns the project path."""
        for name, text in (metrics or {}).items():
            self.write(f"metrics/{name}.yaml", text)
        for name, content in (files or {}).items():
            self.write(name, content)
        return self.write("tpmkit.yaml", yaml_text)


@pytest.fixture
def make(tmp_path: Path) -> ProjectFactory:
    return ProjectFactory(tmp_path)


def evaluate_records(
    project_file: Path, ids: list[str] | None = None, **options: Any
) -> list[dict[str, Any]]:
    """Load and evaluate a project; records as dicts (datetimes as python objects)."""
    loaded = api.load(project_file)
    result = loaded.evaluate(ids or [], **options)
    return result.records.to_dicts()  # type: ignore[attr-defined, no-any-return]


def by_key(records: list[dict[str, Any]], *columns: str) -> dict[Any, dict[str, Any]]:
    """Index records by (metric, period, *group values)."""
    index = {}
    for record in records:
        key = (record["metric"], record["period"], *(record[c] for c in columns))
        index[key] = record
    return index


@pytest.fixture
def records() -> Callable[..., list[dict[str, Any]]]:
    return evaluate_records


@pytest.fixture
def golden(request: pytest.FixtureRequest) -> Callable[[str | Path, str], None]:
    """`golden(name, text)`: text must equal the golden file (a name under tests/golden, or
    a path such as docs/cli.md); TPMKIT_UPDATE_GOLDEN=1 rewrites the file instead."""

    def compare(name: str | Path, text: str) -> None:
        path = name if isinstance(name, Path) else GOLDEN / name
        if any(os.environ.get(variable) for variable in UPDATE_GOLDEN):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        expected = path.read_text(encoding="utf-8") if path.exists() else ""
        if text == expected:
            return
        diff = list(
            difflib.unified_diff(
                expected.splitlines(),
                text.splitlines(),
                f"{path.name} (golden)",
                f"{path.name} (now)",
                lineterm="",
            )
        )
        shown = diff[:DIFF_LINES] + (
            [f"… {len(diff) - DIFF_LINES} more lines"] if len(diff) > DIFF_LINES else []
        )
        pytest.fail(
            f"{path} differs from what the code produces now:\n"
            + "\n".join(shown)
            + "\nIf the change is intended, rewrite it with: "
            f"TPMKIT_UPDATE_GOLDEN=1 python -m pytest '{request.node.nodeid}'",
            pytrace=False,
        )

    return compare
