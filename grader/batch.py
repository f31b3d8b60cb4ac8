"""Grading a whole class: find the submissions, grade them in parallel, record each one.

N worker threads share one Grader (its grade_file is thread-safe: each call forks its own
sandboxed child, so threads only wait). The main thread alone writes the gradebook, one
transaction per submission as each finishes, so a batch killed at any moment loses only
the submissions in flight, and a rerun skips what is already graded.
"""

from __future__ import annotations

import functools
import os
import statistics
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol

from grader.catalog import assignment_names, get_assignment
from grader.course import Course
from grader.errors import UserError
from grader.gradebook import Gradebook, GradeRecord
from grader.late import Lateness, NoLatePolicy, assess
from grader.results import Report

if TYPE_CHECKING:
    from grader.feedback import FeedbackFiles
from grader.submit import STUDENT_ID, SUBMISSION_SUFFIXES, parse_iso, read_manifest, sha256_of

# Test hook: seconds each worker waits before grading a submission, so a test can kill a
# real batch in the middle of its work. Unset in normal use.
DELAY_ENV = "DLGRADE_TEST_DELAY_PER_SUBMISSION"


@dataclass(frozen=True)
class Submission:
    student: str
    assignment: str
    path: Path
    sha256: str
    submitted_at: datetime
    submitted_at_source: Literal["manifest", "mtime"]


class GradesFiles(Protocol):
    def grade_file(self, path: Path, assignment: str | None = None,
                   student: str | None = None) -> Report: ...


def discover(root: Path, assignments: Sequence[str] | None = None) -> list[Submission]:
    """Every `<root>/<student>/<assignment><suffix>`, sorted by student then assignment.

    The submission time is the manifest's when its sha256 matches the file (the file is
    what `submit` recorded), else the file's modification time.
    """
    if not root.is_dir():
        raise UserError(f"no such folder: {root}")
    wanted = [get_assignment(a).name for a in assignments] if assignments else assignment_names()
    found: list[Submission] = []
    for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if not STUDENT_ID.fullmatch(student_dir.name):
            continue  # hidden folders, names that cannot be student ids
        manifest = read_manifest(student_dir)
        for assignment in wanted:
            path = next((student_dir / f"{assignment}{s}" for s in SUBMISSION_SUFFIXES
                         if (student_dir / f"{assignment}{s}").is_file()), None)
            if path is None:
                continue
            sha = sha256_of(path)
            entry = manifest.get(assignment, {})
            when, source = _submitted_at(entry, sha, path)
            found.append(Submission(student_dir.name, assignment, path, sha, when, source))
    return found


def _submitted_at(entry: dict, sha: str, path: Path) -> tuple[datetime, Literal["manifest", "mtime"]]:
    if entry.get("sha256") == sha and isinstance(entry.get("submitted_at"), str):
        try:
            return parse_iso(entry["submitted_at"]), "manifest"
        except ValueError:
            pass
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc), "mtime"


# ---------------------------------------------------------------- running


@dataclass
class Outcome:
    submission: Submission
    report: Report | None = None
    lateness: Lateness | None = None
    error: str | None = None  # the grader itself failed on this submission (not the student)

    @property
    def full_marks(self) -> bool:
        return self.report is not None and self.report.score >= self.report.max_score - 1e-9


class Progress(Protocol):
    def start(self, total: int, skipped: int) -> None: ...
    def advance(self, outcome: Outcome) -> None: ...
    def finish(self) -> None: ...


@dataclass
class BatchResult:
    submissions: list[Submission]
    graded: list[Outcome] = field(default_factory=list)
    skipped: list[Submission] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> list[Outcome]:
        return [o for o in self.graded if o.error is not None]

    @property
    def per_minute(self) -> float:
        done = len(self.graded) - len(self.errors)
        return 60.0 * done / self.seconds if self.seconds > 0 else 0.0


