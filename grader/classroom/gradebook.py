"""The gradebook: one SQLite file (WAL, schema version in `PRAGMA user_version`).

One transaction per graded submission (its row and all its result rows together), so
a batch killed at any moment leaves only whole submissions behind. The current grade
of a (student, assignment) is its latest submission row; earlier rows are history.
Late days and penalties are not stored as the grade: every table, report and export
derives them from the raw score, the submission time and the current course.toml
(grader.classroom.standing), so a changed policy or an extension applies without regrading.
Two batches on one gradebook take turns through an advisory lock file beside it
(`<db>.lock`, flock: released by the kernel even when its holder is SIGKILLed); single
writes also take SQLite's own write lock (`BEGIN IMMEDIATE`, with a busy timeout).
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from grader import __version__
from grader.catalog import in_catalog_order
from grader.classroom.flags import flags_from_tests
from grader.classroom.handin import iso_utc, utc_now
from grader.classroom.late import Lateness
from grader.errors import UserError
from grader.grading.results import Report, TestResult
from grader.sqlite import Database, Migration, Schema, open_database

SCHEMA_VERSION = 4
APPLICATION_ID = 0x646C6772  # "dlgr": tells a dlgrade gradebook from any other SQLite file

# Version 1; later versions add to it through the migrations below.
SCHEMA = """
CREATE TABLE students (
    id          TEXT PRIMARY KEY,
    first_seen  TEXT NOT NULL
);
CREATE TABLE assignments (
    name        TEXT PRIMARY KEY,
    max_score   REAL NOT NULL,
    due         TEXT
);
CREATE TABLE submissions (
    id                  INTEGER PRIMARY KEY,
    student             TEXT NOT NULL REFERENCES students(id),
    assignment          TEXT NOT NULL REFERENCES assignments(name),
    sha256              TEXT NOT NULL,
    path                TEXT NOT NULL,
    submitted_at        TEXT,
    submitted_at_source TEXT NOT NULL,           -- 'manifest', 'mtime' or 'receipt'
    graded_at           TEXT NOT NULL,
    late_days           INTEGER NOT NULL,        -- as at grading time (grader.classroom.standing derives)
    penalty_percent     REAL NOT NULL,           -- as at grading time
    penalty             REAL NOT NULL,           -- as at grading time
    raw_score           REAL NOT NULL,
    score               REAL NOT NULL,           -- as at grading time
    max_score           REAL NOT NULL,
    n_results           INTEGER NOT NULL,        -- lets a check see a submission is whole
    execution_time      REAL NOT NULL,
    notes               TEXT NOT NULL,           -- JSON list
    dlgrade_version     TEXT NOT NULL
);
CREATE INDEX submissions_by_pair ON submissions(student, assignment, id);
CREATE TABLE results (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    position      INTEGER NOT NULL,
    name          TEXT NOT NULL,
    target        TEXT NOT NULL,
    points        REAL NOT NULL,
    max_points    REAL NOT NULL,
    status        TEXT NOT NULL,
    message       TEXT NOT NULL,
    seconds       REAL NOT NULL,
    visibility    TEXT NOT NULL,
    PRIMARY KEY (submission_id, position)
);
"""

# The similarity check's flags (grader/similarity/flags.py): a reason for the instructor to
# look at a pair of submissions or at a reference match, never a score. `other` is the other
# student of a pair, NULL for a reference match. A schema step of its own, so that other
# changes can be ordered before or after it by its version number alone.
SIMILARITY_FLAGS = Migration(version=2, what="the similarity flags table", ddl="""
CREATE TABLE similarity_flags (
    id           INTEGER PRIMARY KEY,
    kind         TEXT NOT NULL,
    assignment   TEXT NOT NULL,
    student      TEXT NOT NULL,
    other        TEXT,
    score        REAL NOT NULL,
    sha256       TEXT NOT NULL,
    other_sha256 TEXT,
    detail       TEXT NOT NULL,           -- JSON
    created_at   TEXT NOT NULL
);
CREATE INDEX similarity_flags_by_assignment ON similarity_flags(assignment, kind);
""")


def _backfill_flags(conn: sqlite3.Connection) -> None:
    """Flags of submissions graded before flags were recorded, from their stored results."""
    rows = conn.cursor()
    rows.row_factory = sqlite3.Row
    for (sub_id,) in conn.execute("SELECT id FROM submissions").fetchall():
        tests = [TestResult(name=r["name"], target=r["target"], points=r["points"],
                            max_points=r["max_points"], status=r["status"], message=r["message"],
                            seconds=r["seconds"], visibility=r["visibility"])
                 for r in rows.execute("SELECT * FROM results WHERE submission_id = ? ORDER BY position",
                                       (sub_id,))]
        conn.execute("UPDATE submissions SET flags = ? WHERE id = ?",
                     (json.dumps(flags_from_tests(tests)), sub_id))


# What the sandbox stopped, per submission (grader.classroom.flags; a JSON list), and the
# instructor's adjustments (override, extend, excuse), each with who, when and why and
# reversible: a final grade is derived from them on every read (grader.classroom.standing).
FLAGS_AND_ADJUSTMENTS = Migration(
    version=3, what="the submissions' flags and the adjustments table", fill=_backfill_flags, ddl="""
