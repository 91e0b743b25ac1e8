"""The `tpmkit` command line: parse options, call the library once, render, return an
exit code. This module builds the app and turns library errors into messages that name
the command's flags; the commands live beside it, one module per group.

Heavy modules (polars, rich tables, the engine) are imported inside the commands so that
`tpmkit --help` stays fast.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer

from tpmkit import __version__
from tpmkit.cli import annotate, catalogue, check, coaching, evaluate, explain, reports
from tpmkit.cli.options import closed_pipe
from tpmkit.errors import ExitCode, Issue, TpmkitError

app = typer.Typer(
    name="tpmkit",
    help="Contact-center performance measures: KPIs and TPMs as YAML, computed on your exports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)
metrics_app = typer.Typer(
    help="List the metric catalogue or show one definition.", no_args_is_help=True
)
app.add_typer(metrics_app, name="metrics")

_state = {"debug": False}
F = TypeVar("F", bound=Callable[..., Any])

# The library names its parameters (`end`, `last`, `at`); the CLI says which flag that is.
FLAGS: list[tuple[str, str]] = [
    (r"^end (\S+) is before start (\S+)", r"--to \1 is before --from \2"),
    (r"^annotation (metric|kind|group): ", r"--\1: "),
    (r"^annotation start: ", "--from: "),
    (r"^annotation end: ", "--to: "),
    (r"^give either last or start/end, not both", "give either --last or --from/--to, not both"),
    (r"^(last|cadence) must", r"--\1 must"),
    (r"^fail_on must", "--fail-on must"),
    (r"^(by|at|agent|vs|coach|now) (\S+): ", r"--\1 \2: "),
    (r"^metric (\S+): a coaching effect", r"--metric \1: a coaching effect"),
    (r"^window must", "--window must"),
    (r"choose other periods with at and vs", "choose other periods with --at and --vs"),
    (r"choose a later period with at", "choose a later period with --at"),
    (r"^gates ", "--gate "),
    (
        r"^agent narrows the agent view: use it with role agent",
        "--agent narrows the agent view: use it with --role agent",
    ),
    (
        r"judge it anyway with at (\S+), or use a shorter period",
        r"judge it anyway with --at \1, or use a shorter --period",
    ),
    (r"^check role and cadence against", "check --role and --cadence against"),
    (
        r"^role agent: say whose report it is with agent",
        "--role agent: say whose report it is with --agent",
    ),
    (r"already exists; use force to", "already exists; use --force to"),
    (r're-run with on_bad_rows="quarantine"', "re-run with --on-bad-rows quarantine"),
]


def flag_words(text: str) -> str:
    """A library message with each parameter named as its flag."""
    for pattern, replacement in FLAGS:
        text = re.sub(pattern, replacement, text)
    return text


def _issue_flags(issue: Issue) -> Issue:
    import dataclasses

    hint = flag_words(issue.hint) if issue.hint else issue.hint
    return dataclasses.replace(issue, message=flag_words(issue.message), hint=hint)


def handled(func: F) -> F:
    """Turn library errors into a message and exit 2, and bugs into one line and exit 3."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort, SystemExit):
            raise
        except TpmkitError as exc:
            from tpmkit.render.console import print_error, print_issues

            print_error("error: " + flag_words(exc.message))
            if exc.issues:
                print_issues([_issue_flags(i) for i in exc.issues])
            if exc.omitted:
                total = getattr(exc, "total", len(exc.issues) + exc.omitted)
                print_error(f"  ... and {exc.omitted} more ({total} in all)")
            raise typer.Exit(int(exc.exit_code)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except BrokenPipeError:  # `tpmkit evaluate | head`: the reader has what it wanted
            raise typer.Exit(closed_pipe()) from None
        except OSError as exc:  # a file or folder we were told to use cannot be used
            from tpmkit.render.console import print_error

            where = f" {exc.filename}" if exc.filename else ""
            reason = exc.strerror or str(exc)
            print_error(f"error: cannot use{where}: {reason}")
            print_error("  check the path and its permissions (is a folder in it a file?)")
            raise typer.Exit(int(ExitCode.USER_ERROR)) from None
        except Exception as exc:
            if _state["debug"]:
                raise
            sys.stderr.write(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a bug in tpmkit. Re-run as `tpmkit --debug <command> ...` for "
                "the traceback and report it.\n"
            )
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        typer.echo(f"tpmkit {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of internal errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Contact-center performance measures: KPIs and TPMs as YAML, computed on your exports."""
    _state["debug"] = debug


# in the order `tpmkit --help` lists them
app.command("evaluate")(handled(evaluate.evaluate_command))
app.command()(handled(catalogue.validate))
app.command()(handled(check.check))
app.command()(handled(explain.explain))
app.command()(handled(coaching.coaching))
app.command()(handled(evaluate.trend))
app.command()(handled(evaluate.history))
app.command()(handled(annotate.annotate))
app.command()(handled(reports.scorecard))
app.command()(handled(reports.report))
app.command()(handled(catalogue.schema))
metrics_app.command("list")(handled(catalogue.metrics_list))
metrics_app.command("show")(handled(catalogue.metrics_show))
app.command()(handled(catalogue.init))


def main() -> None:
    """Console-script entry point; a closed pipe is quiet: a command cut short by it exits
    0 (1 means a breach), one that finished keeps its code."""
    from tpmkit.allocator import return_memory_sooner

    return_memory_sooner()  # before polars starts: it reads the setting once
    try:
        app()
    except SystemExit as exc:
        try:  # what is still buffered, while this code can still catch the closed pipe
            sys.stdout.flush()
        except BrokenPipeError:
            closed_pipe()  # the command finished: its own exit code stands (check's 1)
        from tpmkit.cli.leave import leave_now

        leave_now(exc.code)  # the program's end, without the interpreter's teardown
        raise exc from None
