"""Shared fixtures: build small projects from inline YAML and CSV, evaluate them."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tpmkit import project as api

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


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
