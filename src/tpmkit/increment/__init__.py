"""Incremental runs: the cells of closed periods whose export files, definitions and
tpmkit version are unchanged are served from a records cache; only the periods new or
changed files touch (and those a repeat window or horizon reaches into) are recomputed,
from the files holding their rows. See docs/project-file.md, "Incremental runs"."""

from tpmkit.increment.planner import begin
from tpmkit.increment.run import compute, whole_columns
from tpmkit.increment.session import Session

__all__ = ["Session", "begin", "compute", "whole_columns"]
