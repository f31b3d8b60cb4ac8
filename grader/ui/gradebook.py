"""`dlgrade gradebook show`: the class as a table, or one student's cases in detail."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from grader.classroom.gradebook import GradeRecord, by_student
from grader.ui.batch import summary_renderables
from grader.ui.report import STATUS_STYLE


def student_tables(student: str, records: Sequence[GradeRecord]) -> list[RenderableType]:
    """A table per assignment of one student: every case, its points, status and message."""
    tables: list[RenderableType] = []
    for r in records:
        late = f", {r.late_days} day(s) late −{r.penalty:g}" if r.late_days else ""
        table = Table(title=f"{student} · {r.assignment}: {r.score:g} / {r.max_score:g}{late} "
                            f"(graded {r.graded_at}, sha256 {r.sha256[:12]}…)")
        for col in ("case", "target", "points", "status", "visibility", "message"):
            table.add_column(col, overflow="fold")
        for t in r.report.tests:
            table.add_row(t.name, t.target, f"{t.points:g}/{t.max_points:g}",
                          Text(t.status, style=STATUS_STYLE[t.status]), t.visibility, t.message[:300])
        tables.append(table)
    return tables


def class_renderables(db: Path, assignments: Sequence[str],
                      records: Sequence[GradeRecord]) -> list[RenderableType]:
    """A row per student (score per assignment, late days, total), then the class summary."""
    table = Table(title=f"gradebook {db}")
    table.add_column("student")
    for name in assignments:
        table.add_column(name, justify="right")
    table.add_column("total", justify="right")
    for sid, recs in by_student(records).items():
        cells = [f"{recs[n].score:g}" + (f" [yellow]({recs[n].late_days}d late)[/]" if recs[n].late_days else "")
                 if n in recs else "—" for n in assignments]
        table.add_row(sid, *cells, f"{sum(r.score for r in recs.values()):g}")
    return [table, *summary_renderables(records)]
