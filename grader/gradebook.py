"""The gradebook: one SQLite file (WAL, schema version in `PRAGMA user_version`).

One transaction per graded submission (its row and all its result rows together), so
a batch killed at any moment leaves only whole submissions behind. The current grade
of a (student, assignment) is its latest submission row; earlier rows are history.
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
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from grader import __version__
from grader.errors import UserError
from grader.late import Lateness
from grader.results import Report, TestResult
from grader.sqlite_tx import immediate_transaction
from grader.submit import iso_utc, utc_now

SCHEMA_VERSION = 2  # the newest migration's number (see MIGRATIONS)
APPLICATION_ID = 0x646C6772  # "dlgr": tells a dlgrade gradebook from any other SQLite file
SQLITE_MAGIC = b"SQLite format 3\x00"

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
    submitted_at_source TEXT NOT NULL,           -- 'manifest' or 'mtime'
    graded_at           TEXT NOT NULL,
    late_days           INTEGER NOT NULL,
    penalty_percent     REAL NOT NULL,
    penalty             REAL NOT NULL,           -- points taken off
    raw_score           REAL NOT NULL,
    score               REAL NOT NULL,           -- raw_score - penalty
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



def _migrate_where_graded(c: sqlite3.Connection) -> None:
    """Schema 2: where each submission was graded (a cluster worker's address, or
    local://HOST), and the submissions the grader failed on (an infrastructure failure is
    never a grade: these are graded again on the next run)."""
    c.execute("ALTER TABLE submissions ADD COLUMN worker TEXT")
    c.execute("""
        CREATE TABLE grading_failures (
            id              INTEGER PRIMARY KEY,
            student         TEXT NOT NULL,
            assignment      TEXT NOT NULL,
            sha256          TEXT NOT NULL,
            worker          TEXT,
            error           TEXT NOT NULL,
            failed_at       TEXT NOT NULL,
            dlgrade_version TEXT NOT NULL
        )""")
    c.execute("CREATE INDEX grading_failures_by_pair ON grading_failures(student, assignment)")


# Schema upgrades, in order: MIGRATIONS[n] takes a gradebook from schema n - 1 to n. A new
# gradebook is created at schema 1 (SCHEMA) and migrated like an old one, so both paths are
# one. Each runs in the same transaction as its user_version bump.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    2: _migrate_where_graded,
}

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
    worker: str | None = None  # where it was graded

    @property
    def fully_correct(self) -> bool:
        return self.max_score > 0 and self.raw_score >= self.max_score - 1e-9


class Gradebook:
    def __init__(self, path: Path, *, create: bool = True, busy_timeout: float = 30.0) -> None:
        self.path = path
        _check_file(path, create)
        try:
            self.conn = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
        except sqlite3.Error as exc:
            raise UserError(f"cannot open gradebook {path}: {exc}") from None
        self.conn.row_factory = sqlite3.Row
        try:
            self._setup()
        except sqlite3.DatabaseError as exc:
            self.conn.close()
            raise UserError(f"{path} is not a dlgrade gradebook ({exc})") from None
        except UserError:
            self.conn.close()
            raise

    # ------------------------------------------------------------ opening

    def _setup(self) -> None:
        c = self.conn
        app_id = c.execute("PRAGMA application_id").fetchone()[0]
        version = c.execute("PRAGMA user_version").fetchone()[0]
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and _has_tables(c)):
            raise UserError(f"{self.path} is not a dlgrade gradebook (an SQLite file of something else)")
        if version > SCHEMA_VERSION:
            raise UserError(f"{self.path} was written by a newer dlgrade (schema {version}); upgrade dlgrade")
        c.execute("PRAGMA journal_mode=WAL")
        c.execute("PRAGMA synchronous=FULL")
        c.execute("PRAGMA foreign_keys=ON")
        if app_id == 0:
            with self.write():
                # another process may have created it meanwhile: look again under the write lock
                if c.execute("PRAGMA application_id").fetchone()[0] == 0:
                    for statement in SCHEMA.split(";"):  # executescript would commit early
                        if statement.strip():
                            c.execute(statement)
                    c.execute(f"PRAGMA application_id={APPLICATION_ID}")
                    c.execute("PRAGMA user_version=1")
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older gradebook to SCHEMA_VERSION, one migration per transaction."""
        c = self.conn
        for number in sorted(MIGRATIONS):
            if c.execute("PRAGMA user_version").fetchone()[0] >= number:
                continue
            with self.write():
                # another process may have migrated meanwhile: look again under the write lock
                if c.execute("PRAGMA user_version").fetchone()[0] < number:
                    MIGRATIONS[number](c)
                    c.execute(f"PRAGMA user_version={number}")

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self) -> AbstractContextManager[sqlite3.Connection]:
        """One write transaction; waits (busy timeout) for another writer rather than failing."""
        return immediate_transaction(self.conn)

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
                "score, max_score, n_results, execution_time, notes, dlgrade_version, worker) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (student, assignment, report.sha256, str(path),
                 iso_utc(submitted_at) if submitted_at else None, submitted_at_source, now,
                 lateness.days, lateness.percent, lateness.penalty, report.score, lateness.score,
                 report.max_score, len(report.tests), report.execution_time,
                 json.dumps(report.notes), __version__, worker),
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
        from grader.catalog import assignment_names

        order = {n: i for i, n in enumerate(assignment_names())}
        rows = self.conn.execute("SELECT name, max_score FROM assignments").fetchall()
        return {r[0]: r[1] for r in sorted(rows, key=lambda r: (order.get(r[0], 99), r[0]))}

    def count_submissions(self) -> int:
        return self.conn.execute("SELECT COUNT(*) FROM submissions").fetchone()[0]

    def check(self) -> list[str]:
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
            max_score=row["max_score"], report=report,
            worker=row["worker"],
        )


def _has_tables(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] > 0


def _check_file(path: Path, create: bool) -> None:
    """Refuse what cannot be a gradebook before SQLite touches it."""
    if path.is_dir():
        raise UserError(f"{path} is a folder, not a gradebook file")
    if not path.exists():
        if not create:
            raise UserError(f"no gradebook at {path} (grade a batch with --db {path} first)")
        if not path.parent.is_dir():
            raise UserError(f"folder {path.parent} does not exist (for the gradebook {path})")
        return
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise UserError(f"cannot read gradebook {path}: {exc.strerror}") from None
    if head and head != SQLITE_MAGIC:
        raise UserError(f"{path} is not a dlgrade gradebook (not an SQLite file)")
