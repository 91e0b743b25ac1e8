"""JSON Schema of the project file and of metric files, for editors (YAML language server)
and for review tools. Generated from the same pydantic models that validate the files."""

from __future__ import annotations

import json
from typing import Any

from tpmkit.spec.models import MetricSpec, ProjectSpec

DRAFT = "https://json-schema.org/draft/2020-12/schema"


def project_schema() -> dict[str, Any]:
    schema = ProjectSpec.model_json_schema()
    return {
        "$schema": DRAFT,
        "title": "tpmkit project file (tpmkit.yaml)",
        **{k: v for k, v in schema.items() if k != "title"},
    }


def metric_schema() -> dict[str, Any]:
    """A metric file holds one metric or a list of metrics."""
    schema = MetricSpec.model_json_schema()
    definitions = schema.pop("$defs", {})
    definitions["MetricSpec"] = schema
    return {
        "$schema": DRAFT,
        "title": "tpmkit metric file",
        "anyOf": [
            {"$ref": "#/$defs/MetricSpec"},
            {"type": "array", "items": {"$ref": "#/$defs/MetricSpec"}},
        ],
        "$defs": definitions,
    }


SCHEMAS = {"project": project_schema, "metric": metric_schema}


def schema_text(kind: str) -> str:
    return json.dumps(SCHEMAS[kind](), indent=2, sort_keys=True) + "\n"
