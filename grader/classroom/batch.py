"""Grading a whole class: find the submissions, grade them in parallel, record each one.

An executor (grader.executors) grades: by default N worker threads sharing one Grader (its
grade is thread-safe: each call forks its own sandboxed child, so threads only wait), or
the workers of a Dask cluster. The main thread alone writes the gradebook, one
transaction per submission as each finishes, so a batch killed at any moment loses only
the submissions in flight, and a rerun skips what is already graded.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, Protocol

from grader import __version__
from grader.catalog import get_assignment
from grader.classroom.feedback import FeedbackFiles, write_feedback
from grader.classroom.flags import flags_from_tests
from grader.classroom.gradebook import Gradebook, GradeRecord
from grader.classroom.handin import parse_iso, read_manifest
from grader.classroom.late import Lateness, assess
from grader.classroom.receipts import is_data_folder, iter_handins
from grader.classroom.standing import standings
from grader.course import Course, NoLatePolicy
from grader.errors import UserError
from grader.executors.base import Done, Executor, GradesFiles
from grader.executors.local import LocalExecutor
from grader.grading.grader import Grader
from grader.grading.results import Report
from grader.grading.submission import SourceFile, find_submissions, read_submission
from grader.sandbox import bwrap

# Where a submission time came from: a receipt is stamped by the machine that took the file
# in; a manifest or a file's mtime is on the students' side, which they can change.
TimeSource = Literal["manifest", "mtime", "receipt"]


@dataclass(frozen=True)
class Submission:
    """A submission found in the exchange, read once: what is graded is what was hashed."""

    student: str
    assignment: str
    path: Path
    file: SourceFile | None  # None when it cannot be read as a submission (see `problem`)
    submitted_at: datetime
    submitted_at_source: TimeSource
    problem: str | None = None

    @property
    def sha256(self) -> str:
        return self.file.sha256 if self.file is not None else ""


def discover(root: Path, assignments: Sequence[str] | None = None) -> list[Submission]:
    """Every submission in `root`, read and hashed once.

    A data folder of `dlgrade serve` or `dlgrade collect` gives each student's current
    hand-in with its receipt's time, stamped by the machine that took the file in. Any other
    folder is an exchange (`find_submissions`, which refuses links, FIFOs and the like): the
    time is the manifest's when its sha256 matches the file (the file is what `submit`
    recorded), else the file's modification time; a student can change both.
    """
    found: list[Submission] = []
    if is_data_folder(root):
        wanted = list(assignments) if assignments else None
        for student, assignment, path, when in iter_handins(root, wanted):
            file, problem = _read(path)
            found.append(Submission(student, assignment, path, file, when, "receipt", problem))
        return found
    manifests: dict[Path, dict] = {}
    for f in find_submissions(root, list(assignments) if assignments else None):
        manifest = manifests.setdefault(f.path.parent, read_manifest(f.path.parent))
        file, problem = _read(f.path)
        sha = file.sha256 if file is not None else ""
        when, source = _submitted_at(manifest.get(f.assignment, {}), sha, f.path)
        found.append(Submission(f.student, f.assignment, f.path, file, when, source, problem))
    return found


def _read(path: Path) -> tuple[SourceFile | None, str | None]:
    try:
        return read_submission(path), None
    except UserError as exc:  # e.g. over the size cap: reported, the others still graded
        return None, f"UserError: {exc}"


def _submitted_at(entry: dict, sha: str, path: Path) -> tuple[datetime, TimeSource]:
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
    where: str | None = None  # the worker that graded it (local://HOST for this machine)

    @property
    def full_marks(self) -> bool:
        return self.report is not None and self.report.score >= self.report.max_score - 1e-9

    @property
    def flagged(self) -> bool:
        return self.report is not None and bool(flags_from_tests(self.report.tests))


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


def run_batch(submissions: Sequence[Submission], make_grader: Callable[[], GradesFiles],
              gradebook: Gradebook, *, course: Course | None = None, jobs: int = 1,
              force: bool = False, progress: Progress | None = None,
              lock_wait: float = 0.0, executor: Executor | None = None) -> BatchResult:
    """Grade what is not graded yet (everything with `force`) and record each as it finishes.

    `executor` grades (default: grader.executors.LocalExecutor(make_grader, jobs), which
    calls `make_grader` only when there is something to grade and closes the grader at the
    end); it is closed at the end. Skipped: what the gradebook holds for the same student,
    assignment, content and dlgrade version.
    """
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1 (got {jobs})")
    result = BatchResult(submissions=list(submissions))
    started = time.perf_counter()
    with gradebook.batch_lock(wait=lock_wait):
        todo = []
        for sub in submissions:
            if not force and gradebook.is_graded(sub.student, sub.assignment, sub.sha256,
                                                 version=__version__):
                result.skipped.append(sub)
            else:
                todo.append(sub)
        if progress:
            progress.start(len(todo), len(result.skipped))
        if not todo:
            if executor is not None:
                executor.close()
            if progress:
                progress.finish()
            result.seconds = time.perf_counter() - started
            return result
        executor = executor or LocalExecutor(make_grader, jobs)
        finished = executor.grade(todo)
        try:
            for done in finished:  # each as it arrives: one transaction, then the next
                outcome = _finish(done, gradebook, course, force)
                result.graded.append(outcome)
                if progress:
                    progress.advance(outcome)
        finally:
            finished.close()  # an interrupt: cancel what has not finished
            executor.close()  # kills the sandboxed children still running
            if progress:
                progress.finish()
    result.seconds = time.perf_counter() - started
    return result


def _finish(done: Done, gradebook: Gradebook, course: Course | None, force: bool) -> Outcome:
    sub, report = done.submission, done.report
    if report is None:  # the grader failed on it, not the student: noted, graded next run
        error = done.error or "no report"
        gradebook.record_failure(student=sub.student, assignment=sub.assignment,
                                 sha256=sub.sha256, error=error, worker=done.where)
        return Outcome(sub, error=error, where=done.where)
    due = course.due_date(sub.assignment) if course else None
    policy = course.late_policy if course else NoLatePolicy()
    try:
        lateness = assess(report.score, sub.submitted_at, due, policy)
        gradebook.record(report, student=sub.student, assignment=sub.assignment, path=sub.path,
                         submitted_at=sub.submitted_at, submitted_at_source=sub.submitted_at_source,
                         lateness=lateness, due=due, force=force, worker=done.where)
    except Exception as exc:  # a report that cannot be recorded costs that submission only
        return Outcome(sub, error=f"could not record: {type(exc).__name__}: {exc}", where=done.where)
    return Outcome(sub, report=report, lateness=lateness, where=done.where)


@dataclass
class ClassResult:
    batch: BatchResult
    records: list[GradeRecord]  # the current grades of every discovered submission
    feedback: FeedbackFiles | None = None


def gradebook_files(db: Path) -> list[Path]:
    """The gradebook and its companions, hidden from student code while it runs."""
    return [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm", ".lock")]


def default_grader(protect: Sequence[Path] = ()) -> GradesFiles:
    return Grader(cases="all", protect=protect)


def grade_class(root: Path, *, db: Path, assignments: Sequence[str] | None = None,
                jobs: int | None = None, feedback_dir: Path | None = None, force: bool = False,
                course: Course | None = None, progress: Progress | None = None,
                lock_wait: float = 0.0,
                make_grader: Callable[[], GradesFiles] | None = None,
                lang: str | None = None, executor: Executor | None = None,
                allow_weak_sandbox: bool = False) -> ClassResult:
    """What `dlgrade grade-batch` does: discover, grade, record, and write the feedback.

    Without a working bwrap, the default local grader refuses (UserError) unless
    `allow_weak_sandbox`: no silent weak mode for a whole class. A cluster's executor checks
    its workers' layers itself."""
    jobs = (os.cpu_count() or 1) if jobs is None else jobs
    if jobs < 1:
        raise UserError(f"--jobs must be at least 1 (got {jobs})")
    if feedback_dir is not None and feedback_dir.exists() and not feedback_dir.is_dir():
        raise UserError(f"--feedback-dir {feedback_dir} is a file, not a folder")
    submissions = discover(root, assignments)
    if not submissions:
        raise UserError(f"no submissions in {root} (expected {root}/<student>/<assignment>.py)")
    if make_grader is None:
        if executor is None and not bwrap.status().working and not allow_weak_sandbox:
            raise UserError(bwrap.weak_mode_refusal())
        protect = gradebook_files(db.resolve())
        if is_data_folder(root):  # the roster, the token handouts, everyone's hand-ins
            protect.append(root.resolve())
        make_grader = functools.partial(default_grader, protect=protect)
    with Gradebook(db) as gradebook:
        batch = run_batch(submissions, make_grader, gradebook, course=course, jobs=jobs,
                          force=force, progress=progress, lock_wait=lock_wait,
                          executor=executor)
        pairs = {(s.student, s.assignment) for s in submissions}
        records = standings(gradebook, course, pairs=pairs,
                            assignments=[get_assignment(a).name for a in assignments] if assignments else None)
        similarity = gradebook.similarity_flags()
    feedback = None
    if feedback_dir is not None:
        feedback = write_feedback(records, feedback_dir, course, lang=lang, similarity=similarity)
    return ClassResult(batch=batch, records=records, feedback=feedback)
