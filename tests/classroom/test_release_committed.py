"""The kit and the nbgrader export come from the last commit, never the working copy.

A clone of the course stands in for an instructor's repository; in it, a stub gets a
solution typed in, scratch files and an exchange folder appear: none of it may reach a
student, and the dirty tree is refused unless --allow-dirty.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from server_helpers import dlgrade

from grader.catalog import ROOT
from grader.classroom.release import make_release
from grader.errors import UserError
from grader.interop.nbgrader_export import export_course

SOLVED = (ROOT / "reference" / "losses.py").read_text()


def git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(cwd), *args], check=True, capture_output=True,
                          text=True).stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A clone of the committed course with an instructor's working mess on top."""
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("the course is not a git checkout here")
    clone = tmp_path_factory.mktemp("instructor") / "course"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{ROOT}", str(clone)], check=True)
    committed_stub = (clone / "assignments" / "losses.py").read_text()
    assert committed_stub != SOLVED
    (clone / "assignments" / "losses.py").write_text(SOLVED)  # solved locally, not committed
    (clone / "assignments" / "scratch.py").write_text(SOLVED)  # untracked
    (clone / "submissions" / "alice").mkdir(parents=True)
    (clone / "submissions" / "alice" / "losses.py").write_text("# alice's work\n")
    (clone / "notes.txt").write_text("exam answers\n")
    (clone / "Makefile").write_text("demo:\n\tfalse\n")  # the instructor's: not for students
    return clone


def test_a_dirty_tree_is_refused_with_one_line(course: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"uncommitted changes to assignments/losses\.py: the "
                                        r"student kit is built from the last commit"):
        make_release(tmp_path / "kit", root=course)
    assert not (tmp_path / "kit").exists()
    done = dlgrade("release", str(tmp_path / "kit"), cwd=course)
    assert done.returncode == 2 and "--allow-dirty" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_allow_dirty_still_ships_only_committed_files(course: Path, tmp_path: Path) -> None:
    out = tmp_path / "kit"
    summary = make_release(out, root=course, allow_dirty=True, server_url="https://grader.example.edu")
    committed_stub = git(course, "show", "HEAD:assignments/losses.py")
    assert (out / "assignments" / "losses.py").read_text() == committed_stub
    for absent in ("assignments/scratch.py", "submissions", "notes.txt", "Makefile", "reference",
                   "tests", "examples", "grader/specs/hidden", ".git"):
        assert not (out / absent).exists(), absent
    readme = (out / "README.md").read_text()
    assert "dlgrade login --server https://grader.example.edu" in readme
    assert "make demo" not in readme and "dlgrade submit losses" in readme
    assert any("uncommitted changes left out" in n and "assignments/losses.py" in n
               for n in summary.notes)
    assert any("not committed, so not in the kit: assignments/scratch.py" in n for n in summary.notes)
    assert {"losses", "backprop"} <= set(summary.expected)
    assert not [p for p in out.rglob("*") if p.is_symlink()]


def test_not_a_repository_is_one_clear_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    (plain / "reference").mkdir(parents=True)
    with pytest.raises(UserError, match="not in a git repository"):
        make_release(tmp_path / "kit", root=plain)


def test_nbgrader_export_refuses_a_locally_solved_stub(course: Path, tmp_path: Path) -> None:
    with pytest.raises(UserError, match=r"uncommitted changes to assignments/losses\.py"):
        export_course(tmp_path / "nb", ["losses"], root=course)
    exported = export_course(tmp_path / "nb", ["losses"], root=course, allow_dirty=True)
    cells = json.loads(exported[0].path.read_text())["cells"]
    defining = [c for c in cells if "def mse(" in "".join(c["source"])]
    assert defining, "no cell defines mse"
    for cell in defining:  # the student's to write: a solution cell, never a locked "given" one
        meta = cell["metadata"].get("nbgrader", {})
        assert meta.get("solution") and not meta.get("locked"), meta
