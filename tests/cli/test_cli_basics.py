"""The CLI's own face: help, version, list, and one line + exit 2 for every bad invocation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli import app
from grader import __version__
from grader.catalog import ASSIGNMENTS

runner = CliRunner()
DLGRADE = Path(sys.executable).with_name("dlgrade")


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert __version__ in result.output


def test_list_shows_all_six_assignments_and_their_stubs_ship() -> None:
    result = runner.invoke(app, ["list"], terminal_width=200)
    assert result.exit_code == 0
    for a in ASSIGNMENTS:
        assert a.name in result.output
        assert a.stub_path.is_file()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--bogus"], "No such option: --bogus"),
        (["check"], "Missing argument"),
        (["check", "nosuch"], "unknown assignment 'nosuch'"),
        (["list", "extra"], "unexpected extra argument"),
        (["quiz", "--n", "abc"], "Invalid value for '--n'"),
        (["grade", "/no/such/file.py"], "/no/such/file.py"),
        (["frobnicate"], "No such command"),
    ],
)
def test_bad_invocations_get_one_line_and_exit_2(args: list[str], words: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    assert lines[0].startswith("error:")
    assert words in lines[0]
    assert "Traceback" not in result.output


HELP_WITHOUT_TORCH = """
import sys
import cli
sys.argv = ["dlgrade", "--help"]
try:
    cli.app()
except SystemExit:
    pass
assert "torch" not in sys.modules, "torch was imported"
assert "numpy" not in sys.modules, "numpy was imported"
"""


def test_help_does_not_import_torch_or_numpy() -> None:
    result = subprocess.run([sys.executable, "-c", HELP_WITHOUT_TORCH], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "Usage" in result.stdout and "quiz" in result.stdout


def test_installed_console_script_runs() -> None:
    result = subprocess.run([str(DLGRADE), "list"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "backprop" in result.stdout


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch) -> None:
    """A defect of dlgrade's own still ends in one line (and exit 1), never a traceback."""
    import grader.catalog

    class Exploding:
        def __iter__(self):
            raise RuntimeError("the catalog broke")

    monkeypatch.setattr(grader.catalog, "ASSIGNMENTS", Exploding())
    result = runner.invoke(app, ["list"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "internal error: RuntimeError: the catalog broke" in result.output
    assert "AttributeError" not in result.output


@pytest.mark.parametrize("args", [["--help"], ["list"], ["quiz", "export", "--help"]])
def test_output_into_a_closed_pipe_ends_quietly(args: list[str]) -> None:
    """`dlgrade ... | head`: the reader is gone before dlgrade writes; no traceback follows."""
    proc = subprocess.Popen([str(DLGRADE), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # like `head` exiting: every write of dlgrade's now hits EPIPE
    stderr = proc.stderr.read().decode()
    code = proc.wait(timeout=60)
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert code in (0, 1, 141), (code, stderr)
