"""tpmkit's benchmarks (`python -m benchmarks --help`)."""

import os

# The environment every timed tool is launched with: the one the benchmark started with.
# Importing polars writes its allocator settings into this process's environment, which
# child processes would inherit, so a tool would not run as it runs from a user's shell
# (tpmkit's command line sets its own allocator settings only where none are set,
# `tpmkit.allocator`).
LAUNCH_ENVIRONMENT = dict(os.environ)
