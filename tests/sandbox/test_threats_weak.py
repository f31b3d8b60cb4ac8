"""No silent weak mode: without bwrap, grading a class needs --allow-weak-sandbox (one
clear line otherwise), and the audit hook still refuses the ways around it that a path
check alone would miss: folders opened for dir_fd, foreign native library handles, and
daemons that would outlive grading.
"""

from __future__ import annotations

import re
import time

import pytest
from test_threats import REFERENCE, hostile_submission, only_target_fails
from typer.testing import CliRunner

from cli import app
from grader.catalog import ROOT
from grader.grading.grader import Grader
from grader.sandbox import bwrap


@pytest.fixture(scope="module")
def weak_grader():
    with Grader(use_bwrap=False) as grader:
        yield grader


@pytest.fixture
def no_bwrap(monkeypatch):
    """This machine as one without bwrap."""
    monkeypatch.setattr(bwrap, "status", lambda: bwrap.BwrapStatus(None, False, "not installed"))


def _class(tmp_path):
    root = tmp_path / "class"
    for student in ("ann", "bob"):
        (root / student).mkdir(parents=True)
        (root / student / "losses.py").write_text(REFERENCE.read_text())
    return root


def test_a_class_without_bwrap_needs_the_flag(tmp_path, no_bwrap):
    root, db = _class(tmp_path), tmp_path / "gradebook.db"
    refused = CliRunner().invoke(app, ["grade-batch", str(root), "--db", str(db)])
    assert refused.exit_code == 2
    lines = refused.output.strip().splitlines()
    assert len(lines) == 1 and "--allow-weak-sandbox" in lines[0] and "bwrap" in lines[0], lines
    assert not db.exists()
    folder = CliRunner().invoke(app, ["grade", str(root)])
    assert folder.exit_code == 2 and "--allow-weak-sandbox" in folder.output

    graded = CliRunner().invoke(app, ["grade-batch", str(root), "--db", str(db),
                                      "--allow-weak-sandbox"])
    assert graded.exit_code == 0, graded.output
    assert re.search(r"graded 2, skipped 0", graded.output)


def test_doctor_says_what_is_lost_without_bwrap(no_bwrap):
    done = CliRunner().invoke(app, ["doctor"])
    assert done.exit_code == 0, done.output
    text = " ".join(done.output.split())
    assert "without bwrap" in text and "--allow-weak-sandbox" in text


def test_a_folder_opened_for_dir_fd_is_refused(weak_grader, tmp_path):
    report = weak_grader.grade_file(hostile_submission(
        tmp_path, "weak_escapes", VARIANT="dir_fd", ROOT=str(ROOT)), "losses")
    messages = only_target_fails(report, "mse", "(for dir_fd) is not allowed", "not run: mse")
    assert not any("READ" in m for m in messages)


def test_a_foreign_library_handle_is_refused(weak_grader, tmp_path):
    report = weak_grader.grade_file(hostile_submission(tmp_path, "weak_escapes", VARIANT="cdll"),
                                    "losses")
    messages = only_target_fails(report, "mse", "handle that is not its own is not allowed")
    assert not any("PID" in m for m in messages)


def test_no_daemon_outlives_grading(weak_grader, tmp_path):
    report = weak_grader.grade_file(hostile_submission(tmp_path, "weak_escapes", VARIANT="daemon"),
                                    "losses")
    messages = only_target_fails(report, "mse", "creating processes is not allowed", "DAEMON")
    daemons = [int(m.split("DAEMON ")[1].split(" END")[0]) for m in messages if "DAEMON" in m]
    deadline = time.monotonic() + 5
    while (alive := [p for p in daemons if _alive(p)]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not alive, f"daemons still running: {alive}"


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False
