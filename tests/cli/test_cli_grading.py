"""The grading commands of the CLI: check, grade, release, build-expected, doctor."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cli
from grader.catalog import ROOT
from grader.grading.results import Report, TestResult
from grader.ui.report import render

runner = CliRunner()
REFERENCE = ROOT / "reference" / "losses.py"


def invoke(*args: str):
    return runner.invoke(cli.app, list(args))


def test_grade_reference_json_scores_100():
    """The command of the issue, exactly, in a fresh process."""
    done = subprocess.run([sys.executable, "-m", "cli", "grade", "reference/losses.py", "--assignment",
                           "losses", "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)  # nothing but the JSON on stdout
    assert data["score"] == data["max_score"] == 100
    assert data["assignment"] == "losses" and data["student"] == "anonymous"
    assert len(data["sha256"]) == 64 and isinstance(data["execution_time"], float)
    test = data["tests"][0]
    assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility", "target"}
    assert {t["status"] for t in data["tests"]} == {"passed"}
    assert {t["visibility"] for t in data["tests"]} == {"visible", "hidden"}


def test_grade_the_stub_json_scores_0():
    result = invoke("grade", str(ROOT / "assignments" / "losses.py"), "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["score"] == 0
    assert all("not implemented" in t["output"] for t in data["tests"])


def test_grade_a_folder_prints_a_list(tmp_path):
    for student in ("ann", "ben"):
        (tmp_path / student).mkdir()
        (tmp_path / student / "losses.py").write_text(REFERENCE.read_text())
    result = invoke("grade", str(tmp_path), "--json", "--allow-weak-sandbox")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [(d["student"], d["score"]) for d in data] == [("ann", 100), ("ben", 100)]
    table = invoke("grade", str(tmp_path / "ann" / "losses.py"), "--student", "anna")
    assert table.exit_code == 0 and "anna" in table.stdout and "score 100/100" in table.stdout


def test_check_exit_codes_and_table():
    stub = invoke("check", "losses")
    assert stub.exit_code == 1
    assert "14 of 14 public cases failed" in stub.stdout
    assert "not implemented yet (14, 42 points): mse, mse_grad" in " ".join(stub.stdout.split())
    assert "mse_vector_outliers" not in stub.stdout  # hidden cases are not run by check
    right = invoke("check", "losses", "--file", str(REFERENCE))
    assert right.exit_code == 0 and "public cases 42/42" in right.stdout


@pytest.mark.parametrize("args", [["losses", str(REFERENCE)], [str(REFERENCE)]])
def test_check_takes_the_file_as_a_student_types_it(args):
    """`dlgrade check losses my.py` and `dlgrade check losses.py` check that file."""
    result = invoke("check", *args)
    assert result.exit_code == 0, result.output
    assert "public cases 42/42" in result.stdout


def test_messages_are_text_not_markup():
    """A student's exception text is shown as it is: it cannot restyle the report."""
    report = Report("losses", "eve", "0" * 64, "x.py", tests=[
        TestResult("mse_matrix", "mse", 0.0, 3.0, "failed",
                   "raised ValueError: [bold green]passed[/] 100/100", 0.01, "visible")])
    out = io.StringIO()
    render(report, Console(file=out, width=200, color_system=None))
    assert "[bold green]passed[/] 100/100" in out.getvalue()
    assert "score 0/3" in out.getvalue()


@pytest.mark.parametrize(("args", "phrase"), [
    (["grade", "missing.py"], "no such file"),
    (["grade", "reference/losses.py", "--assignment", "nope"], "unknown assignment 'nope'"),
    (["grade", "README.md"], "a submission is a"),
    (["grade", "assignments/quizzes"], "no submissions"),
    (["grade", "grader/catalog.py"], "cannot tell the assignment"),
    (["check", "nope"], "unknown assignment 'nope'"),
    (["check", "losses", "--file", "missing.py"], "no such file"),
    (["check", "losses", "missing.py"], "no such file"),
    (["check", "losses", "a.py", "--file", "b.py"], "two files given"),
    (["check", "notes.py"], "give it first, as in `losses notes.py`"),
    (["release", str(ROOT)], "contain the course tree"),
])
def test_bad_inputs_are_one_line_and_exit_2(args, phrase, monkeypatch):
    monkeypatch.chdir(ROOT)
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert phrase in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


@pytest.mark.parametrize("args", [["grade"], ["grade", "x.py", "--bogus"], ["check"],
                                  ["grade", "x.py", "--assignment"]])
def test_bad_flags_exit_2(args):
    result = invoke(*args)
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_build_expected_writes_the_shipped_files(tmp_path, monkeypatch):
    import grader.classroom.release

    monkeypatch.setattr(grader.classroom.release, "EXPECTED_DIR", tmp_path)
    result = invoke("build-expected")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "losses.json").is_file()
    assert "wrote" in result.stdout


def test_doctor_names_every_layer():
    result = invoke("doctor")
    assert result.exit_code == 0, result.output
    for layer in ("process isolation", "resource limits", "audit hook", "uid drop",
                  "allow-list file system", "private /tmp", "cgroup v2", "no network", "pid namespace", "bwrap", "numpy", "torch", "CUDA"):
        assert layer in result.stdout, layer


def test_help_does_not_import_torch_or_the_engine():
    done = subprocess.run([sys.executable, "-c", "import sys, cli; from typer.testing import CliRunner; "
                           "CliRunner().invoke(cli.app, ['--help']); "
                           "print('torch' in sys.modules, 'grader.grading.grader' in sys.modules)"],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stdout + done.stderr
