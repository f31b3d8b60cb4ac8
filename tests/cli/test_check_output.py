"""What a student sees from `dlgrade check`: failures first at full width, an import failure
once with their own file name, what their code printed, the hidden points still to come."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

import cli
from grader.catalog import ROOT
from grader.grading.grader import Grader
from grader.grading.results import Report, TestResult
from grader.ui.report import render_check

runner = CliRunner()
REFERENCE = (ROOT / "reference" / "losses.py").read_text()
HINT = ("value differs; max abs error 104 (rtol 1e-07, atol 1e-09): got 121.723, expected 17.3889 — "
        "hint: every value is 7× the expected one: did you forget to divide by N (= 7)?")


def shown(report: Report, width: int = 80, hidden: float = 58) -> str:
    out = io.StringIO()
    render_check(report, Console(file=out, width=width, color_system=None), hidden_points=hidden)
    return out.getvalue()


def case(name: str, target: str, status: str = "passed", message: str = "", output: str = "") -> TestResult:
    return TestResult(name, target, 3.0 if status == "passed" else 0.0, 3.0, status, message, 0.01,
                      "visible", output=output)


def test_failures_come_first_with_the_whole_message_and_the_printed_output() -> None:
    report = Report("losses", "anonymous", "0" * 64, "work/my.py", tests=[
        case("l1_matrix", "l1"), case("mse_matrix", "mse", "failed", HINT, output="debug: (7, 2)\n"),
        case("softmax_moderate", "softmax")])
    text = shown(report)
    lines = text.splitlines()
    assert lines[0].startswith("dlgrade check · losses · file work/my.py · student anonymous")
    assert max(len(line.rstrip()) for line in lines) <= 80
    assert HINT in " ".join(text.split())  # the whole message, wrapped at full width, not cut
    assert text.index("FAILED mse_matrix") < text.index("passed: l1 1/1 · softmax 1/1")
    assert "your code printed:" in text and "│ debug: (7, 2)" in text
    assert text.rstrip().endswith("public cases 6/9 — hidden cases (58 points) are graded when you submit")
    wide = shown(report, width=200)
    assert max(len(line.rstrip()) for line in wide.splitlines()) <= 200 and HINT in wide


def test_an_import_failure_is_said_once() -> None:
    message = "could not import the submission: raised SyntaxError: '(' was never closed (syn.py, line 2)"
    report = Report("losses", "anonymous", "0" * 64, "syn.py",
                    tests=[case(f"c{i}", f"t{i}", "failed", message) for i in range(14)])
    text = shown(report)
    assert text.count("SyntaxError") == 1 and "syn.py line" not in text
    assert "syn.py could not be imported, so none of the 14 public cases ran" in text
    assert "(syn.py, line 2)" in text and "FAILED" not in text


@pytest.fixture(scope="module")
def grader():
    with Grader(cases="visible") as g:
        yield g


def test_a_syntax_error_names_the_students_own_file(grader: Grader, tmp_path: Path) -> None:
    bad = tmp_path / "syn.py"
    bad.write_text("import numpy as np\ndef mse(pred, target:\n    return 1\n")
    report = grader.grade_file(bad, "losses")
    assert {t.message for t in report.tests} == {
        "could not import the submission: raised SyntaxError: '(' was never closed (syn.py, line 2)"}


def test_what_the_code_printed_comes_back_capped_and_without_control_sequences(grader: Grader,
                                                                              tmp_path: Path) -> None:
    noisy = tmp_path / "my.py"
    body = "    return float(np.sum((target - pred) ** 2) / pred.shape[0])\n"
    assert body in REFERENCE
    noisy.write_text(REFERENCE.replace(body, "    print('shape', pred.shape, '\\x1b[2J\\x1b[31mred')\n"
                                             "    print('x' * 100000)\n" + body, 1))
    report = grader.grade_file(noisy, "losses")
    mse = next(t for t in report.tests if t.name == "mse_matrix")
    assert mse.status == "passed"  # printing never costs points
    assert mse.output.startswith("shape (7, 2) ?[2J?[31mred\n") and "\x1b" not in mse.output
    assert len(mse.output) == 4000  # capped
    assert next(t for t in report.tests if t.target == "l1").output == ""  # per case


def test_check_finds_the_assignment_file_from_the_repository_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = runner.invoke(cli.app, ["check", "losses.py"], env={"COLUMNS": "80"})
    assert result.exit_code == 1, result.output  # the stub: every case fails
    assert "file assignments/losses.py" in result.stdout


def test_list_never_cuts_the_file_column() -> None:
    result = runner.invoke(cli.app, ["list"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    for name in ("backprop", "autodiff", "losses", "optimizers", "mlp", "cuda_training"):
        assert f"assignments/{name}.py" in result.stdout
