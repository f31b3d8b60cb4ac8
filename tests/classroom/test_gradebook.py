"""The SQLite gradebook: schema, one transaction per submission, idempotence, locks, refusals."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from grader.classroom.gradebook import APPLICATION_ID, SCHEMA_VERSION, SIMILARITY_FLAGS, Gradebook
from grader.classroom.late import Lateness
from grader.errors import UserError
from grader.grading.results import Report, TestResult

ON_TIME = Lateness(days=0, percent=0.0, penalty=0.0, score=0.0)
WHEN = datetime(2025, 3, 14, 12, 0, tzinfo=timezone.utc)


def report(sha: str = "a" * 64, failed: int = 0, student: str = "kim") -> Report:
    tests = [TestResult(name=f"case{i}", target="mse" if i < 2 else "softmax", points=0.0 if i < failed else 25.0,
                        max_points=25.0, status="failed" if i < failed else "passed",
                        message="off by a factor 2" if i < failed else "", seconds=0.01,
                        visibility="visible" if i % 2 == 0 else "hidden") for i in range(4)]
    return Report(assignment="losses", student=student, sha256=sha, source="x/losses.py",
                  tests=tests, execution_time=0.5, notes=["a note"])


def record(gb: Gradebook, rep: Report, student: str = "kim", force: bool = False,
           lateness: Lateness | None = None) -> int | None:
    late = lateness or Lateness(0, 0.0, 0.0, rep.score)
    return gb.record(rep, student=student, assignment="losses", path="x/losses.py",
                     submitted_at=WHEN, submitted_at_source="manifest", lateness=late, force=force)


def test_a_new_gradebook_is_versioned_and_in_wal_mode(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.db"):
        pass
    conn = sqlite3.connect(tmp_path / "g.db")
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"students", "assignments", "submissions", "results", "similarity_flags",
                      "adjustments", "grading_failures"}


def test_a_submission_round_trips(tmp_path: Path) -> None:
    rep = report(failed=1)
    with Gradebook(tmp_path / "g.db") as gb:
        sub_id = record(gb, rep, lateness=Lateness(days=2, percent=20.0, penalty=15.0, score=60.0))
        [rec] = gb.current()
    assert rec.id == sub_id
    assert (rec.student, rec.assignment, rec.sha256) == ("kim", "losses", "a" * 64)
    assert (rec.raw_score, rec.penalty, rec.score, rec.max_score) == (75.0, 15.0, 60.0, 100.0)
    assert (rec.late_days, rec.penalty_percent) == (2, 20.0)
    assert rec.submitted_at == "2025-03-14T12:00:00Z" and rec.submitted_at_source == "manifest"
    assert rec.report.tests == rep.tests
    assert rec.report.notes == ["a note"]
    assert not rec.fully_correct


def test_same_content_is_skipped_unless_forced(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.db") as gb:
        assert record(gb, report()) is not None
        assert gb.is_graded("kim", "losses", "a" * 64)
        assert record(gb, report()) is None  # already graded: nothing written
        assert gb.count_submissions() == 1
        assert record(gb, report(), force=True) is not None  # regraded, replacing the old row
        assert gb.count_submissions() == 1
        assert gb.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 4


def test_a_resubmission_becomes_the_current_grade_and_keeps_history(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.db") as gb:
        record(gb, report("a" * 64, failed=2))
        record(gb, report("b" * 64, failed=0))
        [current] = gb.current()
        assert current.sha256 == "b" * 64 and current.fully_correct
        assert [r.sha256 for r in gb.history("kim")] == ["a" * 64, "b" * 64]
        # going back to the first version: graded again, and current again
        assert not gb.is_graded("kim", "losses", "a" * 64)
        record(gb, report("a" * 64, failed=2))
        assert gb.current()[0].sha256 == "a" * 64
        assert gb.count_submissions() == 2


def test_a_failed_transaction_leaves_nothing(tmp_path: Path) -> None:
    bad = report()
    bad.tests[3].status = None  # type: ignore[assignment]  # NOT NULL: the last insert fails
    with Gradebook(tmp_path / "g.db") as gb:
        with pytest.raises(sqlite3.IntegrityError):
            record(gb, bad)
        assert gb.count_submissions() == 0
        assert gb.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 0
        assert gb.integrity_problems() == []


def test_check_finds_a_submission_missing_results(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.db") as gb:
        sub_id = record(gb, report())
        assert gb.integrity_problems() == []
        gb.conn.execute("DELETE FROM results WHERE submission_id = ? AND position = 0", (sub_id,))
        assert gb.integrity_problems() == [f"submission {sub_id} (kim/losses): 3 of 4 results"]


def test_filters_and_listing(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.db") as gb:
        record(gb, report(student="kim"), student="kim")
        record(gb, report(student="lee"), student="lee")
        assert gb.students() == ["kim", "lee"]
        assert gb.assignments() == {"losses": 100.0}
        assert [r.student for r in gb.current(students=["lee"])] == ["lee"]
        assert gb.current(assignments=["backprop"]) == []


@pytest.mark.parametrize("make, words", [
    (lambda p: p.write_text("student,score\nkim,3\n"), "not a dlgrade gradebook (not an SQLite file)"),
    (lambda p: sqlite3.connect(p).execute("CREATE TABLE t (x)"), "not a dlgrade gradebook (an SQLite file of something else)"),
    (lambda p: p.mkdir(), "is a folder, not a gradebook file"),
])
def test_what_is_not_a_gradebook_is_refused(tmp_path: Path, make, words: str) -> None:
    path = tmp_path / "g.db"
    make(path)
    before = path.read_bytes() if path.is_file() else None
    with pytest.raises(UserError, match=words.replace("(", r"\(").replace(")", r"\)")):
        Gradebook(path)
    if before is not None:
        assert path.read_bytes() == before  # left as it was


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    with Gradebook(tmp_path / "g.db") as gb:
        gb.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(UserError, match="newer dlgrade"):
        Gradebook(tmp_path / "g.db")


def test_opening_without_create(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no gradebook at"):
        Gradebook(tmp_path / "none.db", create=False)
    with pytest.raises(UserError, match="does not exist"):
        Gradebook(tmp_path / "no" / "such" / "g.db")


def test_the_batch_lock_refuses_or_waits(tmp_path: Path) -> None:
    path = tmp_path / "g.db"
    with Gradebook(path) as first, Gradebook(path) as second:
        with first.batch_lock(), pytest.raises(
                UserError, match=r"in use by another grade-batch \(pid \d+\)"), second.batch_lock():
            pass
        # released: the next one gets it; and a waiting one gets it once the holder lets go
        held = threading.Event()

        def hold() -> None:
            with first.batch_lock():
                held.set()
                time.sleep(0.5)

        t = threading.Thread(target=hold)
        t.start()
        held.wait(5)
        started = time.monotonic()
        with second.batch_lock(wait=10):
            waited = time.monotonic() - started
        t.join()
        assert 0.2 < waited < 5


# The schema of version 1, as shipped: a gradebook written by it must open and keep every row.
SCHEMA_V1 = """
CREATE TABLE students (id TEXT PRIMARY KEY, first_seen TEXT NOT NULL);
CREATE TABLE assignments (name TEXT PRIMARY KEY, max_score REAL NOT NULL, due TEXT);
CREATE TABLE submissions (
    id INTEGER PRIMARY KEY, student TEXT NOT NULL REFERENCES students(id),
    assignment TEXT NOT NULL REFERENCES assignments(name), sha256 TEXT NOT NULL, path TEXT NOT NULL,
    submitted_at TEXT, submitted_at_source TEXT NOT NULL, graded_at TEXT NOT NULL,
    late_days INTEGER NOT NULL, penalty_percent REAL NOT NULL, penalty REAL NOT NULL,
    raw_score REAL NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL, n_results INTEGER NOT NULL,
    execution_time REAL NOT NULL, notes TEXT NOT NULL, dlgrade_version TEXT NOT NULL);
