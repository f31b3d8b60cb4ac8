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
from grader.classroom.flags import flag_summary
from grader.classroom.gradebook import GradeRecord
from grader.classroom.late import policy_notices
from grader.classroom.stats import assignment_stats, histogram, student_totals
from grader.course import Course


class RichProgress:
    """A Rich progress bar: done / total, submissions below full marks, grader errors, ETA."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[below]} below full marks · {task.fields[flagged]} flagged"
                       "{task.fields[errors]}"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console,
        )
        self._task = None
        self._below = self._errors = self._flagged = 0

    def start(self, total: int, skipped: int) -> None:
        if skipped:
            self._progress.console.print(f"{skipped} already graded (unchanged): skipped")
        if total:
            self._progress.start()
            self._task = self._progress.add_task("grading", total=total, below=0, errors="", flagged=0)

    def advance(self, outcome: Outcome) -> None:
        if outcome.error is not None:
            self._errors += 1
        elif not outcome.full_marks:
            self._below += 1
        if outcome.report is not None and outcome.flagged:
            self._flagged += 1
        errors = f" · {self._errors} grader errors" if self._errors else ""
        self._progress.update(self._task, advance=1, below=self._below, errors=errors,
                              flagged=self._flagged)

    def finish(self) -> None:
        if self._task is not None:
            self._progress.stop()


def summary_renderables(records: Sequence[GradeRecord], bar_width: int = 40) -> list[RenderableType]:
    """The class summary: a table per assignment and a histogram of total scores."""
    table = Table(title="per assignment (final scores: late penalties and adjustments applied now)")
    for col in ("assignment", "n", "mean", "median", "min", "max", "fully correct", "late",
                "missing", "flagged"):
        table.add_column(col, justify="left" if col == "assignment" else "right")
    for s in assignment_stats(records):
        table.add_row(s.assignment, str(s.n), f"{s.mean:.1f}", f"{s.median:.1f}", f"{s.min:.1f}",
                      f"{s.max:.1f}", f"{s.fully_correct}/{s.n}", str(s.late), str(s.missing),
                      f"[red]{s.flagged}[/]" if s.flagged else "0")
    totals, top = student_totals(records)
    bins = histogram(list(totals.values()), top)
    biggest = max((c for *_, c in bins), default=0) or 1
    hist = Text(f"total scores of {len(totals)} students (out of {top:g})\n", style="bold")
    for low, high, count in reversed(bins):
        hist.append(f"{low:6.1f} – {high:6.1f} │ ")
        hist.append("█" * (max(1, round(bar_width * count / biggest)) if count else 0), style="cyan")
        hist.append(f" {count}\n")
    return [table, hist]


def show_class_result(result: ClassResult, db: Path, console: Console, err_console: Console,
                      course: Course | None = None) -> None:
    """What `grade-batch` and `demo` print when the batch is over: what was graded and flagged,
    what the course config leaves unsaid about lateness (and hand-in times that came from the
    students' side rather than from receipts), the class summary, each flagged submission;
    grader errors on stderr."""
    batch = result.batch
    flagged = sorted({(r.student, r.assignment) for r in result.records if r.flags})
    console.print(f"graded {len(batch.graded) - len(batch.errors)}, skipped {len(batch.skipped)} "
                  f"(already graded) in {batch.seconds:.1f} s ({batch.per_minute:.0f}/min) · "
                  + (f"[bold red]{len(flagged)} flagged[/]" if flagged else "0 flagged"))
    console.print(f"gradebook: {db}", soft_wrap=True)
    fallback = [f"{s.student}/{s.assignment}" for s in batch.submissions if s.submitted_at_source == "mtime"]
    for notice in policy_notices(course, fallback):
        console.print(f"[yellow]note:[/] {notice}", highlight=False, soft_wrap=True)
    for renderable in summary_renderables(result.records):
        console.print(renderable)
    untrusted = sum(r.submitted_at_source in ("manifest", "mtime") for r in result.records)
    if untrusted and course is not None and course.due:
        console.print(f"[yellow]note:[/] {untrusted} hand-in time(s) came from the students' side "
                      "(manifest.json or file times), which a student can change; for late "
                      "penalties that hold, grade what `dlgrade collect` or `dlgrade serve` received",
                      highlight=False)
    by_pair = {(r.student, r.assignment): r for r in result.records}
    for student, assignment in flagged:
        console.print(f"[red]flagged[/] {student}/{assignment}: {flag_summary(by_pair[student, assignment].flags)} "
                      f"(dlgrade gradebook show --student {student})", highlight=False)
    if result.feedback is not None:
        console.print(f"feedback for {result.feedback.student_count} students: "
                      f"{result.feedback.summary.parent / 'students'}", soft_wrap=True)
        console.print(f"instructor summary: {result.feedback.summary}", soft_wrap=True)
    for o in batch.errors:
        err_console.print(f"[red]grader error[/] on {o.submission.path}: {o.error}", highlight=False)
    if batch.errors:
        err_console.print(f"{len(batch.errors)} submission(s) could not be graded; rerun to retry them")
