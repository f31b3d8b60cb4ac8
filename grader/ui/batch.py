"""Batch grading in the terminal: the progress bar (on a cluster with each worker's rate),
what the batch did, the class summary."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Sequence
from pathlib import Path

from rich import box
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

    progress_type: type[Progress] = Progress

    def __init__(self, console: Console) -> None:
        self._progress = self.progress_type(
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


SHOW_ALL = 4  # up to this many workers are listed one by one; more are summarised


def worker_rates(counts: dict[str, int], seconds: float) -> str:
    """Submissions per minute of each worker since the start, in one line."""
    if not counts or seconds <= 0:
        return "waiting for the first result"
    rates = {w: 60.0 * n / seconds for w, n in counts.items()}
    if len(rates) <= SHOW_ALL:
        return " · ".join(f"{_short(w)} {r:.0f}/min" for w, r in sorted(rates.items()))
    slowest = min(rates, key=rates.__getitem__)
    return (f"{len(rates)} workers: median {statistics.median(rates.values()):.0f}/min, "
            f"slowest {_short(slowest)} {rates[slowest]:.0f}/min")


def _short(address: str) -> str:
    return address.split("://", 1)[-1]


class _BarAndWorkers(Progress):
    """The bar, then a line of each worker's rate."""

    def get_renderables(self) -> Iterable[RenderableType]:
        yield self.make_tasks_table(self.tasks)
        for task in self.tasks:
            yield Text(f"  per worker: {task.fields.get('workers', '')}", style="dim",
                       overflow="ellipsis", no_wrap=True)


class ClusterProgress(RichProgress):
    """RichProgress's bar with each worker's rate below it, and the count per worker after."""

    progress_type = _BarAndWorkers

    def __init__(self, console: Console) -> None:
        super().__init__(console)
        self.per_worker: dict[str, int] = {}
        self._started = time.monotonic()

    def start(self, total: int, skipped: int) -> None:
        self._started = time.monotonic()
        super().start(total, skipped)
        if self._task is not None:
            self._progress.update(self._task, workers=worker_rates({}, 0))

    def advance(self, outcome: Outcome) -> None:
        super().advance(outcome)
        if outcome.error is None:
            where = outcome.where or "?"
            self.per_worker[where] = self.per_worker.get(where, 0) + 1
        self._progress.update(self._task, workers=worker_rates(
            self.per_worker, time.monotonic() - self._started))

    def finish(self) -> None:
        super().finish()
        if self.per_worker:
            shown = sorted(self.per_worker.items())[:SHOW_ALL]
            spread = ", ".join(f"{_short(w)} {n}" for w, n in shown)
            more = f", … ({len(self.per_worker)} workers)" if len(self.per_worker) > SHOW_ALL else ""
            self._progress.console.print(f"graded per worker: {spread}{more}", highlight=False)


def summary_renderables(records: Sequence[GradeRecord], bar_width: int = 40) -> list[RenderableType]:
    """The class summary: a table per assignment and a histogram of total scores."""
    # light borders and short headers: ten columns fit an 80-column terminal uncut
    table = Table(title="per assignment (final scores: late penalties and adjustments applied now)",
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    table.add_column("assignment", no_wrap=True)
    for col in ("n", "mean", "median", "min", "max", "all pass", "late", "missing", "flagged"):
        table.add_column(col, justify="right", no_wrap=True)
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
