"""A class on two "machines": the server in one process, a student's CLI with its own config.

The student logs in, checks, submits and asks for feedback; the instructor grades from the
server's receipts (late policy on the server's time) and releases the feedback.
"""

from __future__ import annotations

import http.client
import json
import re
import shutil
import sqlite3
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from server_helpers import (  # noqa: E402
    Server,
    cli_env,
    dlgrade,
    free_port,
    import_roster,
    start_server,
)

from grader.catalog import ROOT  # noqa: E402

COURSE = """name = "Two machines"
[late_policy]
kind = "per_day"
percent = 10
cap = 50
[due]
losses = 2000-01-01T00:00:00Z
"""


def instructor_session(port: int, token: str) -> tuple[str, str]:
    """Log in through the dashboard's form: (cookie, csrf)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("POST", "/instructor/login", urllib.parse.urlencode({"token": token}),
                 {"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    resp.read()
    assert resp.status == 303, resp.status
    cookie = resp.getheader("set-cookie").split(";")[0]
    conn.request("GET", "/instructor", headers={"Cookie": cookie})
    page = conn.getresponse().read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    conn.close()
    return cookie, csrf


def test_login_check_submit_grade_release_feedback(tmp_path: Path) -> None:
    instructor = tmp_path / "instructor"
    instructor.mkdir()
    (instructor / "course.toml").write_text(COURSE)
    data = instructor / "server-data"
    tokens = import_roster(data, ["kim", "lee"], instructor)
    server = start_server(data, instructor, course=instructor / "course.toml", tokens=tokens)
    try:
        laptop = tmp_path / "laptop"
        laptop.mkdir()
        env = cli_env(DLGRADE_CONFIG_DIR=str(laptop / ".config"))
        (laptop / "token.txt").write_text(tokens["kim"] + "\n")
        (laptop / "losses.py").write_text((ROOT / "reference" / "losses.py").read_text())

        done = dlgrade("login", "--server", server.url, "--token-file", "token.txt", cwd=laptop, env=env)
        assert done.returncode == 0, done.stderr
        assert "as kim" in done.stdout
        saved = laptop / ".config" / "server.json"
        assert saved.stat().st_mode & 0o777 == 0o600

        done = dlgrade("check", "losses", "losses.py", cwd=laptop, env=env, timeout=300)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "public cases 42/42" in done.stdout

        done = dlgrade("submit", "losses", "losses.py", cwd=laptop, env=env)
        assert done.returncode == 0, done.stderr
        out = " ".join(done.stdout.split())
        assert "handed in losses as kim" in out and "(server time)" in out
        assert "late by" in out and "-50 %" in out

        done = dlgrade("status", cwd=laptop, env=env)
        assert done.returncode == 0 and "losses" in done.stdout and "late by" in done.stdout

        done = dlgrade("feedback", "losses", cwd=laptop, env=env)
        assert done.returncode == 2 and "not been released" in done.stderr

        # the instructor grades from the receipts
        receipt = json.loads((data / "receipts.jsonl").read_text().splitlines()[0])
        done = dlgrade("grade-batch", str(data), "--db", str(data / "gradebook.db"), "--course",
                       str(instructor / "course.toml"), "-j", "1", cwd=instructor, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        with sqlite3.connect(data / "gradebook.db") as db:
            row = db.execute("SELECT student, submitted_at, submitted_at_source, raw_score, score, "
                             "late_days FROM submissions").fetchone()
        assert row[0] == "kim" and row[2] == "receipt"
        assert row[1][:19] == receipt["received_at"][:19]
        assert row[3] == 100 and row[4] == 50 and row[5] > 0

        cookie, csrf = instructor_session(server.port, tokens["@instructor"])
        status, _ = server.call("POST", "/instructor/release/losses", b"csrf=forged",
                                {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 403
        status, _ = server.call("POST", "/instructor/release/losses",
                                urllib.parse.urlencode({"csrf": csrf}).encode(),
                                {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        assert status == 303

        done = dlgrade("feedback", "losses", cwd=laptop, env=env)
        assert done.returncode == 0, done.stderr
        assert "# Feedback for kim" in done.stdout and "50 / 100" in done.stdout
        # lee has no graded hand-in: nothing of kim's leaks to lee
        lee = laptop / "lee"
        lee.mkdir()
        (lee / "token.txt").write_text(tokens["lee"])
        lee_env = cli_env(DLGRADE_CONFIG_DIR=str(lee / ".config"))
        assert dlgrade("login", "--server", server.url, "--token-file", "token.txt", cwd=lee,
                       env=lee_env).returncode == 0
        done = dlgrade("feedback", "losses", cwd=lee, env=lee_env)
        assert done.returncode == 2 and "no graded hand-in of losses for lee" in done.stderr
    finally:
        server.stop()


def test_tls_with_certfile_and_keyfile(tmp_path: Path) -> None:
    """`serve --certfile/--keyfile` speaks TLS; a student trusts a self-signed CA with --cafile."""
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make a test certificate")
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    data = tmp_path / "server-data"
    tokens = import_roster(data, ["kim"], tmp_path)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--data", str(data), "--port",
                             str(port), "--certfile", str(cert), "--keyfile", str(key)],
                            cwd=tmp_path, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    server = Server(f"https://127.0.0.1:{port}", port, data, proc, tokens)
    try:
        (tmp_path / "token.txt").write_text(tokens["kim"])
        env = cli_env(DLGRADE_CONFIG_DIR=str(tmp_path / "cfg"))
        deadline = time.monotonic() + 60
        while True:  # wait for the port; the first login that works is the test
            done = dlgrade("login", "--server", server.url, "--token-file", "token.txt",
                           "--cafile", str(cert), cwd=tmp_path, env=env)
            if done.returncode == 0 or "cannot reach" not in done.stderr or time.monotonic() > deadline:
                break
            time.sleep(0.3)
        assert done.returncode == 0, done.stderr
        assert "as kim" in done.stdout
        # without the CA the certificate is not trusted: one line, exit 2
        done = dlgrade("login", "--server", server.url, "--token-file", "token.txt",
                       cwd=tmp_path, env=cli_env(DLGRADE_CONFIG_DIR=str(tmp_path / "cfg2")))
        assert done.returncode == 2 and "CERTIFICATE_VERIFY_FAILED" in done.stderr
        # plain HTTP to the TLS port gets nowhere
        done = dlgrade("login", "--server", f"http://127.0.0.1:{port}", "--token-file", "token.txt",
                       cwd=tmp_path, env=cli_env(DLGRADE_CONFIG_DIR=str(tmp_path / "cfg3")))
        assert done.returncode == 2
    finally:
        server.stop()
