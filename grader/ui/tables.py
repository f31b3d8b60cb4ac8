"""The tables of the small commands: list, plot optimizers, nbgrader export, quiz validate."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text

if TYPE_CHECKING:  # types only: `dlgrade list` must not import nbformat, numpy or the quiz
    from grader.catalog import Assignment
    from grader.interop.nbgrader_export import Exported
    from grader.quiz.bank import Bank
    from grader.tools.plot import OptimizerPath


def assignments_table(assignments: Sequence[Assignment]) -> Table:
    table = Table(title="dlgrade assignments")
    for col in ("#", "name", "title", "topic", "file"):
        table.add_column(col)
    for a in assignments:
        table.add_row(str(a.number), a.name, a.title, a.topic, f"assignments/{a.filename}")
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