ALTER TABLE submissions ADD COLUMN flags TEXT NOT NULL DEFAULT '[]';
CREATE TABLE adjustments (
    id          INTEGER PRIMARY KEY,
    student     TEXT NOT NULL,
    assignment  TEXT NOT NULL,
    kind        TEXT NOT NULL CHECK (kind IN ('override', 'extend', 'excuse')),
    points      REAL,                            -- override
    until       TEXT,                            -- extend: the new due time, UTC
    reason      TEXT NOT NULL,
    made_by     TEXT NOT NULL,
    made_at     TEXT NOT NULL,
    reverted_by TEXT,
    reverted_at TEXT
);
""")

# Where each submission was graded (a cluster worker's address, or local://HOST), and the
# submissions the grader failed on: an infrastructure failure is never a grade, so these
# are graded again on the next run (`Gradebook.failures` lists what is outstanding).
WHERE_GRADED = Migration(version=4, what="where graded and the failures to grade", ddl="""
ALTER TABLE submissions ADD COLUMN worker TEXT;
CREATE TABLE grading_failures (
    id              INTEGER PRIMARY KEY,
    student         TEXT NOT NULL,
    assignment      TEXT NOT NULL,
    sha256          TEXT NOT NULL,
    worker          TEXT,
    error           TEXT NOT NULL,
    failed_at       TEXT NOT NULL,
    dlgrade_version TEXT NOT NULL
);
CREATE INDEX grading_failures_by_pair ON grading_failures(student, assignment);
""")

SCHEMA_FILE = Schema(
    noun="a dlgrade gradebook", file_noun="gradebook file",
    missing="no gradebook at {path} (grade a batch with --db {path} first)",
    version=SCHEMA_VERSION, application_id=APPLICATION_ID, ddl=SCHEMA,
    tables=frozenset({"students", "assignments", "submissions", "results"}),
    migrations=(SIMILARITY_FLAGS, FLAGS_AND_ADJUSTMENTS, WHERE_GRADED))


_CURRENT = """
SELECT * FROM submissions s
WHERE s.id = (SELECT MAX(t.id) FROM submissions t
              WHERE t.student = s.student AND t.assignment = s.assignment)
"""


@dataclass(frozen=True)
class GradeRecord:
    """One graded submission as the gradebook holds it."""

    id: int
    student: str
    assignment: str
    sha256: str
    path: str
    submitted_at: str | None
    submitted_at_source: str
    graded_at: str
    late_days: int
    penalty_percent: float
    penalty: float
    raw_score: float
    score: float
    max_score: float
    report: Report
    flags: list[dict] = field(default_factory=list)  # grader.classroom.flags, recorded when graded
    # derived by grader.classroom.standing from the course and the adjustments, never stored:
    status: str = "graded"  # "graded", "missing" (on the roster, nothing handed in), "excused"
    due: str | None = None  # the due time that applied (an extension's, if any), ISO UTC
    override: float | None = None  # the instructor's points, replacing the computed score
    adjustments: tuple[dict, ...] = ()  # the active adjustments of this (student, assignment)
    worker: str | None = None  # where it was graded (a cluster worker, or local://HOST)

    @property
    def fully_correct(self) -> bool:
        return self.max_score > 0 and self.raw_score >= self.max_score - 1e-9


# The kinds of similarity flag (written by grader.similarity.flags, read here so that the
# classroom's pages can show them without depending on the similarity check).
SIMILAR = "similar"
REFERENCE = "matches the hidden reference"


@dataclass(frozen=True)
class SimilarityFlag:
    """A reason to look at a submission: similar to a classmate's (`other`) or to the reference."""

    kind: str
    assignment: str
    student: str
    other: str | None
    score: float
    detail: dict

    def describe(self, student: str | None = None) -> str:
        """'similar to <the other student> (0.87)' from `student`'s side, or the reference match."""
        if self.kind == SIMILAR:
            other = self.student if student is not None and student == self.other else self.other
            return f"similar to {other} ({self.score:.2f})"
        if self.kind == REFERENCE:
            return f"matches the hidden reference ({self.score:.2f})"
        return f"{self.kind} ({self.score:.2f})"

    def involves(self, student: str) -> bool:
        return student in (self.student, self.other)