def _grade_one(grader: GradesFiles, sub: Submission) -> Report:
    delay = float(os.environ.get(DELAY_ENV, "0") or 0)
    if delay > 0:
        time.sleep(delay)
    report = grader.grade_file(sub.path, sub.assignment, sub.student)
    if not report.sha256:
        report.sha256 = sub.sha256
    return report


def run_batch(submissions: Sequence[Submission], make_grader: Callable[[], GradesFiles],
              gradebook: Gradebook, *, course: Course | None = None, jobs: int = 1,
              force: bool = False, progress: Progress | None = None,
              lock_wait: float = 0.0) -> BatchResult:
    """Grade what is not graded yet (everything with `force`) and record each as it finishes.

    `make_grader` is called only when there is something to grade (a warm start costs
    seconds); the grader is closed at the end when it has a `close`.
    """
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1 (got {jobs})")
    result = BatchResult(submissions=list(submissions))
    started = time.perf_counter()
    with gradebook.batch_lock(wait=lock_wait):
        todo = []
        for sub in submissions:
            if not force and gradebook.is_graded(sub.student, sub.assignment, sub.sha256):
                result.skipped.append(sub)
            else:
                todo.append(sub)
        if progress:
            progress.start(len(todo), len(result.skipped))
        if not todo:
            if progress:
                progress.finish()
            result.seconds = time.perf_counter() - started
            return result
        grader = make_grader()
        pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
        try:
            futures: dict[Future[Report], Submission] = {
                pool.submit(_grade_one, grader, sub): sub for sub in todo}
            for fut in as_completed(futures):
                outcome = _finish(futures[fut], fut, gradebook, course, force)
                result.graded.append(outcome)
                if progress:
                    progress.advance(outcome)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
            close = getattr(grader, "close", None)
            if close is not None:
                close()  # kills the sandboxed children still running after an interrupt
            if progress:
                progress.finish()
    result.seconds = time.perf_counter() - started
    return result


def _finish(sub: Submission, fut: Future[Report], gradebook: Gradebook, course: Course | None,
            force: bool) -> Outcome:
    try:
        report = fut.result()
    except Exception as exc:  # a grader failure on one submission must not stop the class
        return Outcome(sub, error=f"{type(exc).__name__}: {exc}")
    due = course.due_date(sub.assignment) if course else None
    policy = course.late_policy if course else NoLatePolicy()
    try:
        lateness = assess(report.score, sub.submitted_at, due, policy)
        gradebook.record(report, student=sub.student, assignment=sub.assignment, path=sub.path,
                         submitted_at=sub.submitted_at, submitted_at_source=sub.submitted_at_source,
                         lateness=lateness, due=due, force=force)
    except Exception as exc:  # a report that cannot be recorded costs that submission only
        return Outcome(sub, error=f"could not record: {type(exc).__name__}: {exc}")
    return Outcome(sub, report=report, lateness=lateness)


@dataclass
class ClassResult:
    batch: BatchResult
    records: list[GradeRecord]  # the current grades of every discovered submission
    feedback: FeedbackFiles | None = None


