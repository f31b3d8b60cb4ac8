"""`dlgrade gradebook show`: a row per student, or one student's cases (Rich tables).

Every figure comes from grader.classroom.standing (penalties, adjustments and the roster applied
at the time of showing); every time is shown in the course's timezone. Texts that come
from student code are Rich Text, never markup.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from grader.catalog import in_catalog_order
from grader.classroom.adjustments import Adjustment
from grader.classroom.flags import flag_summary
from grader.classroom.gradebook import GradeRecord, by_student
from grader.classroom.stats import student_maximum, student_totals
from grader.course import Course, show_time
from grader.ui.batch import summary_renderables
from grader.ui.report import STATUS_STYLE


def grade_cell(r: GradeRecord) -> Text:
    """'87 (2d late) ⚑' — the final score and what shaped it, in one cell."""
    if r.status == "missing":
        return Text("missing", style="red")
    cell = Text(f"{r.score:g}")
    if r.status == "excused":
        return Text("excused", style="dim")
    if r.override is not None:
        cell.append(" (override)", style="cyan")
    elif r.late_days:
        cell.append(f" ({r.late_days}d late)", style="yellow")
    if r.flags:
        cell.append(" ⚑", style="bold red")
    return cell


def grade_table(records: Sequence[GradeRecord], title: str) -> Table:
    """A row per student: flagged and missing students first, then the rest by id."""
    names = in_catalog_order({r.assignment for r in records})
    students = by_student(records)
    totals, _ = student_totals(records)

    def attention(student: str) -> tuple[int, str]:
        recs = students[student].values()
        return (0 if any(r.flags for r in recs) else 1 if any(r.status == "missing" for r in recs) else 2,
                student)

    table = Table(title=title)
    table.add_column("student", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right", no_wrap=True)
    for student in sorted(students, key=attention):
        recs = students[student]
        cells = [grade_cell(recs[n]) if n in recs else Text("—") for n in names]
        table.add_row(Text(student), *cells,
                      f"{totals.get(student, 0):g} / {student_maximum(records, student):g}")
    return table


LEGEND = ("flagged (⚑) and missing students first · ⚑: the sandbox stopped the code (see --student) · "
          "late penalties, adjustments and the roster applied as of now")


def class_renderables(db: Path, records: Sequence[GradeRecord]) -> list[RenderableType]:
    """The class table, its legend, then the class summary."""
    return [grade_table(records, title=f"gradebook {db}"), Text(LEGEND, style="dim"),
            *summary_renderables(records)]


def student_tables(records: Sequence[GradeRecord], course: Course | None = None) -> list[RenderableType]:
    """One student's assignments, each with its lateness, adjustments, flags and cases."""
    zone = course.tz if course is not None else None
    shown = (lambda t: show_time(t, zone)) if zone else show_time
    out: list[RenderableType] = []
    for r in records:
        head = Text(f"{r.student} · {r.assignment}: ", style="bold")
        head.append(grade_cell(r) if r.status != "graded" else Text(f"{r.score:g} / {r.max_score:g}"))
        if r.override is not None:
            head.append(" (override)", style="cyan")
        if r.flags:
            head.append(" ⚑ flagged", style="bold red")
        lines = [head]
        if r.status == "missing":
            lines.append(Text("  nothing handed in" + (f" (due {shown(r.due)})" if r.due else "")))
        else:
            line = f"  submitted {shown(r.submitted_at)}"
            if r.submitted_at_source == "mtime":
                line += " (the file's modification time: no manifest entry)"
            if r.due:
                line += f" · due {shown(r.due)}"
            if r.late_days:
                line += f" · {r.late_days} day(s) late, −{r.penalty_percent:g} % = −{r.penalty:g}"
            lines.append(Text(line + f" · raw {r.raw_score:g}"))
            lines.append(Text(f"  graded {shown(r.graded_at)} · sha256 {r.sha256[:12]}…", style="dim"))
        for a in r.adjustments:
            lines.append(Text(f"  adjustment {a['id']}: {_describe(a)} (by {a['made_by']}, "
                              f"{shown(a['made_at'])})", style="cyan"))
        if r.flags:
            lines.append(Text(f"  ⚑ flagged: {flag_summary(r.flags)}", style="bold red"))
            for f in r.flags:
                lines.append(Text(f"    {f['kind']} in {f['case']}: {f['detail']}", style="red"))
        out.extend(lines)
        if r.report.tests:
            table = Table(show_edge=False, pad_edge=False)
            for col in ("case", "target", "points", "status", "message"):
                table.add_column(col, overflow="fold", ratio=3 if col == "message" else None)
            failed_first = sorted(r.report.tests, key=lambda t: t.status == "passed")
            for t in failed_first:
                table.add_row(Text(t.name), Text(t.target), f"{t.points:g}/{t.max_points:g}",
                              Text(t.status, style=STATUS_STYLE.get(t.status, "")),
                              Text(t.message[:300] if t.status != "passed" else ""))
            out.append(table)
        out.append(Text(""))
    return out


def _describe(a: dict[str, Any]) -> str:
    what = {"override": f"override to {a.get('points'):g} points" if a.get("points") is not None else "override",
            "extend": f"extension until {a.get('until')}", "excuse": "excused"}.get(a["kind"], a["kind"])
    return f"{what}: {a['reason']}" if a.get("reason") else what


def adjustments_table(db: Path, rows: Sequence[Adjustment], shown: Callable[[str | None], str]) -> Table:
    """Every adjustment with who, when and why; `shown` writes a time in the course's zone.
    Reasons are typed by people: plain text, never markup."""
    table = Table(title=f"adjustments in {db}")
    for col in ("id", "student", "assignment", "what", "by", "at", "reverted"):
        table.add_column(col, overflow="fold")
    for a in rows:
        table.add_row(str(a.id), Text(a.student), Text(a.assignment), Text(a.describe(shown)),
                      Text(a.made_by), shown(a.made_at),
                      Text(f"{a.reverted_by}, {shown(a.reverted_at)}") if a.reverted_at else "")
    return table
