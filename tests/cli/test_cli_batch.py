"""`dlgrade grade-batch` and `dlgrade gradebook` as users run them.

In-process tests swap in a stand-in grader; the process tests run the real `dlgrade`
with the real engine: end to end, killed with SIGKILL mid-batch and resumed, and two
batches on one gradebook at once.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class
from batch_helpers import graded_count, wait_until
from typer.testing import CliRunner

import grader.classroom.batch
from cli import app
from grader.catalog import ROOT
from grader.classroom.gradebook import Gradebook

runner = CliRunner()
DLGRADE = str(Path(sys.executable).with_name("dlgrade"))
REFERENCE_LOSSES = (ROOT / "reference" / "losses.py").read_text()
FORGOT_1_OVER_N = ("    return float(np.sum((target - pred) ** 2) / pred.shape[0])",
                   "    return float(np.sum((target - pred) ** 2))")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeGrader:
    grader_ = FakeGrader()
    monkeypatch.setattr(grader.classroom.batch, "default_grader", lambda protect=(): grader_)
    return grader_


@pytest.fixture
def klass(tmp_path: Path) -> Path:
    return make_class(tmp_path / "class", {
        "ada": {"losses": "ok", "backprop": "ok"},
        "ben": {"losses": "BUG:mse"},
        "cho": {"losses": "BUG:softmax BUG:mse_grad", "backprop": "BUG:mse"},
    })


def one_line_error(result, words: str) -> None:
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:") and words in lines[0], lines[0]


def test_grade_batch_end_to_end(fake: FakeGrader, klass: Path, tmp_path: Path) -> None:
    db, fb = tmp_path / "g.db", tmp_path / "fb"
    result = runner.invoke(app, ["grade-batch", "--allow-weak-sandbox", str(klass), "--db", str(db), "--jobs", "2",
                                 "--feedback-dir", str(fb)], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output  # failing students are grading, not an error
    out = result.output
    assert "graded 5, skipped 0" in out
    assert "per assignment" in out and "all pass" in out
    assert re.search(r"^ ?losses +3 ", out, re.M) and "1/3" in out
    assert "total scores of 3 students (out of 200)" in out and "█" in out
    assert (fb / "summary.html").is_file() and (fb / "students" / "cho.md").is_file()
    assert len(fake.calls) == 5
    again = runner.invoke(app, ["grade-batch", "--allow-weak-sandbox", str(klass), "--db", str(db)], env={"COLUMNS": "120"})
    assert again.exit_code == 0 and "graded 0, skipped 5" in again.output
    assert re.search(r"^ ?losses +3 ", again.output, re.M)  # the summary is the class's, not just this run's
    only = runner.invoke(app, ["grade-batch", "--allow-weak-sandbox", str(klass), "--db", str(db), "-a", "backprop", "--force"])
    assert only.exit_code == 0 and "graded 2, skipped 0" in only.output


def test_grader_errors_exit_1_with_the_list(fake: FakeGrader, tmp_path: Path) -> None:
    root = make_class(tmp_path / "c", {"ada": {"losses": "ok"}, "ben": {"losses": "CRASH"}})
    result = runner.invoke(app, ["grade-batch", "--allow-weak-sandbox", str(root), "--db", str(tmp_path / "g.db")])
    assert result.exit_code == 1
    assert "grader error" in result.output and "ben" in result.output
    assert "1 submission(s) could not be graded" in result.output


@pytest.mark.parametrize("args, words", [
    (["grade-batch", "--allow-weak-sandbox", "{tmp}/nowhere"], "no such folder"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--assignment", "lossess"], "unknown assignment 'lossess'"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--jobs", "0"], "--jobs must be at least 1"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--jobs", "many"], "Invalid value for '--jobs'"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--db", "{tmp}/notes.txt"], "is not a dlgrade gradebook"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--db", "{tmp}/other.sqlite"], "is not a dlgrade gradebook"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--feedback-dir", "{tmp}/notes.txt"], "is a file, not a folder"),
    (["grade-batch", "--allow-weak-sandbox", "{tmp}/empty"], "no submissions in"),
    (["grade-batch", "--allow-weak-sandbox", "{klass}", "--course", "{tmp}/notes.txt"], "not valid TOML"),
    (["gradebook", "show", "--db", "{tmp}/none.db"], "no gradebook at"),
    (["gradebook", "show", "--db", "{tmp}/notes.txt"], "is not a dlgrade gradebook"),
    (["gradebook", "export", "{tmp}/x.csv", "--db", "{tmp}/none.db"], "no gradebook at"),
])
def test_bad_inputs_get_one_line_and_exit_2(fake: FakeGrader, klass: Path, tmp_path: Path,
                                            args: list[str], words: str) -> None:
    (tmp_path / "notes.txt").write_text("kim = 3\n[[[\n")
    sqlite3.connect(tmp_path / "other.sqlite").execute("CREATE TABLE grades (x)")
    (tmp_path / "empty").mkdir()
    args = [a.format(tmp=tmp_path, klass=klass) for a in args]
    if "--db" not in args and args[0] == "grade-batch":
        args += ["--db", str(tmp_path / "g.db")]
    one_line_error(runner.invoke(app, args), words)
    assert fake.calls == []


def test_gradebook_show(fake: FakeGrader, klass: Path, tmp_path: Path) -> None:
    db = str(tmp_path / "g.db")
    runner.invoke(app, ["grade-batch", "--allow-weak-sandbox", str(klass), "--db", db])
    table = runner.invoke(app, ["gradebook", "show", "--db", db], env={"COLUMNS": "150"})
    assert table.exit_code == 0, table.output
    assert "ada" in table.output and "200" in table.output and "missing" in table.output  # ben: no backprop
    one = runner.invoke(app, ["gradebook", "show", "--student", "cho", "--db", db], env={"COLUMNS": "200"})
    assert one.exit_code == 0
    assert "cho · losses: 30 / 100" in one.output and "softmax_large_logits" in one.output
    one_line_error(runner.invoke(app, ["gradebook", "show", "--student", "zed", "--db", db]),
                   "no student 'zed'")


# ---------------------------------------------------------------- the real thing, in processes


def losses_class(root: Path, n: int) -> Path:
    """n students handing in the reference losses, every third with the classic 1/N bug."""
    for i in range(n):
        text = REFERENCE_LOSSES if i % 3 else REFERENCE_LOSSES.replace(*FORGOT_1_OVER_N)
        (root / f"s{i:03d}").mkdir(parents=True)
        (root / f"s{i:03d}" / "losses.py").write_text(text)
    return root


def dlgrade(*args: str) -> subprocess.Popen:
    env = os.environ | {"COLUMNS": "120"}
    return subprocess.Popen([DLGRADE, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env, start_new_session=True)


def slow_batch(root: Path, db: Path, delay: float) -> subprocess.Popen:
    """The real batch, waiting `delay` s before each submission (tests/slow_batch.py)."""
    here = Path(__file__).resolve().parents[1]
    path = os.pathsep.join(filter(None, [str(here), str(ROOT), os.environ.get("PYTHONPATH")]))
    return subprocess.Popen([sys.executable, str(here / "slow_batch.py"), str(root), str(db), str(delay)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=os.environ | {"PYTHONPATH": path}, start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str]:
    try:
        out, _ = proc.communicate(timeout=timeout)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # whatever this session left behind
    return proc.returncode, out


def test_real_batch_end_to_end(tmp_path: Path) -> None:
    root = losses_class(tmp_path / "class", 6)
    code, out = finish(dlgrade("grade-batch", "--allow-weak-sandbox", str(root), "--db", str(tmp_path / "g.db"), "--jobs", "2",
                               "--feedback-dir", str(tmp_path / "fb")))
    assert code == 0, out
    assert "graded 6, skipped 0" in out and "4/6" in out  # 2 of 6 forgot 1/N
    with Gradebook(tmp_path / "g.db", create=False) as gb:
        assert gb.integrity_problems() == []
        by_student = {r.student: r for r in gb.current()}
    assert by_student["s001"].fully_correct and not by_student["s000"].fully_correct
    failed = {t.target for t in by_student["s000"].report.tests if t.status == "failed"}
    assert failed == {"mse"}
    feedback = (tmp_path / "fb" / "students" / "s000.md").read_text()
    assert "`mse`: lost" in feedback


def test_sigkill_mid_batch_loses_only_what_was_in_flight(tmp_path: Path) -> None:
    root, db = losses_class(tmp_path / "class", 16), tmp_path / "g.db"
    proc = slow_batch(root, db, delay=0.4)
    wait_until(lambda: graded_count(db) >= 4 or proc.poll() is not None)
    os.kill(proc.pid, signal.SIGKILL)
    code, _ = finish(proc)
    assert code == -signal.SIGKILL
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == []  # integrity_check ok, and every submission has all its results
        done = {(r.student, r.id, r.graded_at) for r in gb.current()}
    assert 4 <= len(done) < 16
    code, out = finish(dlgrade("grade-batch", "--allow-weak-sandbox", str(root), "--db", str(db), "--jobs", "2"))
    assert code == 0, out
    assert f"graded {16 - len(done)}, skipped {len(done)}" in out
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == [] and gb.count_submissions() == 16
        after = {(r.student, r.id, r.graded_at) for r in gb.current()}
    assert done <= after  # what was graded before the kill was not graded again


def test_two_batches_on_one_gradebook(tmp_path: Path) -> None:
    root, db = losses_class(tmp_path / "class", 10), tmp_path / "g.db"
    first = slow_batch(root, db, delay=0.3)
    wait_until(lambda: graded_count(db) >= 1 or first.poll() is not None)
    refused = dlgrade("grade-batch", "--allow-weak-sandbox", str(root), "--db", str(db))
    waiting = dlgrade("grade-batch", "--allow-weak-sandbox", str(root), "--db", str(db), "--wait", "120")
    code, out = finish(refused)
    assert code == 2, out
    assert f"{db} is in use by another grade-batch (pid {first.pid})" in out.replace("\n", "")
    code, out = finish(first)
    assert code == 0 and "graded 10, skipped 0" in out, out
    code, out = finish(waiting)
    assert code == 0 and "graded 0, skipped 10" in out, out  # waited, then found it all done
    with Gradebook(db, create=False) as gb:
        assert gb.integrity_problems() == [] and gb.count_submissions() == 10
