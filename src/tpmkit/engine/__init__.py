"""The engine: pure functions over polars frames (no I/O, no printing)."""