CREATE INDEX submissions_by_pair ON submissions(student, assignment, id);
CREATE TABLE results (
    submission_id INTEGER NOT NULL REFERENCES submissions(id) ON DELETE CASCADE,
    position INTEGER NOT NULL, name TEXT NOT NULL, target TEXT NOT NULL, points REAL NOT NULL,
    max_points REAL NOT NULL, status TEXT NOT NULL, message TEXT NOT NULL, seconds REAL NOT NULL,
    visibility TEXT NOT NULL, PRIMARY KEY (submission_id, position));
"""


def test_a_version_1_gradebook_is_migrated_without_losing_a_row(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_V1)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=1")
    conn.execute("INSERT INTO students VALUES ('kim', '2025-03-01T00:00:00Z')")
    conn.execute("INSERT INTO assignments VALUES ('losses', 100, NULL)")
    conn.execute("INSERT INTO submissions VALUES (1, 'kim', 'losses', ?, 'kim/losses.py', "
                 "'2025-03-14T12:00:00Z', 'manifest', '2025-03-15T00:00:00Z', 1, 10, 7, 70, 63, 100, 2, "
                 "0.5, '[]', '0.1.0')", ("b" * 64,))
    conn.executemany("INSERT INTO results VALUES (1, ?, ?, 'mse', ?, ?, ?, ?, 0.1, 'visible')", [
        (0, "mse_small", 70, 70, "passed", ""),
        (1, "mse_big", 0, 30, "failed", "timed out after 2 s")])
    conn.commit()
    conn.close()

    with Gradebook(path, create=False) as gb:
        [rec] = gb.current()
        assert gb.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert gb.integrity_problems() == []
    assert (rec.student, rec.raw_score, rec.submitted_at, len(rec.report.tests)) == (
        "kim", 70.0, "2025-03-14T12:00:00Z", 2)
    assert [f["kind"] for f in rec.flags] == ["timeout"]  # backfilled from the stored results
    assert rec.worker is None  # graded before the gradebook said where
    backup = tmp_path / "old.db.schema1.bak"
    with sqlite3.connect(backup) as copy:  # the untouched original, kept beside it
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 1
        assert copy.execute("SELECT COUNT(*) FROM results").fetchone()[0] == 2
    with Gradebook(path, create=False) as gb:  # opening again changes nothing
        assert [r.id for r in gb.current()] == [1]


def test_a_version_2_gradebook_keeps_its_similarity_flags_and_gains_flags_and_adjustments(
        tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA_V1 + SIMILARITY_FLAGS.ddl)
    conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
    conn.execute("PRAGMA user_version=2")
    conn.execute("INSERT INTO similarity_flags VALUES (1, 'pair', 'losses', 'kim', 'lee', 0.9, ?, ?, "
                 "'{}', '2025-03-15T00:00:00Z')", ("a" * 64, "b" * 64))
    conn.commit()
    conn.close()

    with Gradebook(path, create=False) as gb:
        assert gb.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert [tuple(r) for r in gb.conn.execute("SELECT student, other FROM similarity_flags")] == [
            ("kim", "lee")]
        assert gb.conn.execute("SELECT COUNT(*) FROM adjustments").fetchone()[0] == 0
    with sqlite3.connect(tmp_path / "v2.db.schema2.bak") as copy:
        assert copy.execute("PRAGMA user_version").fetchone()[0] == 2
