"""A real `dlgrade serve` on a free 127.0.0.1 port, started and stopped by the tests."""

from __future__ import annotations

import csv
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.catalog import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update(extra)
    return env


def dlgrade(*args: str, cwd: Path, env: dict[str, str] | None = None, stdin: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=cwd, env=env or cli_env(),
                          input=stdin, capture_output=True, text=True, timeout=timeout)


@dataclass
class Server:
    url: str
    port: int
    data: Path
    proc: subprocess.Popen[str]
    tokens: dict[str, str]

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)

    def call(self, method: str, path: str, body: bytes | None = None,
             headers: dict[str, str] | None = None, token: str | None = None
             ) -> tuple[int, Any]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        conn.request(method, path, body=body, headers=all_headers)
        resp = conn.getresponse()
        raw = resp.read()
        conn.close()
        try:
            return resp.status, json.loads(raw)
        except ValueError:
            return resp.status, raw.decode("utf-8", "replace")

    def upload(self, student: str, assignment: str, data: bytes, filename: str | None = None,
               **headers: str) -> tuple[int, Any]:
        h = {"X-Dlgrade-Filename": filename or f"{assignment}.py", **headers}
        return self.call("PUT", f"/api/submissions/{assignment}", data, h, token=self.tokens[student])


def import_roster(data: Path, students: list[str], cwd: Path) -> dict[str, str]:
    roster = cwd / "roster.csv"
    roster.write_text("id,name,email\n" + "".join(f"{s},{s.title()},{s}@example.edu\n" for s in students))
    done = dlgrade("roster", "import", str(roster), "--data", str(data), cwd=cwd)
    assert done.returncode == 0, done.stdout + done.stderr
    tokens_file = sorted(data.glob("tokens-*.csv"))[-1]
    with open(tokens_file, newline="") as f:
        return {row["id"]: row["token"] for row in csv.DictReader(f)}


def start_server(data: Path, cwd: Path, course: Path | None = None,
                 tokens: dict[str, str] | None = None, port: int | None = None,
                 extra: tuple[str, ...] = ()) -> Server:
    port = port or free_port()
    args = [sys.executable, "-m", "cli", "serve", "--data", str(data), "--port", str(port), *extra]
    if course is not None:
        args += ["--course", str(course)]
    proc = subprocess.Popen(args, cwd=cwd, env=cli_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    server = Server(f"http://127.0.0.1:{port}", port, data, proc, tokens or {})
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dlgrade serve exited: {proc.stdout.read() if proc.stdout else ''}")
        try:
            if server.call("GET", "/api/health")[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.stop(signal.SIGKILL)
    raise RuntimeError("dlgrade serve did not start in 60 s")
