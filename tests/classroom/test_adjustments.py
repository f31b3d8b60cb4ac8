"""Instructor adjustments (override, extend, excuse: who, when, why; reversible) and the roster."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class
from typer.testing import CliRunner

import grader.classroom.batch
from cli import app
from grader.classroom import adjustments
from grader.classroom.roster import read_roster
from grader.classroom.standing import final_grades
from grader.course import load_course
from grader.errors import UserError

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(grader.classroom.batch, "default_grader", lambda protect=(): FakeGrader())
    monkeypatch.chdir(tmp_path)
    root = make_class(tmp_path / "class", {"ada": {"losses": "ok"}, "ben": {"losses": "BUG:mse"}})
    (tmp_path / "roster.csv").write_text("student,name,sis_user_id\nada,Ada L,1001\nben,Ben K,1002\n"
                                         "cho,Cho Y,1003\n")
    (tmp_path / "course.toml").write_text('roster = "roster.csv"\n[due]\nlosses = 2099-01-01T00:00:00Z\n')
    result = runner.invoke(app, ["grade-batch", str(root), "--db", "g.db"])
    assert result.exit_code == 0, result.output
    return tmp_path / "g.db"


def cli(*args: str):
    return runner.invoke(app, [*args, "--db", "g.db"], env={"COLUMNS": "200"})


def score(db: Path, student: str) -> tuple[float, str]:
    course = load_course(db.parent / "course.toml")
    rec = next(r for r in final_grades(db, course) if r.student == student and r.assignment == "losses")
    return rec.score, rec.status


def test_override_is_recorded_with_who_when_why_and_undone(db: Path) -> None:
    done = cli("gradebook", "override", "ben", "losses", "90", "--reason", "regraded by hand", "--by", "prof")
    assert done.exit_code == 0, done.output
    assert "recorded adjustment 1: ben losses — override to 90 points: regraded by hand (by prof)" in done.output
    assert score(db, "ben") == (90.0, "graded")
    listing = cli("gradebook", "adjustments")
    assert "override to 90 points: regraded by hand" in listing.output and "prof" in listing.output
    undone = cli("gradebook", "override", "ben", "losses", "--undo", "--by", "ta")
    assert undone.exit_code == 0 and "reverted adjustment 1" in undone.output
    assert score(db, "ben") == (70.0, "graded")
    [adj] = adjustments.list_adjustments(db)
    assert (adj.reverted_by, adj.made_by) == ("ta", "prof") and adj.reverted_at  # kept, marked reverted


def test_excuse_and_revert_by_id(db: Path) -> None:
    assert cli("gradebook", "excuse", "cho", "losses", "--reason", "medical").exit_code == 0
    assert score(db, "cho") == (0.0, "excused")
    table = cli("gradebook", "show", "--course", "course.toml")
    assert "excused" in table.output
    assert cli("gradebook", "revert", "1").exit_code == 0
    assert score(db, "cho") == (0.0, "missing")
    again = cli("gradebook", "revert", "1")
    assert again.exit_code == 2 and "already reverted" in again.output


def test_extend_takes_the_course_timezone(db: Path) -> None:
    (db.parent / "course.toml").write_text('timezone = "Asia/Seoul"\nroster = "roster.csv"\n')
    done = cli("gradebook", "extend", "ben", "losses", "--until", "2025-03-20T23:59", "--reason", "flu",
               "--course", "course.toml")
    assert done.exit_code == 0, done.output
    [adj] = adjustments.list_adjustments(db)
    assert adj.until == "2025-03-20T14:59:00Z"


def test_the_roster_brings_in_students_who_never_handed_in(db: Path) -> None:
    table = cli("gradebook", "show", "--course", "course.toml")
    assert table.exit_code == 0, table.output
    cho = next(line for line in table.output.splitlines() if "cho" in line)
    assert "missing" in cho and "0 / 100" in cho
    out = cli("gradebook", "export", "grades.csv", "--course", "course.toml")
    assert out.exit_code == 0, out.output
    assert "cho,0,,0,0,,missing," in (db.parent / "grades.csv").read_text()
    canvas = cli("gradebook", "export", "canvas.csv", "--format", "canvas", "--course", "course.toml")
    assert canvas.exit_code == 0
    assert "Cho Y,,1003,cho,,0" in (db.parent / "canvas.csv").read_text()


@pytest.mark.parametrize(("args", "words"), [
    (["override", "ben", "losses", "500", "--reason", "x"], "points must be between 0 and 100"),
    (["override", "ben", "losses", "50"], "say why with --reason"),
    (["override", "ben", "losses", "--reason", "x"], "give the POINTS"),
    (["override", "ben", "lossess", "5", "--reason", "x"], "unknown assignment 'lossess'"),
    (["override", "../x", "losses", "5", "--reason", "x"], "invalid student id"),
    (["extend", "ben", "losses", "--until", "friday", "--reason", "x"], "not a date or date-time"),
    (["excuse", "ben", "losses", "--undo"], "no active excuse"),
    (["revert", "99"], "no adjustment 99"),
])
def test_bad_adjustments_are_one_line(db: Path, args: list[str], words: str) -> None:
    result = cli("gradebook", *args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output


def test_roster_files_are_checked(tmp_path: Path) -> None:
    (tmp_path / "r.csv").write_text("name\nAda\n")
    with pytest.raises(UserError, match="no 'student' column"):
        read_roster(tmp_path / "r.csv")
    (tmp_path / "r.csv").write_text("id\nada\nada\n")
    with pytest.raises(UserError, match="line 3: 'ada' is listed twice"):
        read_roster(tmp_path / "r.csv")
    (tmp_path / "r.csv").write_text("Student,Section\n../x,A\n")
    with pytest.raises(UserError, match="not a valid student id"):
        read_roster(tmp_path / "r.csv")
    with pytest.raises(UserError, match="does not exist"):
        read_roster(tmp_path / "none.csv")
