"""dlgrade's command line: parses, calls grader/, prints with Rich. No logic of its own.

Heavy modules (torch, the grading engine) are imported inside the commands that need
them, so `dlgrade --help` and `dlgrade quiz` start fast.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from grader import __version__
from grader.errors import UserError

console = Console()
err_console = Console(stderr=True)

app = typer.Typer(
    name="dlgrade",
    help="Auto-graded assignments and concept quizzes for a deep learning basics course.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

F = TypeVar("F", bound=Callable[..., Any])


def fail(message: str) -> typer.Exit:
    """Print one clear line and return the exit (code 2) for the caller to raise."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def user_errors(func: F) -> F:
    """Turn the errors a user can cause into one line and exit code 2, not a traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except UserError as exc:
            raise fail(str(exc)) from None
        except FileNotFoundError as exc:
            raise fail(f"no such file: {exc.filename or exc}") from None

    return wrapper  # type: ignore[return-value]


def _version(value: bool) -> None:
    if value:
        console.print(f"dlgrade {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version and exit."),
    ] = None,
) -> None:
    """Auto-graded assignments and concept quizzes for a deep learning basics course."""


# ---------------------------------------------------------------- assignments


@app.command("list")
@user_errors
def list_assignments() -> None:
    """List the six assignments."""
    from grader.catalog import ASSIGNMENTS

    table = Table(title="dlgrade assignments")
    for col in ("#", "name", "title", "topic", "file", "stub"):
        table.add_column(col)
    for a in ASSIGNMENTS:
        status = a.stub_status()
        style = "green" if status == "ready" else "yellow"
        table.add_row(str(a.number), a.name, a.title, a.topic, f"assignments/{a.filename}",
                      f"[{style}]{status}[/]")
    console.print(table)


# ---------------------------------------------------------------- plots (issue 3)

# ---------------------------------------------------------------- grading (issue 4)

# ---------------------------------------------------------------- class scale (issue 5)

# ---------------------------------------------------------------- quizzes (issue 6)

# ---------------------------------------------------------------- nbgrader (issue 7)


if __name__ == "__main__":
    app()