def by_student(records: Iterable[GradeRecord]) -> dict[str, dict[str, GradeRecord]]:
    """student -> assignment -> record; students sorted, each one's assignments in record order."""
    out: dict[str, dict[str, GradeRecord]] = {}
    for r in sorted(records, key=lambda r: r.student):
        out.setdefault(r.student, {})[r.assignment] = r
    return out


def by_assignment(records: Iterable[GradeRecord]) -> dict[str, list[GradeRecord]]:
    out: dict[str, list[GradeRecord]] = {}
    for r in records:
        out.setdefault(r.assignment, []).append(r)
    return out


class Gradebook(Database):
    def __init__(self, path: Path, *, create: bool = True, busy_timeout: float = 30.0) -> None:
        self.path = path
        super().__init__(open_database(path, SCHEMA_FILE, create=create, busy_timeout=busy_timeout))
        self.conn.row_factory = sqlite3.Row

    @contextmanager
    def batch_lock(self, wait: float = 0.0) -> Iterator[None]:
        """Hold the gradebook for a whole batch; another holder -> wait up to `wait` s, then refuse."""
        lock_path = self.path.with_name(self.path.name + ".lock")
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                        raise UserError(
                            f"{self.path} is in use by another grade-batch (pid {holder}); "
                            "wait for it to finish or pass --wait SECONDS"
                        ) from None
                    time.sleep(0.2)
            os.ftruncate(fd, 0)
            os.pwrite(fd, str(os.getpid()).encode(), 0)
            yield
        finally:
            os.close(fd)  # closing releases the flock

    # ------------------------------------------------------------ writing

    def latest_sha256(self, student: str, assignment: str) -> str | None:
        row = self.conn.execute(
            "SELECT sha256 FROM submissions WHERE student = ? AND assignment = ? ORDER BY id DESC LIMIT 1",
            (student, assignment),
        ).fetchone()
        return row[0] if row else None

    def is_graded(self, student: str, assignment: str, sha256: str,
                  version: str | None = None) -> bool:
        """True when this exact content is already the current grade of (student, assignment)
        (and, given `version`, was graded by that dlgrade version)."""
        row = self.conn.execute(
            "SELECT sha256, dlgrade_version FROM submissions WHERE student = ? AND assignment = ? "
            "ORDER BY id DESC LIMIT 1", (student, assignment)).fetchone()
        return row is not None and row[0] == sha256 and (version is None or row[1] == version)

    def record(self, report: Report, *, student: str, assignment: str, path: Path | str,
               submitted_at: datetime | None, submitted_at_source: str, lateness: Lateness,
               due: datetime | None = None, force: bool = False,
               worker: str | None = None) -> int | None:
        """Store one graded submission and all its results in one transaction.

        Returns the new submission id, or None when the same content was already graded
        (by another process meanwhile, by this dlgrade version) and `force` is off.
        `worker`: where it was graded. Earlier failures to grade this pair are cleared.
        """
        now = iso_utc(utc_now())
        flags = json.dumps(flags_from_tests(report.tests))
        with self.write() as c:
            if not force and self.is_graded(student, assignment, report.sha256, __version__):
                return None
            c.execute("INSERT OR IGNORE INTO students(id, first_seen) VALUES (?, ?)", (student, now))
            c.execute(
                "INSERT INTO assignments(name, max_score, due) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET max_score = excluded.max_score, "
                "due = COALESCE(excluded.due, due)",
                (assignment, report.max_score, iso_utc(due) if due else None),
            )
            c.execute("DELETE FROM submissions WHERE student = ? AND assignment = ? AND sha256 = ?",
                      (student, assignment, report.sha256))
            cur = c.execute(
                "INSERT INTO submissions(student, assignment, sha256, path, submitted_at, "
                "submitted_at_source, graded_at, late_days, penalty_percent, penalty, raw_score, "
                "score, max_score, n_results, execution_time, notes, dlgrade_version, flags, "
                "worker) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student, assignment, report.sha256, str(path),
                 iso_utc(submitted_at) if submitted_at else None, submitted_at_source, now,
                 lateness.days, lateness.percent, lateness.penalty, report.score, lateness.score,
                 report.max_score, len(report.tests), report.execution_time,
                 json.dumps(report.notes), __version__, flags, worker),
            )
            sub_id = cur.lastrowid
            c.executemany(
                "INSERT INTO results(submission_id, position, name, target, points, max_points, "
                "status, message, seconds, visibility) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(sub_id, i, t.name, t.target, t.points, t.max_points, t.status, t.message,
                  t.seconds, t.visibility) for i, t in enumerate(report.tests)],
            )
            c.execute("DELETE FROM grading_failures WHERE student = ? AND assignment = ?",
                      (student, assignment))
        return sub_id

    def record_failure(self, *, student: str, assignment: str, sha256: str, error: str,
                       worker: str | None = None) -> None:
        """Note that the grader (not the student) failed on this content: not a grade, so
        the next run grades it again; `failures()` lists what is still outstanding."""
        with self.write() as c:
            c.execute("INSERT INTO grading_failures(student, assignment, sha256, worker, error, "
                      "failed_at, dlgrade_version) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (student, assignment, sha256, worker, error, iso_utc(utc_now()), __version__))

    def failures(self) -> list[dict[str, str | None]]:
        """Failures to grade not yet followed by a grade of the pair, oldest first."""
        rows = self.conn.execute(
            "SELECT student, assignment, sha256, worker, error, failed_at FROM grading_failures "
            "ORDER BY id").fetchall()
        return [dict(r) for r in rows]

    # ------------------------------------------------------------ reading

    def current(self, *, students: Iterable[str] | None = None,
                assignments: Iterable[str] | None = None) -> list[GradeRecord]:
        """The current grade of every (student, assignment), sorted by student then assignment."""
        rows = self.conn.execute(_CURRENT + " ORDER BY s.student, s.assignment").fetchall()
        keep_s = set(students) if students is not None else None
        keep_a = set(assignments) if assignments is not None else None
        rows = [r for r in rows if (keep_s is None or r["student"] in keep_s)
                and (keep_a is None or r["assignment"] in keep_a)]
        return [self._record(r) for r in rows]

    def history(self, student: str) -> list[GradeRecord]:
        rows = self.conn.execute("SELECT * FROM submissions WHERE student = ? ORDER BY id",
                                 (student,)).fetchall()
        return [self._record(r) for r in rows]

    def students(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM students ORDER BY id")]

    def assignments(self) -> dict[str, float]:
        """Graded assignments and their max score, in the catalog's order where known."""
        rows = dict(self.conn.execute("SELECT name, max_score FROM assignments").fetchall())
        return {name: rows[name] for name in in_catalog_order(rows)}

    def similarity_flags(self, student: str | None = None) -> list[SimilarityFlag]:
        """Every similarity flag (or one student's, on either side of a pair), by assignment then
        score, highest first. Flags only: a score never depends on them."""
        sql = "SELECT * FROM similarity_flags"
        args: tuple[str, ...] = ()
        if student is not None:
            sql += " WHERE student = ? OR other = ?"
            args = (student, student)
        rows = self.conn.execute(sql + " ORDER BY assignment, score DESC, student", args).fetchall()
        return [SimilarityFlag(r["kind"], r["assignment"], r["student"], r["other"], r["score"],
                               json.loads(r["detail"])) for r in rows]

    def count_submissions(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]

    def integrity_problems(self) -> list[str]:
        """Problems found: SQLite's integrity check, and submissions missing result rows."""
        problems = [r[0] for r in self.conn.execute("PRAGMA integrity_check") if r[0] != "ok"]
        for row in self.conn.execute(
            "SELECT s.id, s.student, s.assignment, s.n_results, "
            "(SELECT COUNT(*) FROM results r WHERE r.submission_id = s.id) AS n FROM submissions s"
        ):
            if row["n"] != row["n_results"]:
                problems.append(f"submission {row['id']} ({row['student']}/{row['assignment']}): "
                                f"{row['n']} of {row['n_results']} results")
        return problems

    def _record(self, row: sqlite3.Row) -> GradeRecord:
        tests = [
            TestResult(name=r["name"], target=r["target"], points=r["points"],
                       max_points=r["max_points"], status=r["status"], message=r["message"],
                       seconds=r["seconds"], visibility=r["visibility"])
            for r in self.conn.execute(
                "SELECT * FROM results WHERE submission_id = ? ORDER BY position", (row["id"],))
        ]
        report = Report(assignment=row["assignment"], student=row["student"], sha256=row["sha256"],
                        source=row["path"], tests=tests, execution_time=row["execution_time"],
                        notes=json.loads(row["notes"]))
        return GradeRecord(
            id=row["id"], student=row["student"], assignment=row["assignment"],
            sha256=row["sha256"], path=row["path"], submitted_at=row["submitted_at"],
            submitted_at_source=row["submitted_at_source"], graded_at=row["graded_at"],
            late_days=row["late_days"], penalty_percent=row["penalty_percent"],
            penalty=row["penalty"], raw_score=row["raw_score"], score=row["score"],
            max_score=row["max_score"], report=report, flags=json.loads(row["flags"]),
            worker=row["worker"],
        )
