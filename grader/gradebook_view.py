"""The gradebook in the terminal: a row per student, or one student's cases (Rich tables).

Every figure comes from grader.standing (penalties, adjustments and the roster applied
at the time of showing); every time is shown in the course's timezone. Texts that come
from student code are Rich Text, never markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.table import Table
from rich.text import Text

from grader.batch import student_maximum, student_totals
from grader.course import show_time
from grader.flags import flag_summary
from grader.gradebook import GradeRecord

STATUS_STYLE = {"passed": "green", "failed": "red", "skipped": "yellow"}


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
    from grader.catalog import assignment_names

    order = {n: i for i, n in enumerate(assignment_names())}
    names = sorted({r.assignment for r in records}, key=lambda n: (order.get(n, 99), n))
    by_student: dict[str, dict[str, GradeRecord]] = {}
    for r in records:
        by_student.setdefault(r.student, {})[r.assignment] = r
    totals, _ = student_totals(records)

    def attention(student: str) -> tuple[int, str]:
        recs = by_student[student].values()
        return (0 if any(r.flags for r in recs) else 1 if any(r.status == "missing" for r in recs) else 2,
                student)

    table = Table(title=title)
    table.add_column("student", no_wrap=True)
    for name in names:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right", no_wrap=True)
    for student in sorted(by_student, key=attention):
        recs = by_student[student]
        cells = [grade_cell(recs[n]) if n in recs else Text("—") for n in names]
        table.add_row(Text(student), *cells,
                      f"{totals.get(student, 0):g} / {student_maximum(records, student):g}")
    return table


LEGEND = ("flagged (⚑) and missing students first · ⚑: the sandbox stopped the code (see --student) · "
          "late penalties, adjustments and the roster applied as of now")


def student_tables(records: Sequence[GradeRecord], course: Any = None) -> list[Any]:
    """One student's assignments, each with its lateness, adjustments, flags and cases."""
    from grader.course import Course

    zone = course.tz if isinstance(course, Course) else None
    shown = (lambda t: show_time(t, zone)) if zone else show_time
    out: list[Any] = []
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
