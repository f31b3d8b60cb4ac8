"""Exports of the current grades: CSV, JSON and Gradescope's results.json files."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class
from typer.testing import CliRunner

from cli import app
from grader.classroom.batch import grade_class
from grader.classroom.export import export
from grader.classroom.gradebook import Gradebook
from grader.course import Course, PerDayPolicy
from grader.errors import UserError

runner = CliRunner()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kim: losses 100, backprop 60; lee: losses 70 handed in 2 days late (−20 % → 56)."""
    tmp = tmp_path_factory.mktemp("export")
    root = make_class(tmp / "class", {"kim": {"losses": "ok", "backprop": "BUG:softmax"},
                                      "lee": {"losses": "BUG:mse"}})
    due = datetime(2025, 3, 1, tzinfo=timezone.utc)
    late = (due + timedelta(days=1, hours=2)).timestamp()
    os.utime(root / "lee" / "losses.py", (late, late))  # no manifest: the file time counts
    for f in ("kim/losses.py", "kim/backprop.py"):
        os.utime(root / f, (due.timestamp() - 60,) * 2)
    course = Course(due={"losses": due, "backprop": due},
                    late_policy=PerDayPolicy(kind="per_day", percent=10, cap=50))
    grade_class(root, db=tmp / "g.db", course=course, make_grader=FakeGrader)
    return tmp / "g.db"


def records(db: Path):
    with Gradebook(db, create=False) as gb:
        return gb.current()


def test_csv_has_a_row_per_student_and_a_column_per_assignment(db: Path, tmp_path: Path) -> None:
    [out] = export(records(db), "csv", tmp_path / "grades.csv")
    rows = list(csv.reader(out.open()))
    assert rows == [["student", "backprop", "losses", "total"],
                    ["kim", "60", "100", "160"],
                    ["lee", "", "56", "56"]]


def test_json_carries_scores_penalties_and_cases(db: Path, tmp_path: Path) -> None:
    [out] = export(records(db), "json", tmp_path / "grades.json")
    data = json.loads(out.read_text())
    assert data["assignments"] == {"backprop": {"max_score": 100.0}, "losses": {"max_score": 100.0}}
    lee = data["students"]["lee"]
    assert lee["total"] == 56.0
    entry = lee["assignments"]["losses"]
    assert (entry["score"], entry["raw_score"], entry["penalty"], entry["late_days"]) == (56.0, 70.0, 14.0, 2)
    assert entry["submitted_at_source"] == "mtime"
    assert len(entry["tests"]) == 6 and {t["status"] for t in entry["tests"]} == {"passed", "failed"}


def test_gradescope_writes_one_results_json_per_submission(db: Path, tmp_path: Path) -> None:
    written = export(records(db), "gradescope", tmp_path / "gs")
    assert sorted(str(p.relative_to(tmp_path / "gs")) for p in written) == [
        "kim/backprop/results.json", "kim/losses/results.json", "lee/losses/results.json"]
    lee = json.loads((tmp_path / "gs" / "lee" / "losses" / "results.json").read_text())
    assert lee["score"] == 56.0 and lee["raw_score"] == 70.0  # the late penalty is applied
    assert "Late by 2 day(s): −20 %" in lee["output"]
    assert sum(t["score"] for t in lee["tests"]) == 70.0
    assert {t["visibility"] for t in lee["tests"]} == {"visible", "hidden"}
    assert {"name", "score", "max_score", "status", "output"} <= set(lee["tests"][0])
    kim = json.loads((tmp_path / "gs" / "kim" / "losses" / "results.json").read_text())
    assert kim["score"] == kim["max_score"] == 100.0 and "Late" not in kim["output"]


def test_export_refusals(db: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown export format 'xlsx'"):
        export(records(db), "xlsx", tmp_path / "x")
    with pytest.raises(UserError, match="is a folder; the csv export needs a file name"):
        export(records(db), "csv", tmp_path)
    (tmp_path / "afile").write_text("")
    with pytest.raises(UserError, match="is a file; the gradescope export needs a folder"):
        export(records(db), "gradescope", tmp_path / "afile")
    with pytest.raises(UserError, match="does not exist"):
        export(records(db), "json", tmp_path / "no" / "g.json")


def test_the_cli_exports(db: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["gradebook", "export", "--format", "csv", str(tmp_path / "g.csv"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.csv").read_text().startswith("student,backprop,losses,total")
    result = runner.invoke(app, ["gradebook", "export", "--format", "gradescope", str(tmp_path / "gs"), "--db", str(db)])
    assert result.exit_code == 0 and "3 results.json files" in result.output
    result = runner.invoke(app, ["gradebook", "export", "--format", "pdf", str(tmp_path / "g.pdf"), "--db", str(db)])
    assert result.exit_code == 2 and "unknown export format 'pdf'" in result.output
