"""The optional public check on hand-in: the public score in the receipt's answer."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from server_helpers import Server, cli_env, dlgrade, import_roster, start_server  # noqa: E402

from grader.catalog import ROOT  # noqa: E402

COURSE = """name = "Checked on hand-in"
[server]
public_check = true
public_check_jobs = 1
"""
SOLVED = (ROOT / "reference" / "losses.py").read_bytes()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("checked")
    (home / "course.toml").write_text(COURSE)
    data = home / "server-data"
    tokens = import_roster(data, ["kim", "lee", "moon"], home)
    srv = start_server(data, home, course=home / "course.toml", tokens=tokens,
                       extra=("--allow-weak-sandbox",))
    yield srv
    srv.stop()


def test_a_correct_hand_in_gets_the_full_public_score(server: Server) -> None:
    status, receipt = server.upload("kim", "losses", SOLVED)
    assert status == 201, receipt
    check = receipt["public_check"]
    assert check["status"] == "done" and check["score"] == check["max_score"] == 42
    assert check["failed"] == []
    again = server.upload("kim", "losses", SOLVED)[1]  # the same bytes: the kept result, no rerun
    assert again["duplicate"] and again["public_check"]["checked_at"] == check["checked_at"]


def test_a_wrong_function_loses_its_visible_cases_and_the_receipt_stands(server: Server) -> None:
    wrong = SOLVED.replace(b"def mse(", b"def _unused(", 1) + (
        b"\n\ndef mse(pred, target):\n    return 0.0\n")
    status, receipt = server.upload("lee", "losses", wrong)
    assert status == 201
    check = receipt["public_check"]
    assert check["score"] < 42 and check["failed"]
    assert all(name.startswith("mse") for name in check["failed"]), check["failed"]


def test_hostile_code_is_sandboxed_and_cannot_read_the_roster(server: Server) -> None:
    """A correct solution that first reads the roster: full marks if the read worked."""
    roster = server.data / "roster.json"
    future = b"from __future__ import annotations\n"
    assert future in SOLVED
    hostile = SOLVED.replace(future, future + b"TOKENS = open(" + repr(str(roster)).encode()
                             + b").read()\n", 1)
    status, receipt = server.upload("moon", "losses", hostile)
    assert status == 201, receipt  # handed in; its time recorded
    check = receipt["public_check"]
    assert check["status"] == "done" and check["score"] == 0, check
    listed = server.call("GET", "/api/receipts", token=server.tokens["moon"])[1]["receipts"]
    assert listed[0]["public_check"]["score"] == 0


def test_the_cli_shows_the_public_score(server: Server, tmp_path: Path) -> None:
    env = cli_env(DLGRADE_CONFIG_DIR=str(tmp_path / "cfg"))
    (tmp_path / "token.txt").write_text(server.tokens["kim"])
    assert dlgrade("login", "--server", server.url, "--token-file", "token.txt", cwd=tmp_path,
                   env=env).returncode == 0
    (tmp_path / "losses.py").write_bytes(SOLVED + b"\n# v2\n")
    done = dlgrade("submit", "losses", "losses.py", cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stderr
    assert "public cases: score 42/42" in done.stdout
    status = dlgrade("status", cwd=tmp_path, env=env)
    assert "42/42" in status.stdout


def test_without_bwrap_the_public_check_needs_an_opt_in(monkeypatch, tmp_path: Path) -> None:
    from grader.course import Course
    from grader.errors import UserError
    from grader.sandbox import bwrap
    from grader.server.serve import ServeOptions, check_sandbox

    broken = bwrap.BwrapStatus(path=None, working=False, detail="not installed")
    monkeypatch.setattr(bwrap, "status", lambda: broken)
    course = Course.model_validate({"server": {"public_check": True}})
    with pytest.raises(UserError, match="--allow-weak-sandbox"):
        check_sandbox(ServeOptions(data=tmp_path), course)
    warning = check_sandbox(ServeOptions(data=tmp_path, allow_weak_sandbox=True), course)
    assert warning.startswith("WARNING") and "without bwrap" in warning
    assert check_sandbox(ServeOptions(data=tmp_path), Course()) is None  # no check, no sandbox needed
