"""The real nbgrader on the exported course: generate_assignment, autograde, and its gradebook.

export (all six) -> `nbgrader generate_assignment "*"` -> for losses, three submissions:
alice (the reference solution filled into the release), bob (the release untouched: every
function raises NotImplementedError), carol (a softmax that overflows for large logits:
partial credit) -> `nbgrader autograde losses` -> nbgrader's gradebook. dlgrade grades
the same notebooks and must give the same scores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook
from typer.testing import CliRunner

from cli import app
from grader.catalog import assignment_names
from grader.interop.nbgrader_export import export_course, fill_in, jupyter_environment

pytestmark = pytest.mark.nbgrader

NAIVE_SOFTMAX = ("def softmax(logits: np.ndarray) -> np.ndarray:\n"
                 "    e = np.exp(logits)  # overflows for large logits\n"
                 "    return e / e.sum(axis=-1, keepdims=True)\n")


@dataclass
class Course:
    root: Path
    env: dict[str, str]
    generate: subprocess.CompletedProcess
    autograde: subprocess.CompletedProcess

    def notebook(self, *parts: str) -> nbformat.NotebookNode:
        return nbformat.read(self.root.joinpath(*parts), as_version=4)

    def nbgrader_scores(self) -> dict[str, float]:
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}", course_id="dlgrade") as gb:
            return {s: gb.find_submission("losses", s).score for s in ("alice", "bob", "carol")}


def _nbgrader(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).parent / "nbgrader"
    return subprocess.run([str(exe), *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    base = tmp_path_factory.mktemp("nbgrader")
    root = base / "course"
    export_course(root)
    env = jupyter_environment(base / "jupyter", sys.executable, dict(os.environ))
    generate = _nbgrader(root, env, "generate_assignment", "*")
    assert generate.returncode == 0, generate.stderr[-3000:]

    source = nbformat.read(root / "source" / "losses" / "losses.ipynb", as_version=4)
    release = nbformat.read(root / "release" / "losses" / "losses.ipynb", as_version=4)
    submissions = {
        "alice": fill_in(release, source),
        "bob": release,
        "carol": fill_in(release, source, {"losses_softmax": NAIVE_SOFTMAX}),
    }
    for student, notebook in submissions.items():
        folder = root / "submitted" / student / "losses"
        folder.mkdir(parents=True)
        nbformat.write(notebook, str(folder / "losses.ipynb"))
    autograde = _nbgrader(root, env, "autograde", "losses")
    assert autograde.returncode == 0, autograde.stderr[-3000:]
    return Course(root, env, generate, autograde)


def test_generate_assignment_accepts_every_exported_notebook(course: Course) -> None:
    for name in assignment_names():
        released = course.notebook("release", name, f"{name}.ipynb")
        solution_cells = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("solution")]
        assert solution_cells, name
        assert all("raise NotImplementedError()" in c.source and "SOLUTION" not in c.source
                   for c in solution_cells), name
        tests = "\n".join(c.source for c in released.cells if c.metadata.get("nbgrader", {}).get("grade"))
        assert "check_target" in tests and "hidden=True" not in tests and "HIDDEN" not in tests, name


def test_autograde_gives_the_solution_full_marks_and_the_release_zero(course: Course) -> None:
    scores = course.nbgrader_scores()
    assert scores["alice"] == pytest.approx(100)
    assert scores["bob"] == 0
    assert 0 < scores["carol"] < 100
    graded = course.notebook("autograded", "alice", "losses", "losses.ipynb")
    assert any("hidden=True" in c.source for c in graded.cells)  # the hidden cases did run


def test_dlgrade_grade_gives_the_same_scores(course: Course) -> None:
    nbgrader = course.nbgrader_scores()
    for student in ("alice", "bob", "carol"):
        path = course.root / "submitted" / student / "losses" / "losses.ipynb"
        done = CliRunner().invoke(app, ["grade", str(path), "--student", student, "--json"])
        assert done.exit_code == 0, done.output
        report = json.loads(done.stdout)
        assert report["max_score"] == 100
        assert report["score"] == pytest.approx(nbgrader[student]), student
