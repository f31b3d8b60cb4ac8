"""The deadline rush: a class hands in within a minute; then the server is killed mid-upload.

    .venv/bin/python benchmarks/deadline_rush.py                  # 300 students, 60 s window
    .venv/bin/python benchmarks/deadline_rush.py --students 50 --window 10

A real `dlgrade serve` on a free 127.0.0.1 port, its own data folder in a temporary
directory, a roster of N students. Each student starts at a random moment in the window
(bounded concurrency: --clients threads), hands in, and some hand in again: the same
bytes (a double click) or a new version. Checked: no hand-in lost (each student's last
version is the server's current one, with a receipt for every acknowledged upload), none
duplicated (one receipt per distinct version; a repeat of the same bytes is answered with
the earlier receipt), every stored file matches its sha256. Printed: p50/p99 latency of a
hand-in, throughput, and the server's memory (RSS now, and its peak).

Then the faults: uploads in flight, `kill -9` of the server at a random moment (and one
upload cut off halfway through its body), a restart on the same data folder: every
receipt acknowledged before the kill is served again, no partial file is ever visible
(every file under files/ has the sha256 its name says, no temp file is left), and each
retried upload (same idempotency key) is accepted exactly once.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BODY = "import numpy as np\n\n\ndef mse(pred, target):\n    return float(np.mean((pred - target) ** 2))\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def start(data: Path, port: int, course: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--data", str(data), "--port",
                             str(port), "--course", str(course)], cwd=data.parent, env=env(),
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/api/health")
            if conn.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the server did not start")


def put(port: int, token: str, student: str, body: bytes, key: str, timeout: float = 60
        ) -> tuple[int, dict]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request("PUT", "/api/submissions/losses", body=body, headers={
        "Authorization": f"Bearer {token}", "X-Dlgrade-Filename": "losses.py",
        "X-Dlgrade-Student": student, "Idempotency-Key": key})
    resp = conn.getresponse()
    data = json.loads(resp.read() or b"{}")
    conn.close()
    return resp.status, data


def rss_kib(pid: int) -> tuple[int, int]:
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
                  if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def load_receipts(data: Path) -> list[dict]:
    out = []
    for line in (data / "receipts.jsonl").read_text().splitlines():
        with contextlib.suppress(ValueError):  # a torn line fenced off after a kill
            out.append(json.loads(line))
    return out


def check_files(data: Path) -> tuple[int, int]:
    """(files whose content matches their name, temp files seen)."""
    good = temps = 0
    for path in (data / "files").rglob("*"):
        if path.is_file():
            if path.name.startswith("."):
                temps += 1
            else:
                assert hashlib.sha256(path.read_bytes()).hexdigest() == path.stem, f"partial {path}"
                good += 1
    return good, temps


def rush(port: int, tokens: dict[str, str], window: float, clients: int, seed: int
         ) -> tuple[list[float], dict[str, str], dict[str, set[str]], int]:
    """Every student hands in at a random moment; some again. Returns latencies, each
    student's last version, the versions each student handed in, and the failures."""
    rng = random.Random(seed)
    plans = []
    for student in tokens:
        versions = [f"{BODY}# {student} v1\n"]
        roll = rng.random()
        if roll < 0.2:
            versions.append(f"{BODY}# {student} v2\n")  # a fix just before the deadline
        elif roll < 0.3:
            versions.append(versions[0])  # the same file again: a double click
        plans.append((rng.uniform(0, window), student, versions))
    plans.sort()
    latencies: list[float] = []
    failures = 0
    lock = threading.Lock()
    began = time.monotonic()

    def student_run(plan: tuple[float, str, list[str]]) -> None:
        nonlocal failures
        at, student, versions = plan
        delay = began + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        for version in versions:
            key = uuid.uuid4().hex
            for _attempt in range(5):
                t0 = time.perf_counter()
                try:
                    status, _ = put(port, tokens[student], student, version.encode(), key)
                except OSError:
                    time.sleep(0.2)
                    continue
                with lock:
                    latencies.append(time.perf_counter() - t0)
                if status in (200, 201):
                    break
                time.sleep(0.5)
            else:
                with lock:
                    failures += 1

    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(student_run, plans))
    last = {student: versions[-1] for _, student, versions in plans}
    distinct = {student: set(versions) for _, student, versions in plans}
    return latencies, last, distinct, failures


