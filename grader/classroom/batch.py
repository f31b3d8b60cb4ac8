"""Grading a whole class: find the submissions, grade them in parallel, record each one.

N worker threads share one Grader (its grade_file is thread-safe: each call forks its own
sandboxed child, so threads only wait). The main thread alone writes the gradebook, one
transaction per submission as each finishes, so a batch killed at any moment loses only
the submissions in flight, and a rerun skips what is already graded.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal, Protocol

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


class GradesFiles(Protocol):
    def grade(self, file: SourceFile, assignment: str | None = None,
              student: str | None = None) -> Report: ...


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


def _grade_one(grader: GradesFiles, sub: Submission) -> Report:
    if sub.file is None:
        raise RuntimeError(sub.problem)
    return grader.grade(sub.file, sub.assignment, sub.student)


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
        return Outcome(sub, error=sub.problem or f"{type(exc).__name__}: {exc}")
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
    return Grader(visibility="all", protect=protect)


def grade_class(root: Path, *, db: Path, assignments: Sequence[str] | None = None,
                jobs: int | None = None, feedback_dir: Path | None = None, force: bool = False,
                course: Course | None = None, progress: Progress | None = None,
                lock_wait: float = 0.0,
                make_grader: Callable[[], GradesFiles] | None = None,
                lang: str | None = None, allow_weak_sandbox: bool = False) -> ClassResult:
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
        if not bwrap.status().working and not allow_weak_sandbox:
            raise UserError(bwrap.weak_mode_refusal())
        protect = gradebook_files(db.resolve())
        if is_data_folder(root):  # the roster, the token handouts, everyone's hand-ins
            protect.append(root.resolve())
        make_grader = functools.partial(default_grader, protect=protect)
    with Gradebook(db) as gradebook:
        batch = run_batch(submissions, make_grader, gradebook, course=course, jobs=jobs,
                          force=force, progress=progress, lock_wait=lock_wait)
        pairs = {(s.student, s.assignment) for s in submissions}
        records = standings(gradebook, course, pairs=pairs,
                            assignments=[get_assignment(a).name for a in assignments] if assignments else None)
    feedback = None
    if feedback_dir is not None:
        feedback = write_feedback(records, feedback_dir, course, lang=lang)
    return ClassResult(batch=batch, records=records, feedback=feedback)
