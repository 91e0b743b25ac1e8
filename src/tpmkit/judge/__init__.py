"""Judging records: the CI gate, scorecards and individual goals (never re-runs the engine)."""
