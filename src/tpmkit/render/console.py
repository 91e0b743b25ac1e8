"""What the CLI prints in the terminal, gathered in one place to import from; each concern
has its own module: terminal (consoles, diagnostics, progress), tables (records and
trends), catalogue (metrics list/show), history_table and scorecard_table."""

from __future__ import annotations

from tpmkit.render.catalogue import print_catalogue, print_metric
from tpmkit.render.history_table import print_history, print_runs
from tpmkit.render.scorecard_table import print_scorecard
from tpmkit.render.summary import print_summary
from tpmkit.render.tables import metric_table, print_records, print_trend, trend_rows
from tpmkit.render.terminal import print_error, print_issues, progress, stderr, stdout

__all__ = [
    "metric_table",
    "print_catalogue",
    "print_error",
    "print_history",
    "print_issues",
    "print_metric",
    "print_records",
    "print_runs",
    "print_scorecard",
    "print_summary",
    "print_trend",
    "progress",
    "stderr",
    "stdout",
    "trend_rows",
]
