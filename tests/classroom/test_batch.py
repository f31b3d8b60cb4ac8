"""Batch grading with a stand-in grader: discovery, parallelism, resuming, late penalties, stats."""

from __future__ import annotations

import hashlib
import json
import os
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class

from grader.classroom.batch import Outcome, discover, grade_class, run_batch
from grader.classroom.gradebook import Gradebook
from grader.classroom.handin import submit
from grader.classroom.stats import assignment_stats, histogram, student_totals
from grader.course import Course, PerDayPolicy
from grader.errors import UserError

UTC = timezone.utc


def test_discover_finds_student_assignment_files_only(tmp_path: Path) -> None:
    root = make_class(tmp_path / "class", {"kim": {"losses": "ok", "backprop": "ok"}, "lee": {"losses": "ok"}})
    (root / "kim" / "history").mkdir()
    (root / "kim" / "history" / "losses-20250101T000000Z.py").write_text("old")
    (root / "kim" / "notes.py").write_text("not an assignment")
    (root / ".git").mkdir()
    (root / ".git" / "losses.py").write_text("not a student")
    (root / "bad name").mkdir()
    (root / "bad name" / "losses.py").write_text("not a student id")
    (root / "losses.py").write_text("a file at the top is no student's")
    found = discover(root)
    assert [(s.student, s.assignment) for s in found] == [("kim", "backprop"), ("kim", "losses"), ("lee", "losses")]
    assert [(s.student, s.assignment) for s in discover(root, ["losses"])] == [("kim", "losses"), ("lee", "losses")]


def test_what_is_recorded_is_what_was_read_and_hashed(tmp_path: Path) -> None:
    """A file changed after discovery is graded as discovered: one read, one sha256."""
    root = make_class(tmp_path / "class", {"kim": {"losses": "ok"}})
    found = discover(root)
    (root / "kim" / "losses.py").write_text("BUG:mse changed after discovery")
    with Gradebook(tmp_path / "g.db") as gb:
        run_batch(found, FakeGrader, gb)
        [record] = gb.current()
    assert record.sha256 == hashlib.sha256(b"ok").hexdigest() == found[0].sha256
    assert record.score == 100


def test_discover_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such folder"):
        discover(tmp_path / "missing")
    with pytest.raises(UserError, match="unknown assignment 'lossess'"):
        discover(tmp_path, ["lossess"])


def test_submission_time_comes_from_a_matching_manifest_else_mtime(tmp_path: Path) -> None:
    src = tmp_path / "losses.py"
    src.write_text("x = 1\n")
    when = datetime(2025, 3, 14, 1, 2, 3, tzinfo=UTC)
    done = submit("losses", "kim", src, tmp_path / "ex", now=when)
    [sub] = discover(tmp_path / "ex")
    assert (sub.submitted_at, sub.submitted_at_source) == (when, "manifest")
    # edited after submitting: the manifest no longer describes the file
    done.path.write_text("x = 2\n")
    os.utime(done.path, (1_700_000_000, 1_700_000_000))
    [sub] = discover(tmp_path / "ex")
    assert sub.submitted_at_source == "mtime"
    assert sub.submitted_at == datetime.fromtimestamp(1_700_000_000, UTC)


class Recorder:
    def __init__(self) -> None:
        self.total = self.skipped = -1
        self.outcomes: list[Outcome] = []
        self.finished = False

    def start(self, total: int, skipped: int) -> None:
        self.total, self.skipped = total, skipped

    def advance(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)

    def finish(self) -> None:
        self.finished = True


def test_a_batch_records_everything_then_resumes_by_skipping(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {f"s{i:02d}": {"losses": "BUG:mse" if i % 3 == 0 else "ok"} for i in range(12)})
    grader, progress = FakeGrader(), Recorder()
    with Gradebook(tmp_path / "g.db") as gb:
        result = run_batch(discover(root), lambda: grader, gb, jobs=3, progress=progress)
        assert len(result.graded) == 12 and not result.errors and not result.skipped
        assert (progress.total, progress.skipped, len(progress.outcomes), progress.finished) == (12, 0, 12, True)
        assert grader.closed
        assert gb.count_submissions() == 12 and gb.integrity_problems() == []
        scores = {r.student: r.score for r in gb.current()}
        assert scores["s00"] == 70.0 and scores["s01"] == 100.0

        second = FakeGrader()
        again = run_batch(discover(root), lambda: second, gb, jobs=3)
        assert len(again.skipped) == 12 and again.graded == [] and second.calls == []

        (root / "s01" / "losses.py").write_text("BUG:softmax")  # one resubmission
        third = FakeGrader()
        again = run_batch(discover(root), lambda: third, gb, jobs=3)
        assert third.calls == [("s01", "losses")]
        assert {r.student: r.score for r in gb.current()}["s01"] == 60.0

        forced = FakeGrader()
        run_batch(discover(root), lambda: forced, gb, jobs=3, force=True)
        assert len(forced.calls) == 12
        assert gb.count_submissions() == 13  # s01's first version stays as history


def test_the_grader_is_not_started_when_nothing_is_left(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"kim": {"losses": "ok"}})
    with Gradebook(tmp_path / "g.db") as gb:
        run_batch(discover(root), FakeGrader, gb)

        def no_grader() -> FakeGrader:
            raise AssertionError("a grader was started for nothing")

        assert len(run_batch(discover(root), no_grader, gb).skipped) == 1


