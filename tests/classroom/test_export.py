"""Exports of the final grades: CSV, JSON, Canvas CSV and Gradescope's results.json files."""

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
from grader.classroom import adjustments
from grader.classroom.batch import grade_class
from grader.classroom.export import export, infer_format
from grader.classroom.standing import final_grades
from grader.course import Course, PerDayPolicy
from grader.errors import UserError

runner = CliRunner()
DUE = datetime(2025, 3, 1, tzinfo=timezone.utc)
COURSE = Course(due={"losses": DUE, "backprop": DUE}, roster=["kim", "lee", "moon"],
                late_policy=PerDayPolicy(kind="per_day", percent=10, cap=50))


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """kim: losses 100, backprop 60 with a timeout; lee: losses 70 handed in 2 days late
    (−20 % → 56), backprop missing; moon: on the roster, nothing handed in."""
    tmp = tmp_path_factory.mktemp("export")
    root = make_class(tmp / "class", {"kim": {"losses": "ok", "backprop": "TIMEOUT:softmax"},
                                      "lee": {"losses": "BUG:mse"}})
    late = (DUE + timedelta(days=1, hours=2)).timestamp()
    os.utime(root / "lee" / "losses.py", (late, late))  # no manifest: the file time counts
    for f in ("kim/losses.py", "kim/backprop.py"):
        os.utime(root / f, (DUE.timestamp() - 60,) * 2)
    grade_class(root, db=tmp / "g.db", course=COURSE, make_grader=FakeGrader)
    return tmp / "g.db"


def records(db: Path):
    return final_grades(db, COURSE)


def test_csv_has_a_row_per_student_with_what_made_each_score(db: Path, tmp_path: Path) -> None:
    [out] = export(records(db), "csv", tmp_path / "grades.csv")
    rows = list(csv.DictReader(out.open()))
    by = {r["student"]: r for r in rows}
    assert list(by) == ["kim", "lee", "moon"]  # moon never handed in: still a row
    assert (by["kim"]["backprop"], by["kim"]["backprop flags"], by["kim"]["total"]) == ("60", "timeout", "160")
    lee = by["lee"]
    assert (lee["losses"], lee["losses raw"], lee["losses late days"], lee["losses penalty"]) == ("56", "70", "2", "14")
    assert (lee["backprop"], lee["backprop status"], lee["total"]) == ("0", "missing", "56")
    assert (by["moon"]["losses status"], by["moon"]["total"]) == ("missing", "0")


def test_json_carries_scores_penalties_flags_and_cases(db: Path, tmp_path: Path) -> None:
    [out] = export(records(db), "json", tmp_path / "grades.json")
    data = json.loads(out.read_text())
    assert data["assignments"] == {"backprop": {"max_score": 100.0}, "losses": {"max_score": 100.0}}
    lee = data["students"]["lee"]
    assert lee["total"] == 56.0
    entry = lee["assignments"]["losses"]
    assert (entry["score"], entry["raw_score"], entry["penalty"], entry["late_days"]) == (56.0, 70.0, 14.0, 2)
    assert entry["submitted_at_source"] == "mtime" and entry["status"] == "graded"
    assert len(entry["tests"]) == 6 and {t["status"] for t in entry["tests"]} == {"passed", "failed"}
    assert [f["kind"] for f in data["students"]["kim"]["assignments"]["backprop"]["flags"]] == ["timeout"]


def test_gradescope_writes_one_results_json_per_submission(db: Path, tmp_path: Path) -> None:
    written = export(records(db), "gradescope", tmp_path / "gs")
    assert sorted(str(p.relative_to(tmp_path / "gs")) for p in written) == [
        "kim/backprop/results.json", "kim/losses/results.json", "lee/losses/results.json"]
    lee = json.loads((tmp_path / "gs" / "lee" / "losses" / "results.json").read_text())
    assert lee["score"] == 56.0 and lee["raw_score"] == 70.0  # the late penalty is applied
    assert "Late by 2 day(s): −20 %" in lee["output"]
    assert sum(t["score"] for t in lee["tests"]) == 70.0
    assert {t["visibility"] for t in lee["tests"]} == {"visible", "hidden"}
    kim = json.loads((tmp_path / "gs" / "kim" / "losses" / "results.json").read_text())
    assert kim["score"] == kim["max_score"] == 100.0 and "Late" not in kim["output"]


