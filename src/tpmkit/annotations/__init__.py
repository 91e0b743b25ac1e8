"""Annotations: dated notes on a metric and/or group (an outage, a holiday), kept in an
`annotations` source or annotations.csv beside tpmkit.yaml (docs/annotations.md)."""

from __future__ import annotations

from tpmkit.annotations.add import annotate
from tpmkit.annotations.model import Annotation, spans
from tpmkit.annotations.store import append, read, store_path

__all__ = ["Annotation", "annotate", "append", "read", "spans", "store_path"]
