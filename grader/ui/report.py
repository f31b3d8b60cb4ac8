"""Showing a Report: a Rich table per case, then per target.

Messages come from student code (exception texts) as well as from the grader: they are
always rendered as plain text, never as Rich markup. Student-facing output shows hidden
cases as pass/fail and points only (Report.for_students).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.padding import Padding
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


IMPORT_FAILURES = ("could not import the submission: ", "importing the submission timed out",
                   "the submission died while being imported: ")
NOT_IMPLEMENTED = "not implemented (NotImplementedError"
PRINTED_LINES = 12  # lines of a case's print() output shown under its failure


def _import_failure(report: Report) -> str | None:
    """The one reason every case failed, when the submission could not be imported at all."""
    counted = [t for t in report.tests if t.status != "skipped"]
    messages = {t.message for t in counted}
    if counted and all(t.status == "failed" for t in counted) and len(messages) == 1:
        (message,) = messages
        if message.startswith(IMPORT_FAILURES):
            return message.removeprefix("could not import the submission: ")
    return None


def _printed(output: str) -> Padding | None:
    """What the student's code printed, as a quoted block (the last lines when it is long)."""
    lines = output.rstrip("\n").splitlines()
    if not lines:
        return None
    cut = len(lines) > PRINTED_LINES
    shown = lines[:PRINTED_LINES]
    body = Text("your code printed:\n", style="dim")
    for line in shown:
        body.append("│ ", style="dim")
        body.append(line + "\n")
    if cut:
        body.append(f"│ … ({len(lines) - PRINTED_LINES} more lines)\n", style="dim")
    body.rstrip()
    return Padding(body, (0, 0, 0, 2), expand=False)


class _Flow:
    """Items joined by ' · ', wrapped at the console's width between items, never inside one."""

    def __init__(self, lead: str, items: list[str]) -> None:
        self.lead, self.items = lead, items

    def __rich_console__(self, console: Console, options: Any) -> Any:
        width = max(20, options.max_width)
        line = Text(self.lead, style="green")
        for i, item in enumerate(self.items):
            piece = item + (" · " if i < len(self.items) - 1 else "")
            if line.cell_len + len(piece.rstrip()) > width and line.plain.strip():
                yield line
                line = Text("  ")
            line.append(piece)
        yield line


def _shown_path(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return path


def check_renderables(report: Report, *, hidden_points: float = 0.0) -> list[Any]:
    """What `dlgrade check` shows a student: failures first, each message at full width,
    what their code printed, then the targets that passed, then the score line."""
    out: list[Any] = []
    head = Text("dlgrade check · ", style="bold")
    head.append(report.assignment, style="bold cyan")
    head.append(" · file ")
    head.append(_shown_path(report.source), style="bold")
    head.append(f" · student {report.student or 'anonymous'}")
    out.append(head)
    counted = [t for t in report.tests if t.status != "skipped"]
    failed = [t for t in counted if t.status == "failed"]
    reason = _import_failure(report)
    if reason is not None:
        block = Text("✗ ", style="bold red")
        block.append(f"{Path(report.source).name} could not be imported, so none of the "
                     f"{len(counted)} public cases ran:", style="bold red")
        out += [Text(""), block, Padding(Text(reason), (0, 0, 0, 2), expand=False)]
        printed = _printed(counted[0].output)
        if printed is not None:
            out.append(printed)
    elif failed:
        out += [Text(""), Text(f"✗ {len(failed)} of {len(counted)} public cases failed", style="bold red")]
        todo = [t for t in failed if t.message.startswith(NOT_IMPLEMENTED)]
        groups: dict[tuple[str, str], list[Any]] = {}
        for t in failed:  # cases of one target failing for one reason: said once
            if t not in todo:
                groups.setdefault((t.target, t.message), []).append(t)
        for (target, message), tests in groups.items():
            title = Text("\nFAILED ", style="bold red")
            title.append(", ".join(t.name for t in tests), style="bold")
            lost = sum(t.max_points for t in tests)
            title.append(f"  ({target}, 0/{lost:g} points)", style="dim")
            out.append(title)
            out.append(Padding(Text(message or "failed"), (0, 0, 0, 2), expand=False))
            printed = _printed(next((t.output for t in tests if t.output), ""))
            if printed is not None:
                out.append(printed)
        if todo:  # the stub's functions still to write: one line, not a block each
            targets = list(dict.fromkeys(t.target for t in todo))
            line = Text(f"\nnot implemented yet ({len(targets)}, {sum(t.max_points for t in todo):g} points): ",
                        style="yellow")
            line.append(", ".join(targets))
            out.append(line)
    passed_targets = [row for row in _summary_rows(report) if row[5] == "passed"]
    if passed_targets:
        out.append(Text(""))
        out.append(_Flow("✓ passed: ", [f"{target} {passed}/{total}"
                                        for target, _, _, passed, total, _ in passed_targets]))
    for note in report.notes:
        out.append(Text(f"note: {note}", style="yellow"))
    style = "bold green" if not failed else "bold red"
    score = Text(f"\npublic cases {_points(report.score)}/{_points(report.max_score)}", style=style)
    if hidden_points:
        score.append(f" — hidden cases ({_points(hidden_points)} points) are graded when you submit")
    out.append(score)
    return out


ASSIGNMENT_POINTS = 100.0  # every assignment's total, public and hidden together


def hidden_points(cases: Any) -> float:
    """The points of the hidden cases; in a student kit, where they are not installed, what
    the public cases leave of the assignment's 100."""
    hidden = sum(c.points for c in cases if c.visibility == "hidden")
    if hidden:
        return float(hidden)
    return max(0.0, ASSIGNMENT_POINTS - sum(c.points for c in cases))


def render_check(report: Report, console: Console, *, hidden_points: float = 0.0) -> None:
    console.print(Group(*check_renderables(report, hidden_points=hidden_points)))

