"""`dlgrade grade DIR` and `dlgrade grade-batch DIR` find the same submissions in a folder
(one rule: grader.grading.submission.find_submissions)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_fakes import FakeGrader, fake_report
from typer.testing import CliRunner

import grader.classroom.batch
import grader.grading.grader
from cli import app
from grader.classroom.gradebook import Gradebook
from grader.grading.submission import default_student

runner = CliRunner()


class FakeFileGrader:
    """What grade_path needs of a Grader, grading by the file's text as FakeGrader does."""

    def __init__(self, **_: object) -> None:
        pass

    def __enter__(self) -> FakeFileGrader:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    def grade_file(self, path: Path, assignment: str | None = None,
                   student: str | None = None) -> object:
        return fake_report(path, assignment or path.stem, student or default_student(path))


@pytest.fixture
def messy_class(tmp_path: Path) -> Path:
    root = tmp_path / "class"
    files = {
        "ada/losses.py": "ok", "ada/backprop.py": "BUG:sigmoid",
        "ben/losses.py": "ok", "ben/losses.ipynb": "{}",  # both: the .py counts
        "ben/history/losses-20250101T000000Z.py": "old", "ben/notes.py": "not an assignment",
        "cho/mlp.ipynb": "{}",
        "bad name/losses.py": "not a student id", ".git/losses.py": "not a student",
        "losses.py": "a file at the top is no student's",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_grade_and_grade_batch_agree_on_a_folder(messy_class: Path, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grader.grading.grader, "Grader", FakeFileGrader)
    monkeypatch.setattr(grader.classroom.batch, "default_grader", lambda protect=(): FakeGrader())

    graded = runner.invoke(app, ["grade", str(messy_class), "--json"])
    assert graded.exit_code == 0, graded.output
    by_grade = {(r["student"], r["assignment"], r["sha256"]) for r in json.loads(graded.stdout)}

    batch = runner.invoke(app, ["grade-batch", str(messy_class), "--db", str(tmp_path / "g.db")])
    assert batch.exit_code == 0, batch.output
    with Gradebook(tmp_path / "g.db", create=False) as gb:
        by_batch = {(r.student, r.assignment, r.sha256) for r in gb.current()}
        paths = {(r.student, r.assignment): Path(r.path).name for r in gb.current()}

    assert by_grade == by_batch
    assert paths == {("ada", "backprop"): "backprop.py", ("ada", "losses"): "losses.py",
                     ("ben", "losses"): "losses.py", ("cho", "mlp"): "mlp.ipynb"}
