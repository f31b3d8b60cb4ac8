"""`dlgrade serve` as students and attackers meet it: a real server on a free local port."""

from __future__ import annotations

import hashlib
import http.client
import json
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from server_helpers import Server, cli_env, dlgrade, import_roster, start_server  # noqa: E402

STUDENTS = ["alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
            "victim"]
GOOD = b"import numpy as np\n\n\ndef mse(pred, target):\n    return float(np.mean((pred - target) ** 2))\n"
COURSE = """name = "Server test course"
[late_policy]
kind = "per_day"
percent = 10
cap = 50
[due]
losses = 2000-01-01T00:00:00Z
backprop = 2999-01-01T00:00:00Z
[server]
uploads_per_minute = 4
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    home = tmp_path_factory.mktemp("course")
    (home / "course.toml").write_text(COURSE)
    data = home / "server-data"
    tokens = import_roster(data, STUDENTS, home)
    srv = start_server(data, home, course=home / "course.toml", tokens=tokens)
    yield srv
    srv.stop()


def now() -> datetime:
    return datetime.now(timezone.utc)


def when(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_tokens_are_stored_only_as_salted_hashes(server: Server) -> None:
    roster = (server.data / "roster.json").read_text()
    assert not any(token.split(":")[1] in roster for token in server.tokens.values())
    assert (server.data / "roster.json").stat().st_mode & 0o077 == 0
    for tokens_file in server.data.glob("tokens-*.csv"):
        assert tokens_file.stat().st_mode & 0o077 == 0
    members = json.loads(roster)["members"]
    assert len({m["salt"] for m in members}) == len(members)  # one salt each


@pytest.mark.parametrize("header", [None, "Bearer", "Basic abc", "Bearer nonsense",
                                    "Bearer alice:" + "x" * 43, "Bearer nobody:" + "y" * 43])
def test_bad_tokens_are_refused_with_one_line(server: Server, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    status, body = server.call("PUT", "/api/submissions/losses", GOOD,
                               {"X-Dlgrade-Filename": "losses.py", **headers})
    assert status == 401, body
    assert "\n" not in body["detail"] and "token" in body["detail"]
    assert not (server.data / "files" / "alice").exists()


def test_repeated_failures_lock_the_id_out_even_for_the_right_token(server: Server) -> None:
    for _ in range(5):
        assert server.call("GET", "/api/whoami", token="victim:" + "z" * 43)[0] == 401
    status, body = server.call("GET", "/api/whoami", token=server.tokens["victim"])
    assert status == 429 and "too many failed token attempts" in body["detail"]
    # another student is not affected
    assert server.call("GET", "/api/whoami", token=server.tokens["bob"])[0] == 200


def test_nobody_hands_in_as_another_student(server: Server) -> None:
    status, body = server.upload("alice", "losses", GOOD, **{"X-Dlgrade-Student": "bob"})
    assert status == 403 and "belongs to 'alice', not 'bob'" in body["detail"]
    assert not (server.data / "files" / "bob").exists()
    status, body = server.upload("alice", "losses", GOOD)
    assert status == 201 and body["student"] == "alice"
    assert "bob" not in {r["student"] for r in server.call("GET", "/api/receipts",
                                                           token=server.tokens["alice"])[1]["receipts"]}
    # the instructor endpoints are not a student's
    status, body = server.call("GET", "/api/instructor/receipts", token=server.tokens["alice"])
    assert status == 403


def test_the_receipt_is_server_time_and_late_policy(server: Server) -> None:
    before = now()
    skewed = (now() - timedelta(days=400)).isoformat()
    status, late = server.upload("carol", "losses", GOOD, **{"X-Dlgrade-Client-Time": skewed})
    assert status == 201, late
    assert before - timedelta(seconds=5) <= when(late["received_at"]) <= now() + timedelta(seconds=5)
    assert late["sha256"] == hashlib.sha256(GOOD).hexdigest()
    assert late["lateness"]["late"] and late["lateness"]["penalty_percent"] == 50
    assert "late by" in late["lateness"]["summary"]
    assert "behind the server's" in late["clock_note"]
    # a client that claims to be early gets no credit for it either
    status, early = server.upload("carol", "backprop", b"def f():\n    return 1\n",
                                  filename="backprop.py",
                                  **{"X-Dlgrade-Client-Time": "1999-01-01T00:00:00Z"})
    assert status == 201 and not early["lateness"]["late"]
    assert when(early["received_at"]) >= before - timedelta(seconds=5)


def test_oversized_uploads_are_refused_before_reading(server: Server) -> None:
    big = b"# " + b"x" * (3 * 1024 * 1024) + b"\n"
    status, body = server.upload("dave", "losses", big)
    assert status == 413 and "limit" in body["detail"]
    # a chunked body (no Content-Length) is cut off as it passes the limit
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.putrequest("PUT", "/api/submissions/losses")
    conn.putheader("Authorization", f"Bearer {server.tokens['dave']}")
    conn.putheader("X-Dlgrade-Filename", "losses.py")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    try:
        for _ in range(48):
            chunk = b"#" * 65536 + b"\n"
            conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        conn.send(b"0\r\n\r\n")
    except OSError:
        pass  # the server may close the connection as soon as it has refused
    resp = conn.getresponse()
    assert resp.status == 413, resp.read()
    conn.close()
    assert not (server.data / "files" / "dave").exists()


@pytest.mark.parametrize("data, filename, status, words", [
    (b"x = '\xff\xfe caf\xe9'\n", "losses.py", 422, "not valid Python"),
    (bytes(range(256)) * 4, "losses.py", 422, "NUL bytes"),
    (b"def mse(pred, target):\nreturn 1\n", "losses.py", 422, "not valid Python (line 2)"),
    (b"(" * 200_000, "losses.py", 422, "losses.py"),
    (b"{not json", "losses.ipynb", 422, "not a Jupyter notebook"),
    (b"", "losses.py", 422, "empty"),
    (GOOD, "losses.txt", 415, "a .py or .ipynb file"),
    (GOOD, "../../reference/losses.py", 400, "plain name"),
    (GOOD, "sub/losses.py", 400, "plain name"),
    (GOOD, ".hidden.py", 400, "plain name"),
])
def test_uploads_that_are_not_python_are_refused(server: Server, data: bytes, filename: str,
                                                 status: int, words: str) -> None:
    got, body = server.upload("erin", "losses", data, filename=filename)
    assert got == status, body
    assert words in body["detail"] and "\n" not in body["detail"]
    assert not (server.data / "files" / "erin").exists()


def test_path_tricks_in_the_assignment_are_unknown_assignments(server: Server) -> None:
    for name in ("..%2F..%2Freference", "losses.py", "%2Fetc%2Fpasswd", "LOSSES"):
        status, body = server.call("PUT", f"/api/submissions/{name}", GOOD,
                                   {"X-Dlgrade-Filename": "losses.py"}, token=server.tokens["erin"])
        assert status == 404, (name, body)
    assert not (server.data / "files" / "erin").exists()


def test_a_notebook_is_accepted_when_its_code_parses(server: Server) -> None:
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
          "cells": [{"cell_type": "code", "id": "a1", "metadata": {}, "execution_count": None,
                     "outputs": [], "source": GOOD.decode()}]}
    status, body = server.upload("frank", "losses", json.dumps(nb).encode(), filename="losses.ipynb")
    assert status == 201, body
    assert (server.data / "files" / "frank" / "losses" / f"{body['sha256']}.ipynb").is_file()


def test_replays_and_retries_are_idempotent(server: Server) -> None:
    first = server.upload("grace", "losses", GOOD, **{"Idempotency-Key": "k-1"})
    assert first[0] == 201
    replay = server.upload("grace", "losses", GOOD, **{"Idempotency-Key": "k-1"})
    assert replay[0] == 200 and replay[1]["duplicate"]
    assert replay[1]["n"] == first[1]["n"] and replay[1]["received_at"] == first[1]["received_at"]
    forged = server.upload("grace", "losses", GOOD + b"# other\n", **{"Idempotency-Key": "k-1"})
    assert forged[0] == 409
    again = server.upload("grace", "losses", GOOD)  # a retry without a key: same bytes, same receipt
    assert again[0] == 200 and again[1]["n"] == first[1]["n"]
    receipts = server.call("GET", "/api/receipts", token=server.tokens["grace"])[1]["receipts"]
    assert len(receipts) == 1
    # a replay of a request from before a newer hand-in does not bring the old one back
    newer = server.upload("grace", "losses", GOOD + b"# v2\n", **{"Idempotency-Key": "k-2"})
    assert newer[0] == 201
    old = server.upload("grace", "losses", GOOD, **{"Idempotency-Key": "k-1"})
    assert old[0] == 200 and old[1]["n"] == first[1]["n"]
    receipts = server.call("GET", "/api/receipts", token=server.tokens["grace"])[1]["receipts"]
    assert [r["n"] for r in receipts] == [first[1]["n"], newer[1]["n"]]


def test_each_student_is_rate_limited(server: Server) -> None:
    codes = [server.upload("heidi", "losses", GOOD + f"# {i}\n".encode())[0] for i in range(6)]
    assert codes[:4] == [201] * 4 and codes[4:] == [429, 429]
    assert server.upload("ivan", "losses", GOOD)[0] == 201  # others are not held up


def test_feedback_is_refused_until_released(server: Server) -> None:
    status, body = server.call("GET", "/api/feedback/losses", token=server.tokens["alice"])
    assert status == 404 and "not been released" in body["detail"]


def test_rotating_a_token_locks_out_the_old_one(server: Server, tmp_path: Path) -> None:
    old = server.tokens["judy"]
    assert server.call("GET", "/api/whoami", token=old)[0] == 200
    done = dlgrade("roster", "rotate", "judy", "--data", str(server.data), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    new_file = re.search(r"(\S+tokens-\S+\.csv)", done.stdout.replace("\n", "")).group(1)
    new = Path(new_file).read_text().splitlines()[1].split(",")[-1]
    assert server.call("GET", "/api/whoami", token=old)[0] == 401
    assert server.call("GET", "/api/whoami", token=new)[1]["student"] == "judy"
    server.tokens["judy"] = new


def test_the_receipt_log_is_append_only_and_matches_the_files(server: Server) -> None:
    assert server.upload("frank", "backprop", b"x = 1\n", filename="backprop.py")[0] == 201
    lines = (server.data / "receipts.jsonl").read_text().splitlines()
    receipts = [json.loads(line) for line in lines]
    assert [r["n"] for r in receipts] == list(range(1, len(receipts) + 1))
    for r in receipts:
        path = server.data / r["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == r["sha256"]
        assert path.stat().st_mode & 0o077 == 0  # students' work is the server owner's only
    assert not list(server.data.rglob("*.tmp"))


def test_bad_cli_input_is_one_line(tmp_path: Path) -> None:
    env = cli_env(DLGRADE_CONFIG_DIR=str(tmp_path / "cfg"))
    (tmp_path / "losses.py").write_bytes(GOOD)
    done = dlgrade("submit", "losses", "losses.py", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "no course server configured" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = dlgrade("login", "--server", "ftp://x", "--token-file", "losses.py", cwd=tmp_path, env=env)
    assert done.returncode == 2 and "must look like" in done.stderr
    (tmp_path / "binary.tok").write_bytes(b"\xff\xfe")
    for bad in (str(tmp_path), "binary.tok"):
        done = dlgrade("login", "--server", "http://127.0.0.1:9", "--token-file", bad, cwd=tmp_path,
                       env=env)
        assert done.returncode == 2 and "cannot read the token" in done.stderr, done.stderr
    done = dlgrade("login", "--server", "http://127.0.0.1:9", "--token-file", "losses.py",
                   cwd=tmp_path, env=env)
    assert done.returncode == 2 and "not a dlgrade token" in done.stderr
    (tmp_path / "ok.tok").write_text("kim:" + "a" * 43 + "\n")
    done = dlgrade("login", "--server", "http://127.0.0.1:9", "--token-file", "ok.tok",
                   cwd=tmp_path, env=env)  # nothing listens on port 9
    assert done.returncode == 2 and "cannot reach the course server" in done.stderr
    assert not (tmp_path / "cfg" / "server.json").exists()
    done = dlgrade("serve", "--host", "0.0.0.0", "--data", str(tmp_path / "d"), cwd=tmp_path, env=env)
    assert done.returncode == 2 and "tokens would travel in clear" in done.stderr
    done = dlgrade("roster", "import", "nope.csv", "--data", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 2 and "no such file: nope.csv" in done.stderr
    (tmp_path / "bad.csv").write_text("id,name\nok,Ok\n../evil,Evil\n")
    done = dlgrade("roster", "import", "bad.csv", "--data", str(tmp_path / "d"), cwd=tmp_path)
    assert done.returncode == 2 and "bad.csv:3" in done.stderr and "invalid student id" in done.stderr
    assert not (tmp_path / "d" / "roster.json").exists()
