"""Showing a Report: a Rich table per case, then per target.

Messages come from student code (exception texts) as well as from the grader: they are
always rendered as plain text, never as Rich markup. Student-facing output shows hidden
cases as pass/fail and points only (Report.for_students).
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.grading.results import Report

STATUS_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow"}


def _points(value: float) -> str:
    return f"{value:g}"


def _summary_rows(report: Report) -> list[tuple[str, float, float, int, int, str]]:
    rows = []
    for target, tests in report.by_target().items():
        counted = [t for t in tests if t.status != "skipped"]
        passed = sum(t.status == "passed" for t in counted)
        status = "skipped" if not counted else ("passed" if passed == len(counted) else "failed")
        rows.append((target, sum(t.points for t in counted), sum(t.max_points for t in counted),
                     passed, len(counted), status))
    return rows


def cases_table(report: Report) -> Table:
    table = Table(title=f"{report.assignment} — {report.student or 'anonymous'}", title_justify="left")
    table.add_column("target")
    table.add_column("case")
    table.add_column("points", justify="right")
    table.add_column("status")
    table.add_column("message", overflow="fold")
    for t in report.tests:
        table.add_row(Text(t.target), Text(t.name + ("" if t.visibility == "visible" else " (hidden)")),
                      f"{_points(t.points)}/{_points(t.max_points)}",
                      Text(t.status, style=STATUS_STYLE[t.status]), Text(t.message or "ok"))
    return table


def summary_table(report: Report) -> Table:
    table = Table(title="per target", title_justify="left")
    for col, justify in (("target", "left"), ("points", "right"), ("cases passed", "right"),
                         ("status", "left")):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for target, points, max_points, passed, total, status in _summary_rows(report):
        table.add_row(Text(target), f"{_points(points)}/{_points(max_points)}", f"{passed}/{total}",
                      Text(status, style=STATUS_STYLE[status]))
    return table


def render(report: Report, console: Console) -> None:
    """The case table, the per-target summary, notes and the score."""
    console.print(cases_table(report))
    console.print(summary_table(report))
    for note in report.notes:
        console.print(Text(f"note: {note}", style="yellow"))
    failed = sum(t.status == "failed" for t in report.tests)
    style = "bold green" if not failed else "bold red"
    console.print(Text(f"score {_points(report.score)}/{_points(report.max_score)}"
                       f" — {failed} case(s) failed — sha256 {report.sha256[:12]}", style=style))
