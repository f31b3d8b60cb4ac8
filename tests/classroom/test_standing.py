"""Final grades are derived on every read: a policy change, an extension or a new timezone
applies to what is already graded, without regrading; naive times say which zone they took."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class
from typer.testing import CliRunner

from cli import app
from grader.classroom import adjustments
from grader.classroom.batch import grade_class
from grader.classroom.handin import submit
from grader.classroom.late import policy_notices
from grader.classroom.standing import final_grades
from grader.course import Course, PerDayPolicy, load_course, show_time

runner = CliRunner()
DUE = datetime(2025, 3, 14, 14, 59, tzinfo=timezone.utc)


@pytest.fixture
def graded(tmp_path: Path) -> Path:
    """kim handed in 70 points 1 day 3 hours late; graded with no course at all."""
    src = tmp_path / "losses.py"
    src.write_text("BUG:mse\n")
    submit("losses", "kim", src, tmp_path / "ex", now=DUE + timedelta(days=1, hours=3))
    grade_class(tmp_path / "ex", db=tmp_path / "g.db", make_grader=FakeGrader)
    return tmp_path / "g.db"


def policy(percent: float) -> PerDayPolicy:
    return PerDayPolicy(kind="per_day", percent=percent, cap=50)


def test_a_policy_added_or_changed_later_applies_without_regrading(graded: Path) -> None:
    [before] = final_grades(graded)
    assert (before.late_days, before.score) == (0, 70.0)  # no course: no due date
    [now] = final_grades(graded, Course(due={"losses": DUE}, late_policy=policy(10)))
    assert (now.late_days, now.penalty, now.score, now.raw_score) == (2, 14.0, 56.0, 70.0)
    [harsher] = final_grades(graded, Course(due={"losses": DUE}, late_policy=policy(20)))
    assert (harsher.penalty, harsher.score) == (28.0, 42.0)
    assert harsher.id == now.id == before.id  # the same graded submission, never regraded


def test_an_extension_moves_the_due_date_of_one_student(graded: Path) -> None:
    course = Course(due={"losses": DUE}, late_policy=policy(10))
    made = adjustments.extend(graded, "kim", "losses", DUE + timedelta(days=1), reason="flu")
    [rec] = final_grades(graded, course)
    assert (rec.late_days, rec.score, rec.due) == (1, 63.0, "2025-03-15T14:59:00Z")
    adjustments.revert(graded, made.id)
    assert final_grades(graded, course)[0].late_days == 2


def test_naive_due_dates_take_the_course_timezone_and_say_so(tmp_path: Path) -> None:
    path = tmp_path / "course.toml"
    path.write_text('timezone = "Asia/Seoul"\n[due]\nlosses = 2025-03-14T23:59:00\nmlp = 2025-04-04\n'
                    'backprop = 2025-03-21T23:59:00+09:00\n')
    course = load_course(path)
    kst = timezone(timedelta(hours=9))
    assert course.due_date("losses") == datetime(2025, 3, 14, 23, 59, tzinfo=kst)
    assert course.due_date("mlp") == datetime(2025, 4, 4, 23, 59, 59, tzinfo=kst)
    assert course.notices == ["course.toml: due dates without a time zone (losses, mlp) are taken as Asia/Seoul"]
    assert course.show_time("2025-03-14T14:59:00Z") == "2025-03-14 23:59 +09:00 (Asia/Seoul)"
    path.write_text("[due]\nlosses = 2025-03-14T23:59:00\n")
    [notice] = load_course(path).notices
    assert "(losses) are taken as UTC" in notice and "set timezone" in notice
    path.write_text("[due]\nlosses = 2025-03-14T23:59:00Z\n")
    assert load_course(path).notices == []
    assert show_time("2025-03-14T14:59:00Z") == "2025-03-14 14:59 UTC"


def test_an_unknown_timezone_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "course.toml").write_text('timezone = "Mars/Olympus"\n')
    result = runner.invoke(app, ["grade-batch", str(tmp_path), "--course", str(tmp_path / "course.toml")])
    assert result.exit_code == 2 and "timezone: unknown time zone 'Mars/Olympus'" in result.output


def test_batch_notices_name_a_missing_policy_and_a_fallback_time() -> None:
    [none] = policy_notices(None)
    assert "no course.toml" in none and "nothing is penalised" in none
    [no_policy] = policy_notices(Course(due={"losses": DUE}))
    assert "no [late_policy]" in no_policy
    [fallback] = policy_notices(Course(due={"losses": DUE}, late_policy=policy(10)), ["lee/losses"])
    assert "1 submission time(s) are the file's modification time" in fallback and "lee/losses" in fallback


def test_grade_batch_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.classroom.batch

    monkeypatch.setattr(grader.classroom.batch, "default_grader", lambda protect=(): FakeGrader())
    monkeypatch.chdir(tmp_path)
    root = make_class(tmp_path / "class", {"lee": {"losses": "ok"}})  # no manifest
    result = runner.invoke(app, ["grade-batch", str(root), "--db", str(tmp_path / "g.db")],
                           env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "note: no course.toml" in result.output
    assert "modification time, not a manifest's" in result.output and "lee/losses" in result.output
