"""Batch grading in the terminal: the progress bar, what the batch did, the class summary."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from grader.classroom.batch import ClassResult, Outcome
from grader.classroom.gradebook import GradeRecord
from grader.classroom.stats import assignment_stats, histogram, student_totals


class RichProgress:
    """A Rich progress bar: done / total, submissions below full marks, grader errors, ETA."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[below]} below full marks · {task.fields[errors]} errors"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console,
        )
        self._task = None
        self._below = self._errors = 0

    def start(self, total: int, skipped: int) -> None:
        if skipped:
            self._progress.console.print(f"{skipped} already graded (unchanged): skipped")
        if total:
            self._progress.start()
            self._task = self._progress.add_task("grading", total=total, below=0, errors=0)

    def advance(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            self._errors += 1
        elif not outcome.full_marks:
            self._below += 1
        self._progress.update(self._task, advance=1, below=self._below, errors=self._errors)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.stop()


def summary_renderables(records: Sequence[GradeRecord], bar_width: int = 40) -> list[RenderableType]:
    """The class summary: a table per assignment and a histogram of total scores."""
    table = Table(title="per assignment (final scores, after late penalties)")
    for col in ("assignment", "n", "mean", "median", "min", "max", "fully correct", "late"):
        table.add_column(col, justify="left" if col == "assignment" else "right")
    for s in assignment_stats(records):
        table.add_row(s.assignment, str(s.n), f"{s.mean:.1f}", f"{s.median:.1f}", f"{s.min:.1f}",
                      f"{s.max:.1f}", f"{s.fully_correct}/{s.n}", str(s.late))
    totals, top = student_totals(records)
    bins = histogram(list(totals.values()), top)
    biggest = max((c for *_, c in bins), default=0) or 1
    hist = Text(f"total scores of {len(totals)} students (out of {top:g})\n", style="bold")
    for low, high, count in reversed(bins):
        hist.append(f"{low:6.1f} – {high:6.1f} │ ")
        hist.append("█" * (max(1, round(bar_width * count / biggest)) if count else 0), style="cyan")
        hist.append(f" {count}\n")
    return [table, hist]


def show_class_result(result: ClassResult, db: Path, console: Console, err_console: Console) -> None:
    """What `grade-batch` and `demo` print when the batch is over; grader errors on stderr."""
    batch = result.batch
    console.print(f"graded {len(batch.graded) - len(batch.errors)}, skipped {len(batch.skipped)} "
                  f"(already graded) in {batch.seconds:.1f} s ({batch.per_minute:.0f}/min)")
    console.print(f"gradebook: {db}", soft_wrap=True)
    for renderable in summary_renderables(result.records):
        console.print(renderable)
    if result.feedback is not None:
        console.print(f"feedback for {result.feedback.student_count} students: "
                      f"{result.feedback.summary.parent / 'students'}", soft_wrap=True)
        console.print(f"instructor summary: {result.feedback.summary}", soft_wrap=True)
    for o in batch.errors:
        err_console.print(f"[red]grader error[/] on {o.submission.path}: {o.error}", highlight=False)
    if batch.errors:
        err_console.print(f"{len(batch.errors)} submission(s) could not be graded; rerun to retry them")
