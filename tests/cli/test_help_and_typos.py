"""Small things a new user meets first: a typo gets a suggestion, --help labels no flag's value."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from cli import app

runner = CliRunner()


@pytest.mark.parametrize(("args", "suggestion"), [
    (["check", "losess"], "did you mean 'losses'?"),
    (["grade", "x.py", "--assignment", "backprob"], "did you mean 'backprop'?"),
    (["submit", "optimisers", "--student", "kim"], "did you mean 'optimizers'?"),
])
def test_a_mistyped_assignment_gets_a_suggestion(args: list[str], suggestion: str) -> None:
    result = runner.invoke(app, args, env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert suggestion in result.output and "choose from:" in result.output


def test_no_suggestion_for_something_else_entirely() -> None:
    result = runner.invoke(app, ["check", "zzz"], env={"COLUMNS": "200"})
    assert result.exit_code == 2 and "did you mean" not in result.output


@pytest.mark.parametrize("command", [["grade"], ["submit"], ["grade-batch"], ["gradebook", "export"],
                                     ["gradebook", "override"], ["quiz", "run"]])
def test_flags_have_no_value_label_in_help(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "<bool>" not in result.output
    assert "--help" in result.output
