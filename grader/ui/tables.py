"""The tables of the small commands: list, plot optimizers, nbgrader export, quiz validate,
roster list, status."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # types only: `dlgrade list` must not import nbformat, numpy or the quiz
    from grader.catalog import Assignment
    from grader.interop.nbgrader_export import Exported
    from grader.quiz.bank import Bank
    from grader.tools.plot import OptimizerPath


def assignments_table(assignments: Sequence[Assignment]) -> Table:
    table = Table(title="dlgrade assignments", box=box.SIMPLE_HEAD)
    files = [f"assignments/{a.filename}" for a in assignments]
    for col in ("#", "name", "file", "about"):
        # the file is what the list is for: never cut; the description wraps instead
        table.add_column(col, no_wrap=col != "about", overflow="fold",
                         min_width=max(map(len, files)) if col == "file" else None)
    for a, file in zip(assignments, files, strict=True):
        table.add_row(str(a.number), a.name, file, Text.assemble(a.title, "\n", (a.topic, "dim")))
    return table


def optimizer_paths_table(paths: Sequence[OptimizerPath], source: str) -> Table:
    table = Table(title=f"Optimizer paths on Rosenbrock ({source})")
    for col in ("optimizer", "settings", "status", "end point", "f(end)"):
        table.add_column(col)
    for p in paths:
        settings = ", ".join(f"{k}={v:g}" for k, v in p.settings.items())
        end = f"({p.path[-1][0]:.3f}, {p.path[-1][1]:.3f})" if len(p.path) else "-"
        loss = f"{p.final_loss:.3g}" if p.final_loss is not None else "-"
        style = "green" if p.status == "ok" else "yellow"
        table.add_row(p.name, settings, Text(p.status, style=style), end, loss)
    return table


def nbgrader_table(root: object, exported: Sequence[Exported]) -> Table:
    table = Table(title=f"nbgrader source notebooks in {root}")
    for col in ("assignment", "notebook", "solution cells", "grade cells", "points"):
        table.add_column(col)
    for e in exported:
        table.add_row(e.assignment, str(e.path), str(e.solution_cells), str(e.grade_cells), f"{e.points:g}")
    return table


def bank_topics_table(bank: Bank) -> Table:
    """Questions per topic of a bank that validated."""
    table = Table(show_edge=False, box=None, padding=(0, 2, 0, 0))
    table.add_column("topic")
    table.add_column("questions", justify="right")
    for topic_name, count in sorted(bank.topics().items()):
        table.add_row(topic_name, str(count))
    return table


def roster_table(members: Iterable[dict[str, str]]) -> Table:
    """The roster as `dlgrade roster list` shows it: never a token, only when it was issued."""
    table = Table(title="roster")
    for col in ("id", "name", "email", "token issued"):
        table.add_column(col)
    for m in members:
        table.add_row(m["id"], m["name"], m["email"], m["issued_at"])
    return table


def receipts_table(data: dict[str, Any]) -> Table:
    """A student's receipts as the course server sent them (`dlgrade status`); the public-check
    column only when the server runs that check."""
    table = Table(title=f"receipts of {data['student']} (server time {data['server_time']})")
    checked = any("public_check" in r for r in data["receipts"])
    for col in ("#", "assignment", "received (server, UTC)", "sha256", "bytes", "on time?",
                *(["public cases"] if checked else [])):
        table.add_column(col)
    for r in data["receipts"]:
        late = r["lateness"]
        check = r.get("public_check")
        public = [f"{check['score']:g}/{check['max_score']:g}" if check else "—"] if checked else []
        table.add_row(str(r["n"]), r["assignment"], r["received_at"], r["sha256"][:12], str(r["size"]),
                      f"[{'yellow' if late['late'] else 'green'}]{late['summary']}[/]", *public)
    return table