def test_jobs_run_in_parallel(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {f"s{i}": {"losses": "SLEEP:0.3"} for i in range(8)})
    grader = FakeGrader()
    with Gradebook(tmp_path / "g.db") as gb:
        started = time.perf_counter()
        run_batch(discover(root), lambda: grader, gb, jobs=4)
        elapsed = time.perf_counter() - started
    assert grader.peak == 4
    assert elapsed < 8 * 0.3 * 0.75  # well under the 2.4 s of one at a time


def test_a_grader_failure_is_reported_not_recorded_and_retried(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"kim": {"losses": "ok"}, "lee": {"losses": "CRASH"}})
    with Gradebook(tmp_path / "g.db") as gb:
        result = run_batch(discover(root), FakeGrader, gb, jobs=2)
        [err] = result.errors
        assert err.submission.student == "lee" and "sandbox could not start" in err.error
        assert [r.student for r in gb.current()] == ["kim"]
        (root / "lee" / "losses.py").write_text("ok")
        rerun = run_batch(discover(root), FakeGrader, gb, jobs=2)
        assert [o.submission.student for o in rerun.graded] == ["lee"]


def test_jobs_below_one_are_refused(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"kim": {"losses": "ok"}})
    with Gradebook(tmp_path / "g.db") as gb, pytest.raises(UserError, match="--jobs must be at least 1"):
        run_batch(discover(root), FakeGrader, gb, jobs=0)


def test_late_penalties_follow_the_course(tmp_path: Path) -> None:
    src = tmp_path / "losses.py"
    src.write_text("BUG:mse\n")  # 70 points
    due = datetime(2025, 3, 14, 14, 59, tzinfo=UTC)
    submit("losses", "early", src, tmp_path / "ex", now=due - timedelta(hours=1))
    submit("losses", "grace", src, tmp_path / "ex", now=due + timedelta(minutes=10))
    submit("losses", "late", src, tmp_path / "ex", now=due + timedelta(days=1, hours=3))
    submit("losses", "later", src, tmp_path / "ex", now=due + timedelta(days=9))
    course = Course(due={"losses": due},
                    late_policy=PerDayPolicy(kind="per_day", percent=10, cap=50, grace_minutes=15))
    with Gradebook(tmp_path / "g.db") as gb:
        run_batch(discover(tmp_path / "ex"), FakeGrader, gb, course=course)
        got = {r.student: (r.late_days, r.penalty, r.score) for r in gb.current()}
    assert got == {"early": (0, 0.0, 70.0), "grace": (0, 0.0, 70.0),
                   "late": (2, 14.0, 56.0), "later": (9, 35.0, 35.0)}


def test_grade_class_writes_feedback_and_returns_the_current_grades(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"kim": {"losses": "ok", "backprop": "BUG:softmax"},
                                       "lee": {"losses": "BUG:mse BUG:mse_grad"}})
    result = grade_class(root, db=tmp_path / "g.db", jobs=2, feedback_dir=tmp_path / "fb",
                         make_grader=FakeGrader)
    assert {(r.student, r.assignment, r.score, r.status) for r in result.records} == {
        ("kim", "losses", 100.0, "graded"), ("kim", "backprop", 60.0, "graded"),
        ("lee", "losses", 40.0, "graded"),
        ("lee", "backprop", 0.0, "missing")}  # graded for the class, not handed in by lee
    assert result.feedback is not None
    assert sorted(p.name for p in result.feedback.students) == ["kim.html", "kim.md", "lee.html", "lee.md"]
    assert result.feedback.summary.is_file()
    # only this class's grades: another folder graded into the same gradebook stays out
    other = make_class(tmp_path / "o", {"zed": {"losses": "ok"}})
    only = grade_class(other, db=tmp_path / "g.db", make_grader=FakeGrader)
    assert [r.student for r in only.records] == ["zed"]
    with pytest.raises(UserError, match="no submissions in"):
        grade_class(tmp_path / "fb", db=tmp_path / "g.db", make_grader=FakeGrader)


def test_stats_and_histogram(tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {
        "a": {"losses": "ok", "backprop": "ok"},                         # 100 + 100
        "b": {"losses": "BUG:mse"},                                      # 70, no backprop
        "c": {"losses": "BUG:softmax", "backprop": "BUG:mse BUG:mse_grad"},  # 60 + 40
    })
    records = grade_class(root, db=tmp_path / "g.db", make_grader=FakeGrader).records
    stats = {s.assignment: s for s in assignment_stats(records)}
    assert list(stats) == ["backprop", "losses"]  # catalog order
    s = stats["losses"]
    assert (s.n, s.mean, s.median, s.min, s.max, s.fully_correct) == (3, pytest.approx(230 / 3), 70.0, 60.0, 100.0, 1)
    totals, top = student_totals(records)
    assert totals == {"a": 200.0, "b": 70.0, "c": 100.0} and top == 200.0
    bins = histogram(list(totals.values()), top, bins=4)
    assert [c for *_, c in bins] == [0, 1, 1, 1]  # 70 in [50,100), 100 in [100,150), 200 in the last
    assert bins[-1][:2] == (150.0, 200.0)


def test_manifest_json_and_history_are_not_graded(tmp_path: Path) -> None:
    src = tmp_path / "losses.py"
    src.write_text("ok\n")
    submit("losses", "kim", src, tmp_path / "ex")
    submit("losses", "kim", src, tmp_path / "ex")
    assert json.loads((tmp_path / "ex" / "kim" / "manifest.json").read_text())
    assert [(s.student, s.assignment) for s in discover(tmp_path / "ex")] == [("kim", "losses")]
