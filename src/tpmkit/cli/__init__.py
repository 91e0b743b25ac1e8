"""The `tpmkit` command line (see `app.py`)."""

from tpmkit.cli.app import app, main

__all__ = ["app", "main"]
