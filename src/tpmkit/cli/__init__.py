"""The `tpmkit` command line (see `app.py`)."""

from tpmkit.cli.startup import hold

hold()  # before typer and the rest are imported (`tpmkit.cli.startup`)

from tpmkit.cli.app import app, main  # noqa: E402

__all__ = ["app", "main"]
