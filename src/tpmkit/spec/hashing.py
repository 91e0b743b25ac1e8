"""The audit hash of a metric definition as used."""

from __future__ import annotations

import hashlib
import json

from tpmkit.spec.models import MetricSpec


def definition_hash(spec: MetricSpec) -> str:
    """A stable hash of the definition as used (for audit): sha256 of canonical JSON."""
    canonical = json.dumps(spec.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]
