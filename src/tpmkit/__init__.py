"""tpmkit: contact-center performance measures as version-controlled YAML, computed with polars.

The Python API (docs/python.md)::

    import tpmkit
    project = tpmkit.load("tpmkit.yaml")          # validated; raises tpmkit.DefinitionError
    ev = project.evaluate(["aht", "service_level"], period="week", by=["team"], last=8)
    ev.records                                     # polars DataFrame, the output contract
    tpmkit.check(ev, fail_on="critical")          # judging takes records, never re-reads data

The names below are imported on first use, so `import tpmkit` (and `tpmkit --help`) stays
fast and importing any module of the package does not pull in the rest.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

# public name -> the module that defines it
_LAZY = {
    "Annotation": "tpmkit.annotations.model",
    "load": "tpmkit.project",
    "validate": "tpmkit.project",
    "Project": "tpmkit.project",
    "Need": "tpmkit.needs",
    "Evaluation": "tpmkit.records",
    "DatasetSummary": "tpmkit.records",
    "check": "tpmkit.judge.gate",
    "CheckResult": "tpmkit.judge.gate",
    "Verdict": "tpmkit.judge.gate",
    "ScorecardResult": "tpmkit.judge.scorecard",
    "GoalStatus": "tpmkit.judge.goals",
    "Report": "tpmkit.report.model",
    "to_html": "tpmkit.report.document",
    "to_markdown": "tpmkit.report.markdown",
    "TpmkitError": "tpmkit.errors",
    "DefinitionError": "tpmkit.errors",
    "DataError": "tpmkit.errors",
    "UsageError": "tpmkit.errors",
}

__all__ = [
    "Annotation",
    "CheckResult",
    "DataError",
    "DatasetSummary",
    "DefinitionError",
    "Evaluation",
    "GoalStatus",
    "Need",
    "Project",
    "Report",
    "ScorecardResult",
    "TpmkitError",
    "UsageError",
    "Verdict",
    "__version__",
    "check",
    "load",
    "to_html",
    "to_markdown",
    "validate",
]


def __getattr__(name: str) -> Any:
    """Import a public name on first use."""
    if name not in _LAZY:
        raise AttributeError(f"module 'tpmkit' has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
