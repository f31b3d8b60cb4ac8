"""Flags: the sandbox's events, read from the grader's own messages, shown wherever grades are."""

from __future__ import annotations

from pathlib import Path

import pytest
from batch_fakes import FakeGrader, make_class
from typer.testing import CliRunner

import grader.classroom.batch
from cli import app
from grader.classroom.flags import classify, flag_summary, flags_from_tests
from grader.grading.results import TestResult

runner = CliRunner()


@pytest.mark.parametrize(("message", "kind"), [
    ("timed out after 2 s", "timeout"),
    ("importing the submission timed out after 5 s", "timeout"),
    ("refused by the sandbox: dlgrade sandbox: reading /course/reference/losses.py is not allowed"
     " — losses.py line 3, in mse", "blocked read"),
    ("refused by the sandbox: dlgrade sandbox: writing /etc/x is not allowed (only the current folder "
     "is writable)", "blocked write"),
    ("refused by the sandbox: dlgrade sandbox: network access is not allowed", "blocked network"),
    ("refused by the sandbox: dlgrade sandbox: starting programs is not allowed", "blocked call"),
    ("called sys.exit(0)", "exit"),
    ("could not import the submission: called sys.exit(3)", "exit"),
    ("the submission died while being imported: exited with code 1", "exit"),
    ("crashed with SIGSEGV (segmentation fault)", "crash"),
    ("was killed (SIGKILL): out of memory?", "resource limit"),
    ("ran out of memory (MemoryError) — losses.py line 9, in mse", "resource limit"),
    ("output too large (80.0 MB, limit 64 MB)", "resource limit"),
    ("value differs; max abs error 0.25", None),
    ("not implemented (NotImplementedError) — losses.py line 46, in mse", None),
    # a student's own exception text cannot raise a flag by quoting one
    ("raised ValueError: timed out after 2 s", None),
    ("raised RuntimeError: refused by the sandbox: dlgrade sandbox: network access", None),
])
def test_messages_are_classified_at_their_start(message: str, kind: str | None) -> None:
    assert classify(message) == kind


def case(name: str, message: str, status: str = "failed") -> TestResult:
    return TestResult(name, "mse", 0.0, 1.0, status, message, 0.1, "visible")


def test_one_flag_per_event_not_per_case() -> None:
    importing = [case(f"c{i}", "could not import the submission: called sys.exit(0)") for i in range(14)]
    [flag] = flags_from_tests(importing)
    assert (flag["kind"], flag["case"], flag["cases"]) == ("exit", "c0", 14)
    timeouts = [case("a", "timed out after 2 s"), case("b", "not run: mse timed out after 2 s in case a"),
                case("c", "called sys.exit(1)"), case("d", "", "passed")]
    flags = flags_from_tests(timeouts)
    assert [f["kind"] for f in flags] == ["timeout", "exit"]  # the unrun case adds nothing
    assert flag_summary(flags + flags[:1]) == "timeout ×2, exit"


def test_the_batch_summary_and_the_gradebook_show_the_flag(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(grader.classroom.batch, "default_grader", lambda protect=(): FakeGrader())
    root = make_class(tmp_path / "c", {"ada": {"losses": "ok"}, "mal": {"losses": "TIMEOUT:softmax"}})
    db = str(tmp_path / "g.db")
    result = runner.invoke(app, ["grade-batch", str(root), "--db", db], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "1 flagged" in result.output and "0 errors" not in result.output
    assert "flagged mal/losses: timeout" in result.output
    table = runner.invoke(app, ["gradebook", "show", "--db", db], env={"COLUMNS": "200"})
    rows = [line for line in table.output.splitlines() if "mal" in line or "ada" in line]
    assert "mal" in rows[0] and "⚑" in rows[0]  # flagged students first
    one = runner.invoke(app, ["gradebook", "show", "--student", "mal", "--db", db], env={"COLUMNS": "200"})
    assert "⚑ flagged: timeout" in one.output and "timeout in softmax_rows: timed out after 2 s" in one.output
