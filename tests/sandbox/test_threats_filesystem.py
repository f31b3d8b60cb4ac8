"""Deny by default: under bwrap the child's file system is an allow-list.

A hostile submission walks everything it can see from / and reports it back through the
message of its failing case; none of the course tree's private parts may be there, and an
honest classmate graded by the same Grader still scores 100.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from test_threats import REFERENCE, hostile_submission

from grader.catalog import ROOT
from grader.grading.grader import Grader
from grader.sandbox import bwrap

pytestmark = pytest.mark.skipif(not bwrap.status().working,
                                reason=f"bwrap {bwrap.status().detail}")


def _private_paths(tmp_path: Path, gradebook: Path, other: Path) -> list[str]:
    """Everything a student must not see: the course tree's private parts, the grades,
    a classmate's file, the system's accounts (and, in a development checkout, the main
    tree the editable install points at)."""
    paths = [ROOT / ".git", ROOT / "examples", ROOT / "reference", ROOT / "tests",
             ROOT / "grader" / "specs", ROOT / "grader" / "spec.py", ROOT / "grader" / "compare.py",
             gradebook, gradebook.parent, other, tmp_path / "exchange", Path("/etc/passwd")]
    try:
        import reference  # noqa: F401  (found through an editable install's finder)
    except ImportError:
        pass
    else:
        paths.append(Path(reference.__path__[0]))
    return [str(p) for p in paths]


def test_the_child_sees_only_the_allow_list(tmp_path):
    gradebook = tmp_path / "grades" / "gradebook.db"
    gradebook.parent.mkdir()
    gradebook.write_text("the real grades")
    other = tmp_path / "bob" / "losses.py"
    other.parent.mkdir()
    other.write_text(REFERENCE.read_text())
    (tmp_path / "exchange").mkdir()
    private = _private_paths(tmp_path, gradebook, other)
    hostile = hostile_submission(tmp_path, "walk_filesystem", PROBES="|".join(private))
    honest = tmp_path / "carol" / "losses.py"
    honest.parent.mkdir()
    honest.write_text(REFERENCE.read_text())

    with Grader(use_bwrap=True, protect=[gradebook.parent, tmp_path]) as grader:
        report = grader.grade_file(hostile, "losses")
        classmate = grader.grade_file(honest, "losses")

    message = next(t.message for t in report.tests if t.name == "mse_matrix")
    assert "SEEN " in message and " END" in message, message  # the whole listing came back
    seen = message.split("SEEN ", 1)[1].split(" END", 1)[0].split("|")
    assert str(ROOT / "grader") in seen  # the walk did see what is mounted
    assert not [s for s in seen if s.startswith("EXISTS:")], seen
    for path in private:
        leaked = [s for s in seen if s == path or s.startswith(path.rstrip("/") + "/")]
        assert not leaked, leaked
    assert not [s for s in seen if "/.git" in s or "/examples" in s], seen
    # homes: nothing but the folders that lead to the Python installation, when it lives there
    python = [str(p) for p in bwrap.python_paths(ROOT)]
    homes = [s for s in seen if s.startswith(("/root", "/home"))]
    assert all(any(p == h or p.startswith(h + "/") or h.startswith(p) for p in python)
               for h in homes), homes
    assert [t.name for t in report.tests if t.status == "failed"] == [
        t.name for t in report.tests if t.target == "mse"]
    assert classmate.score == classmate.max_score == 100
    assert os.listdir(gradebook.parent) == ["gradebook.db"]