def test_canvas_csv_has_the_columns_canvas_imports(db: Path, tmp_path: Path) -> None:
    [out] = export(records(db), "canvas", tmp_path / "canvas.csv")
    rows = list(csv.reader(out.open()))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "backprop", "losses"]
    assert rows[1] == ["Points Possible", "", "", "", "", "100", "100"]
    assert rows[2] == ["kim", "", "", "kim", "", "60", "100"]
    assert rows[3][-2:] == ["0", "56"]


def test_adjustments_show_in_the_export_without_regrading(db: Path, tmp_path: Path) -> None:
    made = [adjustments.extend(db, "lee", "losses", DUE + timedelta(days=3), reason="illness"),
            adjustments.override(db, "kim", "backprop", 75, reason="timeout was the grader's"),
            adjustments.excuse(db, "moon", "losses", reason="joined late")]
    try:
        [out] = export(records(db), "csv", tmp_path / "adj.csv")
        by = {r["student"]: r for r in csv.DictReader(out.open())}
        assert (by["lee"]["losses"], by["lee"]["losses late days"]) == ("70", "0")
        assert (by["kim"]["backprop"], by["kim"]["backprop override"], by["kim"]["total"]) == ("75", "75", "175")
        assert (by["moon"]["losses"], by["moon"]["losses status"]) == ("EX", "excused")
    finally:
        for a in made:
            adjustments.revert(db, a.id)
    by = {r.student + r.assignment: r for r in records(db)}
    assert (by["leelosses"].score, by["kimbackprop"].score, by["moonlosses"].status) == (56, 60, "missing")


def test_the_format_follows_the_extension(tmp_path: Path) -> None:
    assert infer_format(tmp_path / "g.csv", None) == "csv"
    assert infer_format(tmp_path / "g.json", None) == "json"
    assert infer_format(tmp_path / "g.csv", "canvas") == "canvas"
    assert infer_format(tmp_path / "gs", None) == "gradescope"
    with pytest.raises(UserError, match="--format csv does not match 'out.json'"):
        infer_format(tmp_path / "out.json", "csv")
    with pytest.raises(UserError, match="cannot tell the format from 'g.xlsx'"):
        infer_format(tmp_path / "g.xlsx", None)


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
    (tmp_path / "keep.csv").write_text("precious")
    with pytest.raises(UserError, match="exists; pass --force"):
        export(records(db), "csv", tmp_path / "keep.csv")
    assert (tmp_path / "keep.csv").read_text() == "precious"
    export(records(db), "csv", tmp_path / "keep.csv", force=True)
    assert (tmp_path / "keep.csv").read_text().startswith("student,")


def test_the_cli_exports(db: Path, tmp_path: Path) -> None:
    result = runner.invoke(app, ["gradebook", "export", str(tmp_path / "g.csv"), "--db", str(db)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "g.csv").read_text().startswith("student,backprop,backprop raw")
    result = runner.invoke(app, ["gradebook", "export", str(tmp_path / "g.csv"), "--db", str(db)])
    assert result.exit_code == 2 and "exists; pass --force" in result.output
    result = runner.invoke(app, ["gradebook", "export", str(tmp_path / "g.json"), "--format", "csv",
                                 "--db", str(db)])
    assert result.exit_code == 2 and "does not match" in result.output
    assert not (tmp_path / "g.json").exists()
    result = runner.invoke(app, ["gradebook", "export", "--format", "gradescope", str(tmp_path / "gs"), "--db", str(db)])
    assert result.exit_code == 0 and "3 results.json files" in result.output, result.output
    result = runner.invoke(app, ["gradebook", "export", "--format", "pdf", str(tmp_path / "g.pdf"), "--db", str(db)])
    assert result.exit_code == 2 and "unknown export format 'pdf'" in result.output