def faults(data: Path, port: int, course: Path, tokens: dict[str, str], seed: int) -> None:
    rng = random.Random(seed)
    proc = start(data, port, course)
    before = {r["n"] for r in load_receipts(data)}
    students = list(tokens)[:60]
    acked: dict[str, dict] = {}
    sent: dict[str, tuple[str, bytes]] = {}
    lock = threading.Lock()

    # one upload cut off halfway: headers and half the body, then the server dies
    victim = students[0]
    half = socket.create_connection(("127.0.0.1", port))
    big = (BODY + "#" * 1_500_000 + "\n").encode()
    half.sendall(f"PUT /api/submissions/losses HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                 f"{tokens[victim]}\r\nX-Dlgrade-Filename: losses.py\r\nContent-Length: "
                 f"{len(big)}\r\n\r\n".encode() + big[: len(big) // 2])

    def one(student: str) -> None:
        body = f"{BODY}# {student} after the rush {rng.random()}\n".encode()
        key = uuid.uuid4().hex
        with lock:
            sent[student] = (key, body)
        try:
            status, receipt = put(port, tokens[student], student, body, key, timeout=10)
        except OSError:
            return
        if status == 201:
            with lock:
                acked[student] = receipt

    threads = [threading.Thread(target=one, args=(s,)) for s in students[1:]]
    for t in threads:
        t.start()
        time.sleep(rng.uniform(0, 0.004))
    deadline = time.monotonic() + 10
    while len(acked) < len(threads) // 3 and time.monotonic() < deadline:
        time.sleep(0.001)  # some answered, others still in flight
    proc.send_signal(signal.SIGKILL)  # kill -9, in the middle of the traffic
    proc.wait()
    for t in threads:
        t.join()
    half.close()
    in_flight = len(students) - 1 - len(acked)

    proc = start(data, port, course)  # restart on the same data folder
    after = load_receipts(data)
    served = {r["n"] for r in after}
    lost = [s for s, r in acked.items() if r["n"] not in served]
    good_files, temps = check_files(data)
    victim_files = list((data / "files" / victim).rglob("*")) if (data / "files" / victim).exists() else []
    victim_partial = [p for p in victim_files if p.is_file() and len(p.read_bytes()) < len(big)
                      and hashlib.sha256(p.read_bytes()).hexdigest() != p.stem]
    # every receipt acknowledged before the kill is served again after the restart
    conn_ok = all(
        any(r["n"] == acked[s]["n"] for r in json.loads(_get(port, tokens[s], "/api/receipts"))["receipts"])
        for s in acked)
    # retry every upload with its own key: acknowledged ones are duplicates, the rest accepted once
    dup = new = other = 0
    for student, (key, body) in sent.items():
        status, receipt = put(port, tokens[student], student, body, key)
        if status == 200 and receipt["duplicate"]:
            dup += 1
        elif status == 201:
            new += 1
        else:
            other += 1
        status2, again = put(port, tokens[student], student, body, key)
        assert status2 == 200 and again["n"] == receipt["n"], "a retry was accepted twice"
    final = load_receipts(data)
    per_version: dict[tuple[str, str], int] = {}
    for r in final:
        if r["n"] not in before:
            per_version[(r["student"], r["sha256"])] = per_version.get((r["student"], r["sha256"]), 0) + 1
    doubles = [k for k, v in per_version.items() if v > 1]
    proc.send_signal(signal.SIGTERM)
    proc.wait(10)
    print("\nkill -9 mid-upload, restart, retry")
    print(f"  uploads in flight: {len(students)}, acknowledged before the kill: {len(acked)}, "
          f"cut off: {in_flight} (plus one half-sent 1.5 MB body)")
    print(f"  acknowledged receipts lost after restart: {len(lost)}; all served to their students: {conn_ok}")
    print(f"  files under files/: {good_files}, each matching its sha256; temp files left: {temps}; "
          f"partial file of the cut-off upload: {len(victim_partial)}")
    print(f"  retries with the same key: {dup} answered with the earlier receipt, {new} accepted "
          f"now, {other} refused; a second retry changed nothing; versions with two receipts: {len(doubles)}")
    if lost or not conn_ok or temps or victim_partial or other or doubles:
        raise SystemExit("FAULT CHECK FAILED")


def _get(port: int, token: str, path: str) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
    return conn.getresponse().read().decode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--window", type=float, default=60.0, help="seconds the hand-ins spread over")
    parser.add_argument("--clients", type=int, default=32, help="concurrent connections at most")
    parser.add_argument("--seed", type=int, default=14)
    args = parser.parse_args()

    from grader.server.roster import import_roster

    with tempfile.TemporaryDirectory(prefix="dlgrade-rush-") as tmp:
        home = Path(tmp)
        course = home / "course.toml"
        roster = home / "roster.csv"
        roster.write_text("id,name,email\n" + "".join(f"s{i:04d},S {i},s{i}@x\n"
                                                      for i in range(args.students)))
        data = home / "server-data"
        t0 = time.perf_counter()
        done = import_roster(data, roster)
        with open(done.tokens_file, newline="") as f:
            tokens = {r["id"]: r["token"] for r in csv.DictReader(f) if not r["id"].startswith("@")}
        print(f"roster of {len(tokens)} imported in {time.perf_counter() - t0:.1f} s (one scrypt each)")

        due = datetime.now(timezone.utc) + timedelta(seconds=2 + args.window / 2)
        course.write_text(f'name = "rush"\n[late_policy]\nkind = "per_day"\npercent = 10\n'
                          f'[due]\nlosses = {due.isoformat()}\n')  # half the class is late
        port = free_port()
        proc = start(data, port, course)
        rss0, _ = rss_kib(proc.pid)
        t0 = time.perf_counter()
        latencies, last, distinct, failures = rush(port, tokens, args.window, args.clients, args.seed)
        wall = time.perf_counter() - t0
        rss1, peak = rss_kib(proc.pid)
        proc.send_signal(signal.SIGTERM)
        proc.wait(10)

        receipts = load_receipts(data)
        current: dict[str, dict] = {}
        per_student: dict[str, list[dict]] = {}
        for r in receipts:
            current[r["student"]] = r
            per_student.setdefault(r["student"], []).append(r)
        lost = [s for s, body in last.items()
                if s not in current or current[s]["sha256"] != hashlib.sha256(body.encode()).hexdigest()]
        duplicated = [s for s, rs in per_student.items() if len(rs) != len(distinct[s])]
        good_files, temps = check_files(data)
        late = sum(1 for r in current.values() if datetime.fromisoformat(
            r["received_at"].replace("Z", "+00:00")) > due)
        ms = sorted(x * 1000 for x in latencies)
        p99 = ms[min(len(ms) - 1, int(0.99 * len(ms)))]
        print(f"\n{len(tokens)} students, {len(latencies)} requests in {wall:.1f} s "
              f"(window {args.window:g} s, at most {args.clients} at once)")
        print(f"  receipts: {len(receipts)}; lost hand-ins: {len(lost)}; duplicated: {len(duplicated)}; "
              f"failed requests: {failures}; late (server time): {late}")
        print(f"  files: {good_files}, each matching its sha256; temp files: {temps}")
        print(f"  latency per hand-in: p50 {statistics.median(ms):.0f} ms, p99 {p99:.0f} ms, "
              f"max {ms[-1]:.0f} ms")
        print(f"  server RSS: {rss0 / 1024:.0f} MiB at start, {rss1 / 1024:.0f} MiB after, "
              f"peak {peak / 1024:.0f} MiB")
        if lost or duplicated or failures or temps:
            raise SystemExit("RUSH CHECK FAILED")
        faults(data, free_port(), course, tokens, args.seed)


if __name__ == "__main__":
    main()
