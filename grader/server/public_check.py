"""The optional public check on hand-in: run the public cases at once, tell the student.

A course turns it on with `public_check = true` under `[server]`. The receipt is written
first (the hand-in and its time never wait on grading); then the upload's answer waits
for a free slot (`public_check_jobs` at a time) and the public cases, and carries the
public score. When every slot stays busy past `QUEUE_SECONDS`, the answer says the check
was skipped: `dlgrade check` on the student's machine gives the same score. Results are
kept in `<data>/checks.jsonl` so `dlgrade status` shows them later.

Student code runs here, on the server, in the same sandbox as grading, with the data
folder (roster, token handouts, everyone's hand-ins) hidden from it.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

from grader.classroom.receipts import Receipt, iso, utc_now

CHECKS = "checks.jsonl"
QUEUE_SECONDS = 30.0


class PublicChecker:
    def __init__(self, data_dir: Path, jobs: int = 1, queue_seconds: float = QUEUE_SECONDS) -> None:
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / CHECKS
        self.slots = threading.BoundedSemaphore(jobs)
        self.queue_seconds = queue_seconds
        self._grader: Any = None
        self._lock = threading.Lock()
        self._results: dict[int, dict[str, Any]] = {}
        if self.path.exists():
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    entry = json.loads(line)
                    self._results[int(entry["n"])] = entry
                except (ValueError, KeyError, TypeError):
                    continue

    def _grader_once(self) -> Any:
        with self._lock:
            if self._grader is None:
                from grader.grading.grader import Grader

                self._grader = Grader(cases="visible", protect=[self.data_dir.resolve()])
            return self._grader

    def result(self, receipt: Receipt) -> dict[str, Any] | None:
        with self._lock:
            return self._results.get(receipt.n)

    def check(self, receipt: Receipt, path: Path) -> dict[str, Any]:
        """Run the public cases of one hand-in (or say why not); the result is kept."""
        if not self.slots.acquire(timeout=self.queue_seconds):
            return {"status": "busy", "message": "the server is busy; the public check was "
                                                 "skipped (dlgrade check gives the same score)"}
        try:
            report = self._grader_once().grade_file(path, receipt.assignment, receipt.student)
        except Exception as exc:  # the grader's own trouble must not turn into a refused hand-in
            return {"status": "error", "message": f"the public check could not run: {exc}"}
        finally:
            self.slots.release()
        entry = {"n": receipt.n, "sha256": receipt.sha256, "status": "done",
                 "score": report.score, "max_score": report.max_score,
                 "failed": [t.name for t in report.tests if t.status == "failed"],
                 "checked_at": iso(utc_now())}
        line = (json.dumps(entry, sort_keys=True) + "\n").encode()
        with self._lock:
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
            self._results[receipt.n] = entry
        return entry

    def close(self) -> None:
        with self._lock:
            if self._grader is not None:
                self._grader.close()
                self._grader = None