def gradebook_files(db: Path) -> list[Path]:
    """The gradebook and its companions, hidden from student code while it runs."""
    return [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm", ".lock")]


def default_grader(protect: Sequence[Path] = ()) -> GradesFiles:
    from grader.grading import Grader

    return Grader(visibility="all", protect=protect)


def grade_class(root: Path, *, db: Path, assignments: Sequence[str] | None = None,
                jobs: int | None = None, feedback_dir: Path | None = None, force: bool = False,
                course: Course | None = None, progress: Progress | None = None,
                lock_wait: float = 0.0,
                make_grader: Callable[[], GradesFiles] | None = None,
                allow_weak_sandbox: bool = False) -> ClassResult:
    """What `dlgrade grade-batch` does: discover, grade, record, and write the feedback.

    Without a working bwrap, the default grader refuses (UserError) unless
    `allow_weak_sandbox`: no silent weak mode for a whole class."""
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1 (got {jobs})")
    if feedback_dir is not None and feedback_dir.exists() and not feedback_dir.is_dir():
        raise UserError(f"--feedback-dir {feedback_dir} is a file, not a folder")
    submissions = discover(root, assignments)
    if not submissions:
        raise UserError(f"no submissions in {root} (expected {root}/<student>/<assignment>.py)")
    if make_grader is None:
        from grader.sandbox import bwrap

        if not bwrap.status().working and not allow_weak_sandbox:
            raise UserError(bwrap.weak_mode_refusal())
        make_grader = functools.partial(default_grader, protect=gradebook_files(db.resolve()))
    with Gradebook(db) as gradebook:
        batch = run_batch(submissions, make_grader, gradebook, course=course, jobs=jobs,
                          force=force, progress=progress, lock_wait=lock_wait)
        pairs = {(s.student, s.assignment) for s in submissions}
        records = [r for r in gradebook.current() if (r.student, r.assignment) in pairs]
    feedback = None
    if feedback_dir is not None:
        from grader.feedback import write_feedback

        feedback = write_feedback(records, feedback_dir, course)
    return ClassResult(batch=batch, records=records, feedback=feedback)


# ---------------------------------------------------------------- statistics


@dataclass(frozen=True)
class AssignmentStats:
    assignment: str
    n: int
    mean: float
    median: float
    min: float
    max: float
    fully_correct: int  # full marks before any late penalty
    late: int
    max_score: float


def assignment_stats(records: Sequence[GradeRecord]) -> list[AssignmentStats]:
    """Per assignment (catalog order): n, mean/median/min/max of the final score, full marks, late."""
    order = {n: i for i, n in enumerate(assignment_names())}
    by_assignment: dict[str, list[GradeRecord]] = {}
    for r in records:
        by_assignment.setdefault(r.assignment, []).append(r)
    stats = []
    for name in sorted(by_assignment, key=lambda n: order.get(n, 99)):
        rs = by_assignment[name]
        scores = [r.score for r in rs]
        stats.append(AssignmentStats(
            assignment=name, n=len(rs), mean=statistics.fmean(scores),
            median=statistics.median(scores), min=min(scores), max=max(scores),
            fully_correct=sum(r.fully_correct for r in rs), late=sum(r.late_days > 0 for r in rs),
            max_score=max(r.max_score for r in rs)))
    return stats


def student_totals(records: Sequence[GradeRecord]) -> tuple[dict[str, float], float]:
    """Each student's total final score, and the most a student could have had.

    A student who did not hand in an assignment of the batch scores 0 for it.
    """
    max_by_assignment: dict[str, float] = {}
    totals: dict[str, float] = {}
    for r in records:
        totals[r.student] = totals.get(r.student, 0.0) + r.score
        max_by_assignment[r.assignment] = max(max_by_assignment.get(r.assignment, 0.0), r.max_score)
    return dict(sorted(totals.items())), sum(max_by_assignment.values())


def histogram(values: Sequence[float], top: float, bins: int = 10) -> list[tuple[float, float, int]]:
    """Equal-width bins over [0, top]; the last bin includes `top`. (low, high, count) each."""
    if top <= 0:
        return [(0.0, 0.0, len(values))]
    width = top / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, max(0, int(v / width)))] += 1
    return [(i * width, (i + 1) * width, c) for i, c in enumerate(counts)]


# ---------------------------------------------------------------- terminal output


class RichProgress:
    """A Rich progress bar: done / total, submissions below full marks, grader errors, ETA."""

    def __init__(self, console: object) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[bold]grading"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[below]} below full marks · {task.fields[errors]} errors"),
            TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
            console=console,  # type: ignore[arg-type]
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


def summary_renderables(records: Sequence[GradeRecord], bar_width: int = 40) -> list[object]:
    """The end-of-batch summary: a table per assignment and a histogram of total scores."""
    from rich.table import Table
    from rich.text import Text

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
